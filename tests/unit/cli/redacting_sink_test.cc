#include "cli/redacting_sink.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <string>

#include "common/secrets.h"

namespace posflow::cli {
namespace {

// A logger like SetUpLogging's, writing into `out` with only the message in the pattern.
std::shared_ptr<spdlog::logger> LoggerInto(std::ostringstream* out) {
  auto inner = std::make_shared<spdlog::sinks::ostream_sink_mt>(*out);
  auto logger = std::make_shared<spdlog::logger>("redacting_sink_test",
                                                 std::make_shared<RedactingSink>(inner));
  logger->set_pattern("%l %v");
  return logger;
}

TEST(RedactingSink, MasksRegisteredSecretsInEveryLine) {
  RegisterSecret("Sink-Secret-rs1");
  std::ostringstream out;
  auto logger = LoggerInto(&out);
  logger->warn("kafka FAIL: sasl password {} refused", "Sink-Secret-rs1");
  logger->error("libpq: \"Sink-Secret-rs1\"");
  EXPECT_EQ(out.str(), "warning kafka FAIL: sasl password **** refused\nerror libpq: \"****\"\n");
}

TEST(RedactingSink, EscapesControlCharactersFromMessages) {
  std::ostringstream out;
  auto logger = LoggerInto(&out);
  logger->warn("quarantined receipt {}", "tx\x1b]0;owned\x07\xc2\x9b" "2J\nforged line");
  EXPECT_EQ(out.str(),
            "warning quarantined receipt tx\\x1b]0;owned\\x07\\xc2\\x9b2J\\x0aforged line\n");
}

}  // namespace
}  // namespace posflow::cli
