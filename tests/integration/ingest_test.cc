// posflow ingest against the real stack: exact reconciliation, restart, clean stop.
// (Crashes, scale-out and service restarts are in chaos_test.cc, which runs alone.)

#include <signal.h>

#include <gtest/gtest.h>

#include <string>

#include "integration/ingest_fixture.h"

namespace posflow::testing {
namespace {

sim::Manifest Sum(const sim::Manifest& a, const sim::Manifest& b) {
  sim::Manifest sum = a;
  sum.messages += b.messages;
  sum.valid += b.valid;
  sum.duplicates += b.duplicates;
  sum.bad_total += b.bad_total;
  for (const auto& [code, count] : b.bad) sum.bad[code] += count;
  sum.lines += b.lines;
  sum.total_cents += b.total_cents;
  return sum;
}

TEST_F(IngestTest, StagingPlusDuplicatesPlusDeadLettersEqualTheManifestToTheCent) {
  const sim::Manifest manifest =
      Produce({"--count", "20000", "--seed", "7", "--bad-ratio", "0.05", "--duplicate-ratio", "0.03"});
  ASSERT_EQ(manifest.messages, 20000);
  ASSERT_GT(manifest.bad_total, 0);
  ASSERT_GT(manifest.duplicates, 0);
  ASSERT_EQ(IngestUntilIdle(), 0);
  ExpectReconciled(ReadStagingTotals(config_.db), manifest);
}

TEST_F(IngestTest, DeadLettersAlsoReachTheDlqTopicWithTheirReasons) {
  const sim::Manifest manifest = Produce({"--count", "2000", "--seed", "8", "--bad-ratio", "0.1"});
  ASSERT_EQ(IngestUntilIdle(), 0);
  std::string output;
  const int code = RunToCompletion(
      "/usr/bin/kcat",
      {"-C", "-b", config_.brokers, "-t", config_.DlqTopic(), "-e", "-q", "-f", "%h\\n"},
      std::chrono::seconds(60), &output);
  ASSERT_EQ(code, 0) << output;
  std::int64_t with_reasons = 0;
  for (size_t at = output.find("posflow.reasons="); at != std::string::npos;
       at = output.find("posflow.reasons=", at + 1)) {
    ++with_reasons;
  }
  // At-least-once to the topic; exactly once in ops.dead_letter.
  EXPECT_GE(with_reasons, manifest.bad_total);
  EXPECT_EQ(ReadStagingTotals(config_.db).dead_letters, manifest.bad_total);
}

TEST_F(IngestTest, SecondRunResumesFromTheStoredOffsets) {
  const sim::Manifest first = Produce({"--count", "3000", "--seed", "11", "--bad-ratio", "0.02"});
  ASSERT_EQ(IngestUntilIdle(), 0);
  ExpectReconciled(ReadStagingTotals(config_.db), first);
  const sim::Manifest second =
      Produce({"--count", "3000", "--seed", "12", "--duplicate-ratio", "0.05"});
  ASSERT_EQ(IngestUntilIdle(), 0);
  ExpectReconciled(ReadStagingTotals(config_.db), Sum(first, second));
}

TEST_F(IngestTest, SigtermStopsCleanlyWithExitZero) {
  const sim::Manifest manifest = Produce({"--count", "5000", "--seed", "13"});
  auto ingest = StartIngest();
  const StagingTotals totals = WaitForAccounted(config_.db, 1, std::chrono::seconds(60));
  ASSERT_GE(totals.Accounted(), 1);
  ingest->Signal(SIGTERM);
  EXPECT_EQ(ingest->Wait(std::chrono::seconds(15)), 0);
  // Whatever was committed is whole: finish the rest and reconcile.
  ASSERT_EQ(IngestUntilIdle(), 0);
  ExpectReconciled(ReadStagingTotals(config_.db), manifest);
}

TEST_F(IngestTest, UnknownStagingIsABadConfigurationExitTwo) {
  std::string output;
  const int code = RunToCompletion(POSFLOW_BINARY, {"ingest", "--staging", "cassandra://x"},
                                   std::chrono::seconds(30), &output);
  EXPECT_EQ(code, 2) << output;
}

}  // namespace
}  // namespace posflow::testing
