// posflow dlq list|show|replay against the real stack.

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "integration/ingest_fixture.h"

namespace posflow::testing {
namespace {

class DlqTest : public IngestTest {
 protected:
  int Dlq(const std::vector<std::string>& arguments, std::string* output) {
    std::vector<std::string> all = {"dlq"};
    all.insert(all.end(), arguments.begin(), arguments.end());
    all.insert(all.end(), {"--db", config_.db});
    return RunToCompletion(POSFLOW_BINARY, all, std::chrono::minutes(2), output);
  }
};

TEST_F(DlqTest, ReplayAfterTheLimitWasRaisedStagesEachMessageOnce) {
  const sim::Manifest manifest = Produce({"--count", "3000", "--seed", "31"});
  // A limit too small for the bigger baskets: they are quarantined as message.too_large.
  auto ingest = StartIngest({"--exit-when-idle", "2", "--max-message-bytes", "1500"});
  ASSERT_EQ(ingest->Wait(std::chrono::minutes(3)), 0);
  const StagingTotals before = ReadStagingTotals(config_.db);
  ASSERT_GT(before.dead_letters, 0);
  ASSERT_EQ(before.dead_by_code.at("message.too_large"), before.dead_letters);

  std::string output;
  ASSERT_EQ(Dlq({"list", "--reason", "message.too_large", "--limit", "100000"}, &output), 0)
      << output;
  EXPECT_NE(output.find("message.too_large"), std::string::npos);

  ASSERT_EQ(Dlq({"replay", "--reason", "message.too_large", "--limit", "100000"}, &output), 0)
      << output;
  ExpectReconciled(ReadStagingTotals(config_.db), manifest);

  // Exactly once: nothing is left to replay, and nothing moves.
  ASSERT_EQ(Dlq({"replay", "--all"}, &output), 0) << output;
  EXPECT_NE(output.find("replay: 0 staged"), std::string::npos) << output;
  ExpectReconciled(ReadStagingTotals(config_.db), manifest);
}

TEST_F(DlqTest, ReplayWithACorrectedPayloadStagesItAndOnlyOnce) {
  Produce({"--count", "500", "--seed", "32", "--bad-ratio", "0.2", "--bad-kinds", "json.syntax"});
  ASSERT_EQ(IngestUntilIdle(), 0);
  std::string output;
  ASSERT_EQ(Dlq({"list", "--format", "json", "--limit", "1"}, &output), 0) << output;
  const size_t id_at = output.find("\"id\":");
  ASSERT_NE(id_at, std::string::npos) << output;
  const std::string id = std::to_string(std::stoll(output.substr(id_at + 5)));

  ASSERT_EQ(Dlq({"show", id}, &output), 0) << output;
  EXPECT_NE(output.find("json.syntax"), std::string::npos) << output;

  const std::string fixed = work_dir_ + "/fixed.json";
  std::ofstream(fixed) << R"({"transaction_id":"fixed-1","transaction_date":"2026-01-01 10:00:00",)"
                       << R"("items":[{"item":"Tea","price":2.5,"quantity":2,"total_price":5.0}],)"
                       << R"("subtotal":5.0,"tax":0.65,"total":5.65,"payment_type":"Cash",)"
                       << R"("location":{"store_id":"S001"}})";
  const StagingTotals before = ReadStagingTotals(config_.db);
  ASSERT_EQ(Dlq({"replay", id, "--payload-file", fixed}, &output), 0) << output;
  EXPECT_NE(output.find("staged as fixed-1"), std::string::npos) << output;
  const StagingTotals after = ReadStagingTotals(config_.db);
  EXPECT_EQ(after.staged, before.staged + 1);
  EXPECT_EQ(after.dead_letters, before.dead_letters - 1);
  EXPECT_EQ(after.staged_total_cents, before.staged_total_cents + 565);

  // A second replay of the same dead letter is refused and changes nothing.
  EXPECT_EQ(Dlq({"replay", id, "--payload-file", fixed}, &output), 1) << output;
  EXPECT_NE(output.find("already replayed"), std::string::npos) << output;
  EXPECT_EQ(ReadStagingTotals(config_.db).staged, after.staged);
}

TEST_F(DlqTest, StillInvalidStaysQuarantinedAndExitsOne) {
  Produce({"--count", "300", "--seed", "33", "--bad-ratio", "0.1", "--bad-kinds",
           "amount.mismatch:total"});
  ASSERT_EQ(IngestUntilIdle(), 0);
  const StagingTotals before = ReadStagingTotals(config_.db);
  std::string output;
  EXPECT_EQ(Dlq({"replay", "--all"}, &output), 1) << output;
  EXPECT_NE(output.find("still invalid"), std::string::npos) << output;
  EXPECT_EQ(ReadStagingTotals(config_.db).dead_letters, before.dead_letters);
}

TEST_F(DlqTest, UnknownIdIsAOneLineError) {
  std::string output;
  EXPECT_EQ(Dlq({"show", "987654321"}, &output), 1) << output;
  EXPECT_NE(output.find("no dead letter 987654321"), std::string::npos) << output;
}

}  // namespace
}  // namespace posflow::testing
