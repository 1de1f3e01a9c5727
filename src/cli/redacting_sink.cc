#include "cli/redacting_sink.h"

#include <string_view>
#include <utility>

#include "common/secrets.h"
#include "common/text.h"

namespace posflow::cli {

RedactingSink::RedactingSink(std::shared_ptr<spdlog::sinks::sink> inner)
    : inner_(std::move(inner)) {}

void RedactingSink::log(const spdlog::details::log_msg& message) {
  // Secrets first: a secret holding a control character is then still found as given.
  const std::string payload = EscapeControlChars(
      RedactSecrets(std::string_view(message.payload.data(), message.payload.size())));
  spdlog::details::log_msg masked = message;
  masked.payload = spdlog::string_view_t(payload.data(), payload.size());
  inner_->log(masked);
}

void RedactingSink::flush() { inner_->flush(); }

void RedactingSink::set_pattern(const std::string& pattern) { inner_->set_pattern(pattern); }

void RedactingSink::set_formatter(std::unique_ptr<spdlog::formatter> formatter) {
  inner_->set_formatter(std::move(formatter));
}

}  // namespace posflow::cli
