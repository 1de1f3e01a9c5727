#include "cli/validate_command.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/common_options.h"
#include "cli/pipeline_flags.h"
#include "common/text.h"
#include "event/parser.h"

namespace posflow::cli {
namespace {

struct ValidateFlags {
  std::string input;
  std::string format = "auto";
  bool quiet = false;
  size_t max_message_bytes = 1 << 20;
  ValidationFlags validation;
};

struct Tally {
  size_t messages = 0;
  size_t valid = 0;
  std::map<std::string, size_t> by_code;  // messages having each code
};

class Validator {
 public:
  Validator(const ValidateFlags& flags, std::FILE* out)
      : flags_(flags), parser_(flags.validation.Resolve(flags.max_message_bytes)), out_(out) {}

  void Check(std::string_view message, const std::string& where) {
    ++tally_.messages;
    if (parser_.Parse(message, &transaction_, &problems_)) {
      ++tally_.valid;
      if (!flags_.quiet) {
        line_ = where + ": valid " + EscapeControlChars(transaction_.transaction_id) + "\n";
        Write(line_);
      }
      return;
    }
    line_ = where + ": invalid:";
    codes_.clear();
    for (const event::Problem& problem : problems_) {
      // Codes and messages quote the message's own bytes: nothing may drive the terminal.
      line_ += " [" + EscapeControlChars(problem.code) + "] " +
               EscapeControlChars(problem.message) + ";";
      // A message counts once per code, however many of its lines share it.
      if (std::find(codes_.begin(), codes_.end(), problem.code) == codes_.end()) {
        codes_.push_back(problem.code);
        ++tally_.by_code[problem.code];
      }
    }
    line_.back() = '\n';
    Write(line_);
  }

  const Tally& tally() const { return tally_; }

 private:
  void Write(const std::string& text) { std::fwrite(text.data(), 1, text.size(), out_); }

  const ValidateFlags& flags_;
  event::Parser parser_;
  std::FILE* out_;
  event::Transaction transaction_;
  std::vector<event::Problem> problems_;
  std::string line_;
  std::vector<std::string> codes_;  // of the current message
  Tally tally_;
};

bool IsBlank(const std::string& line) {
  return line.find_first_not_of(" \t\r\n") == std::string::npos;
}

// Auto: NDJSON when the first non-blank line is a whole object by itself.
bool LooksLikeNdjson(const std::string& first_line) {
  const size_t begin = first_line.find_first_not_of(" \t\r");
  const size_t end = first_line.find_last_not_of(" \t\r");
  return begin != std::string::npos && first_line[begin] == '{' && first_line[end] == '}';
}

int RunValidate(const ValidateFlags& flags) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (flags.input != "-") {
    file.open(flags.input, std::ios::binary);
    if (!file) {
      return ReportFailure("validate", Status::InvalidArgument("cannot read " + flags.input));
    }
    in = &file;
  }
  const std::string name = flags.input == "-" ? "stdin" : flags.input;
  Validator validator(flags, stdout);

  std::string line;
  size_t line_number = 0;
  // Skip leading blank lines, then decide the format from the first real line.
  while (std::getline(*in, line)) {
    ++line_number;
    if (!IsBlank(line)) break;
  }
  const bool ndjson =
      flags.format == "ndjson" || (flags.format == "auto" && LooksLikeNdjson(line));
  if (!ndjson) {
    std::stringstream whole;
    whole << line << '\n' << in->rdbuf();
    const std::string document = whole.str();
    if (!IsBlank(document)) validator.Check(document, name);
  } else if (!IsBlank(line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    validator.Check(line, "line " + std::to_string(line_number));
    while (std::getline(*in, line)) {
      ++line_number;
      if (IsBlank(line)) continue;
      if (line.back() == '\r') line.pop_back();
      validator.Check(line, "line " + std::to_string(line_number));
    }
  }
  if (in->bad()) {
    return ReportFailure("validate", Status::IoError("reading " + name + " failed"));
  }

  const Tally& tally = validator.tally();
  std::fflush(stdout);
  std::cout << "summary: " << tally.messages << " messages, " << tally.valid << " valid, "
            << tally.messages - tally.valid << " invalid\n";
  for (const auto& [code, count] : tally.by_code) {
    std::cout << "  " << EscapeControlChars(code) << ": " << count << "\n";
  }
  std::cout.flush();
  if (tally.messages == 0) {
    std::cerr << "posflow validate: error: no message in " << name << std::endl;
    return kExitFailure;
  }
  return tally.valid == tally.messages ? kExitOk : kExitFailure;
}

}  // namespace

void RegisterValidateCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<ValidateFlags>();
  CLI::App* command = app.add_subcommand(
      "validate",
      "Check POS messages (NDJSON, one per line, or one JSON document) against the event "
      "rules; print a verdict per message and a summary by reason code. Exit 0 only if all "
      "are valid.");
  command->add_option("input", flags->input, "file to check, or - for standard input")
      ->required();
  command->add_option("--format", flags->format, "auto, ndjson or json (one document)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "ndjson", "json"}));
  command->add_flag("-q,--quiet", flags->quiet, "print only invalid messages and the summary");
  command->add_option("--max-message-bytes", flags->max_message_bytes,
                      "larger messages are invalid (message.too_large)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 30));
  AddValidationFlags(command, &flags->validation);
  command->callback([flags, run] { *run = [flags] { return RunValidate(*flags); }; });
}

}  // namespace posflow::cli
