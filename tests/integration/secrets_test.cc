// Secrets never printed (issue 14): the posflow binary given a password in each of the forms an
// operator uses, against the real local services, never shows it in anything it writes (stdout
// and stderr, every log level), and shows "****" where it stood.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "integration/child_process.h"
#include "integration/stack_fixture.h"

namespace posflow::testing {
namespace {

struct PosflowRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

PosflowRun RunPosflow(const std::vector<std::string>& arguments) {
  PosflowRun run;
  run.exit_code = RunToCompletion(POSFLOW_BINARY, arguments, std::chrono::seconds(60), &run.output);
  return run;
}

class SecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* skip = std::getenv("POSFLOW_SKIP_INTEGRATION");
    if (skip != nullptr && std::string(skip) == "1") GTEST_SKIP() << "POSFLOW_SKIP_INTEGRATION=1";
  }

  // A database never created: each connection is refused before it would be needed.
  const std::string database_ = UniqueName("sec_absent");
};

void ExpectMasked(const PosflowRun& run, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    EXPECT_EQ(run.output.find(secret), std::string::npos) << secret << " in:\n" << run.output;
  }
  EXPECT_NE(run.output.find("****"), std::string::npos) << run.output;
}

TEST_F(SecretsTest, CheckDoesNotPrintAPasswordLibpqCannotDecode) {
  // libpq's own message is `invalid percent-encoded token: "<password>"`.
  const PosflowRun run =
      RunPosflow({"check", "--log-level", "debug", "--metrics-addr", "off", "--db",
                  "postgresql://bob:s3cr%zzet@127.0.0.1:5432/" + database_});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("invalid percent-encoded token: \"****\""), std::string::npos)
      << run.output;
  ExpectMasked(run, {"s3cr%zzet", "s3cr"});
}

TEST_F(SecretsTest, CheckDoesNotPrintAPasswordOfThreeBadBytes) {
  const PosflowRun run =
      RunPosflow({"check", "--metrics-addr", "off", "--db",
                  "postgresql://bob:%zz@127.0.0.1:5432/" + database_});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("invalid percent-encoded token: \"****\""), std::string::npos)
      << run.output;
}

TEST_F(SecretsTest, CheckDoesNotPrintAKeywordPasswordWithSpacesAroundEquals) {
  const PosflowRun run =
      RunPosflow({"check", "--log-level", "debug", "--metrics-addr", "off", "--db",
                  "host=127.0.0.1 user=sec_nobody password = hunter2 dbname=" + database_});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  // The server answered: this ran against the real PostgreSQL.
  EXPECT_NE(run.output.find("sec_nobody"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("password = ****"), std::string::npos) << run.output;
  ExpectMasked(run, {"hunter2"});
}

TEST_F(SecretsTest, CheckDoesNotPrintAQuotedKeywordPasswordWithSpaces) {
  const PosflowRun run =
      RunPosflow({"check", "--metrics-addr", "off", "--db",
                  "host=127.0.0.1 user=sec_nobody password='correct horse /?#' "
                  "dbname=" + database_});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  ExpectMasked(run, {"correct horse", "/?#"});
}

TEST_F(SecretsTest, CheckDoesNotPrintAPercentEncodedUrlPassword) {
  const PosflowRun run =
      RunPosflow({"check", "--metrics-addr", "off", "--db",
                  "postgresql://sec_nobody:p%40ss%2F%3F%23@127.0.0.1:5432/" + database_});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  ExpectMasked(run, {"p%40ss", "p@ss", "%2F%3F%23"});
}

TEST_F(SecretsTest, ProduceDoesNotPrintTheSaslPasswordTheBrokerRefuses) {
  // The local broker has no SASL listener: the handshake fails and produce gives up. With
  // librdkafka's own debug output on, nothing shows the password; our debug line lists the
  // properties with it masked.
  const std::string password = "Kafk@-S3cret-" + UniqueName("sec");
  const PosflowRun run = RunPosflow(
      {"produce", "--log-level", "debug", "--metrics-addr", "off", "--count", "1", "--topic",
       UniqueName("SecSasl"), "--kafka-opt", "security.protocol=SASL_PLAINTEXT", "--kafka-opt",
       "sasl.mechanism=PLAIN", "--kafka-opt", "sasl.username=sec_user", "--kafka-opt",
       "sasl.password=" + password, "--kafka-opt", "debug=security,broker,conf"});
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("SASL"), std::string::npos) << run.output;  // the broker was reached
  EXPECT_NE(run.output.find("sasl.password=****"), std::string::npos) << run.output;
  ExpectMasked(run, {password, "Kafk%40-S3cret"});
}

TEST_F(SecretsTest, AMisspeltSecretKafkaPropertyDoesNotEchoItsValue) {
  const PosflowRun run =
      RunPosflow({"produce", "--metrics-addr", "off", "--count", "1", "--topic",
                  UniqueName("SecTypo"), "--kafka-opt",
                  "sasl.pasword=Typo-S3cret-value"});
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("sasl.pasword"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("Typo-S3cret-value"), std::string::npos) << run.output;
}

TEST_F(SecretsTest, EtlDoesNotPrintAMongoDbPasswordLibmongocCannotDecode) {
  const PosflowRun run =
      RunPosflow({"etl", "--once", "--metrics-addr", "off", "--staging",
                  "mongodb://bob:M0ng0%zzPw@127.0.0.1:27017/sec_staging", "--db",
                  "postgresql://127.0.0.1:5432/" + database_});
  EXPECT_NE(run.exit_code, 0) << run.output;
  ExpectMasked(run, {"M0ng0%zzPw", "M0ng0"});
}

}  // namespace
}  // namespace posflow::testing
