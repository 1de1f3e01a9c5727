#include "cli/dlq_command.h"

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/common_options.h"
#include "cli/pipeline_flags.h"
#include "common/text.h"
#include "event/transaction.h"
#include "ops/dead_letters.h"
#include "pg/connection.h"
#include "pipeline/dlq_job.h"

namespace posflow::cli {
namespace {

struct DlqFlags {
  ConfigSources sources;
  ops::DeadLetterFilter filter;
  std::string format = "table";
  std::int64_t id = 0;
  bool raw = false;
  std::vector<std::int64_t> ids;
  bool all = false;
  std::string payload_file;
  std::size_t max_message_bytes = 1u << 20;
  ValidationFlags validation;
};

std::string Joined(const std::vector<std::string>& values) {
  std::string text;
  for (const auto& value : values) text += (text.empty() ? "" : ",") + value;
  return text;
}

std::string JsonString(std::string_view text) {
  std::string json;
  event::AppendJsonString(text, &json);
  return json;
}

int List(const DlqFlags& flags) {
  auto config = LoadConfig(flags.sources);
  if (!config.ok()) return ReportFailure("dlq list", config.status());
  auto connection = pg::Connection::Open(pg::OptionsFromConfig(*config));
  if (!connection.ok()) return ReportFailure("dlq list", connection.status());
  auto letters = ops::ListDeadLetters(*connection, flags.filter);
  if (!letters.ok()) return ReportFailure("dlq list", letters.status());
  if (flags.format == "json") {
    std::cout << "[";
    for (size_t i = 0; i < letters->size(); ++i) {
      const auto& letter = (*letters)[i];
      std::cout << (i > 0 ? ",\n " : "") << "{\"id\":" << letter.id
                << ",\"topic\":" << JsonString(letter.topic) << ",\"partition\":" << letter.partition
                << ",\"offset\":" << letter.offset << ",\"stage\":" << JsonString(letter.stage)
                << ",\"bytes\":" << letter.payload_bytes
                << ",\"reasons\":" << JsonString(Joined(letter.reasons))
                << ",\"first_seen_at\":" << JsonString(letter.first_seen_at)
                << ",\"replayed_at\":" << JsonString(letter.replayed_at)
                << ",\"payload_purged_at\":" << JsonString(letter.payload_purged_at) << "}";
    }
    std::cout << "]\n";
    return kExitOk;
  }
  std::cout << "id\tstage\ttopic/partition/offset\tbytes\tfirst_seen_at\treasons\n";
  for (const auto& letter : *letters) {
    std::cout << letter.id << "\t" << letter.stage << "\t" << letter.topic << "/"
              << letter.partition << "/" << letter.offset << "\t" << letter.payload_bytes << "\t" << letter.first_seen_at
              << "\t" << EscapeControlChars(Joined(letter.reasons))
              << (letter.replayed_at.empty() ? "" : "\t(replayed " + letter.replayed_at + ")")
              << (letter.purged() ? "\t(payload purged " + letter.payload_purged_at + ")" : "")
              << "\n";
  }
  std::cerr << letters->size() << " dead letters" << std::endl;
  return kExitOk;
}

int Show(const DlqFlags& flags) {
  auto config = LoadConfig(flags.sources);
  if (!config.ok()) return ReportFailure("dlq show", config.status());
  auto connection = pg::Connection::Open(pg::OptionsFromConfig(*config));
  if (!connection.ok()) return ReportFailure("dlq show", connection.status());
  auto letter = ops::GetDeadLetter(*connection, flags.id);
  if (!letter.ok()) return ReportFailure("dlq show", letter.status());
  // Past the dead-letter retention `posflow maintain` erases the bytes; the row stays.
  const std::string purged_note =
      letter->purged() ? "purged at " + letter->payload_purged_at + " (" +
                             std::to_string(letter->purged_payload_bytes) +
                             " bytes, past the dead-letter retention): the raw bytes are gone"
                       : "";
  if (flags.raw) {
    if (letter->purged()) {
      return ReportFailure("dlq show", Status::FailedPrecondition(
                                           "dead letter " + std::to_string(letter->id) +
                                           ": payload " + purged_note));
    }
    std::cout << letter->payload;
    return kExitOk;
  }
  std::cout << "id:            " << letter->id << "\n"
            << "stage:         " << letter->stage
            << (letter->stage == "etl" ? " (payload: the staged row PostgreSQL refused to load)"
                                       : "")
            << "\n"
            << "source:        " << letter->topic << " partition " << letter->partition
            << " offset " << letter->offset << "\n"
            << "key:           " << letter->key << "\n"
            << "first seen:    " << letter->first_seen_at << "\n"
            << "replayed:      "
            << (letter->replayed_at.empty() ? "no" : letter->replayed_at + " as " + letter->replayed_as)
            << "\n"
            << "reasons:       " << Joined(letter->reasons) << "\n"
            << "details:\n  " << letter->details << "\n";
  if (letter->purged()) {
    std::cout << "payload:       " << purged_note << "\n";
    return kExitOk;
  }
  // Hostile bytes stay inert on a terminal: control characters (but newline and tab) and bytes
  // that are not UTF-8 are shown as \xNN; --raw prints the bytes as they are.
  std::cout << "payload (" << letter->payload_bytes << " bytes";
  const bool cut = letter->payload.size() > 4096;
  std::cout << (cut ? ", first 4096; --raw for all):\n" : "):\n")
            << EscapeControlBytes(std::string_view(letter->payload).substr(0, 4096)) << "\n";
  return kExitOk;
}

int Replay(const DlqFlags& flags) {
  auto config = LoadConfig(flags.sources);
  if (!config.ok()) return ReportFailure("dlq replay", config.status());
  if (flags.ids.empty() && !flags.all && flags.filter.reason_prefix.empty()) {
    return ReportFailure("dlq replay", Status::InvalidArgument(
                                           "say which: dead letter ids, --reason CODE, or --all"));
  }
  pipeline::ReplayRequest request;
  request.ids = flags.ids;
  request.filter = flags.filter;
  request.max_message_bytes = flags.max_message_bytes;
  request.validation = flags.validation.Resolve(flags.max_message_bytes);
  if (!flags.payload_file.empty()) {
    std::ifstream in(flags.payload_file, std::ios::binary);
    if (!in) {
      return ReportFailure("dlq replay",
                           Status::InvalidArgument("cannot read " + flags.payload_file));
    }
    std::stringstream text;
    text << in.rdbuf();
    request.payload_override = text.str();
  }
  auto outcomes = pipeline::ReplayDeadLetters(*config, request);
  if (!outcomes.ok()) return ReportFailure("dlq replay", outcomes.status());
  std::size_t staged = 0, duplicates = 0, still_invalid = 0;
  for (const auto& outcome : *outcomes) {
    if (outcome.staged) {
      ++staged;
      std::cout << outcome.id << ": staged as " << EscapeControlChars(outcome.transaction_id)
                << "\n";
    } else if (outcome.duplicate) {
      ++duplicates;
      std::cout << outcome.id << ": valid; " << EscapeControlChars(outcome.transaction_id)
                << " was staged before (counted as a duplicate)\n";
    } else {
      ++still_invalid;
      std::cout << outcome.id << ": still invalid:";
      for (const auto& problem : outcome.problems) {
        std::cout << " [" << EscapeControlChars(problem.code) << "]";
      }
      std::cout << "\n";
    }
  }
  std::cout << "replay: " << staged << " staged, " << duplicates << " duplicates, "
            << still_invalid << " still invalid (left in quarantine)" << std::endl;
  return still_invalid == 0 ? kExitOk : kExitFailure;
}

}  // namespace

void RegisterDlqCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<DlqFlags>();
  CLI::App* dlq = app.add_subcommand(
      "dlq", "The quarantine of refused messages (ops.dead_letter): list, show, replay.");
  dlq->require_subcommand(1);

