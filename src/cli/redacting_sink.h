#pragma once

// The last step of every log line: a spdlog sink that masks registered secrets
// (common/secrets.h) and escapes control characters (common/text.h, EscapeControlChars) in
// the message, then hands it to the sink that writes it. Whatever a layer or a library logs
// (libpq, librdkafka and libmongoc text is forwarded into spdlog) passes through here.

#include <spdlog/sinks/sink.h>

#include <memory>
#include <string>

namespace posflow::cli {

class RedactingSink final : public spdlog::sinks::sink {
 public:
  // `inner` writes the lines (e.g. stderr_color_sink_mt); it must be thread-safe itself, since
  // this sink adds no lock of its own. REQUIRES: inner != nullptr.
  explicit RedactingSink(std::shared_ptr<spdlog::sinks::sink> inner);

  void log(const spdlog::details::log_msg& message) override;
  void flush() override;
  void set_pattern(const std::string& pattern) override;
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override;

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
};

}  // namespace posflow::cli