  CLI::App* list = dlq->add_subcommand("list", "List dead letters, oldest first");
  AddCommonOptions(list, &flags->sources);
  list->add_option("--reason", flags->filter.reason_prefix,
                   "only those with a reason starting with this, e.g. amount.mismatch");
  list->add_flag("--all", flags->filter.include_replayed, "include those already replayed");
  list->add_option("--stage", flags->filter.stage,
                   "only those refused by this stage: ingest (validation, or PostgreSQL refused "
                   "the staging row) or etl (PostgreSQL refused loading the staged receipt)")
      ->check(CLI::IsMember({"ingest", "etl"}));
  list->add_option("--limit", flags->filter.limit, "at most this many")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1000000}));
  list->add_option("--format", flags->format, "table or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json"}));
  list->callback([flags, run] { *run = [flags] { return List(*flags); }; });

  CLI::App* show = dlq->add_subcommand("show", "Show one dead letter: reasons, source, payload");
  AddCommonOptions(show, &flags->sources);
  show->add_option("id", flags->id, "dead letter id (from dlq list)")->required();
  show->add_flag("--raw", flags->raw, "print only the raw payload bytes");
  show->callback([flags, run] { *run = [flags] { return Show(*flags); }; });

  CLI::App* replay = dlq->add_subcommand(
      "replay",
      "Re-validate dead letters and stage those that now pass, exactly once (e.g. after a limit "
      "was raised, or with a corrected payload). Exit 1 if any is still invalid. A dead letter "
      "whose payload `posflow maintain` purged is skipped by --reason/--all and needs "
      "--payload-file.");
  AddCommonOptions(replay, &flags->sources);
  replay->add_option("ids", flags->ids, "dead letter ids");
  replay->add_option("--reason", flags->filter.reason_prefix,
                     "all quarantined dead letters with a reason starting with this");
  replay->add_flag("--all", flags->all, "all quarantined dead letters");
  replay->add_option("--stage", flags->filter.stage,
                     "with --reason/--all: only those refused by this stage (ingest or etl; an "
                     "etl dead letter is staged again from its stored row)")
      ->check(CLI::IsMember({"ingest", "etl"}));
  replay->add_option("--limit", flags->filter.limit, "with --reason/--all: at most this many")
      ->capture_default_str();
  replay->add_option("--payload-file", flags->payload_file,
                     "stage this corrected message instead of the stored bytes (one id)");
  replay->add_option("--max-message-bytes", flags->max_message_bytes,
                     "larger messages stay invalid (message.too_large)")
      ->capture_default_str();
  AddValidationFlags(replay, &flags->validation);
  replay->callback([flags, run] { *run = [flags] { return Replay(*flags); }; });
}

}  // namespace posflow::cli
