// Crash, scale-out and service-restart tests of ingest. They restart the shared local stack's
// services, so ctest runs them alone (RUN_SERIAL). Every loop is bounded in count and time.

#include <signal.h>

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>

#include "integration/ingest_fixture.h"
#include "pipeline/init_job.h"

namespace posflow::testing {
namespace {

using std::chrono::seconds;

// Runs scripts/stack to restart one service of the local stack.
void RestartService(const std::string& service) {
  std::string output;
  const int code = RunToCompletion(std::string(POSFLOW_SOURCE_DIR) + "/scripts/stack",
                                   {"restart", service}, std::chrono::minutes(3), &output);
  ASSERT_EQ(code, 0) << output;
}

// Waits until more than `count` messages are accounted for (staged, duplicate or dead).
void WaitPast(const std::string& db, std::int64_t count) {
  ASSERT_GT(WaitForAccountedPast(db, count, seconds(120)), count) << "ingest made no progress";
}

class ChaosTest : public IngestTest {
 protected:
  void StreamThroughARestartOf(const std::string& service, const std::string& seed);
  void RunThroughARestartOf(const std::string& service, const std::string& seed);
};

TEST_F(ChaosTest, KillNineAtRandomPointsFiveTimesDuringA100kStream) {
  const unsigned seed = ChaosSeed();
  std::mt19937 random(seed);
  SCOPED_TRACE("random seed " + std::to_string(seed));
  auto producer = StartProducer({"--count", "100000", "--seed", "21", "--rate", "25000",
                                 "--bad-ratio", "0.02", "--duplicate-ratio", "0.02"},
                                "stream");
  for (int round = 0; round < 5; ++round) {
    auto ingest = StartIngest();
    // Let it stage something, then kill it at a random moment of its work.
    WaitPast(config_.db, ReadStagingTotals(config_.db).Accounted());
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<>(0, 700)(random)));
    ingest->Signal(SIGKILL);
    ASSERT_EQ(ingest->Wait(seconds(10)), 128 + SIGKILL);
    ASSERT_LT(ReadStagingTotals(config_.db).Accounted(), 100000)
        << "ingest " << round + 1 << " had consumed everything when it was killed";
  }
  ASSERT_EQ(producer->Wait(std::chrono::minutes(3)), 0);
  const sim::Manifest manifest = ReadManifestFile("stream");
  ASSERT_EQ(manifest.messages, 100000);
  ASSERT_EQ(IngestUntilIdle(), 0);
  ExpectReconciled(ReadStagingTotals(config_.db), manifest);
}

// Three one-hop `posflow run` processes in one group (each batch straight into the warehouse;
// the ingest loop is the one `posflow ingest` runs, so this covers its rebalances too, as
// ingest_overlap_test.cc does in-process with staging): their batches load concurrently (shared inferred members, partitions created on the way), one
// is killed mid-batch, one joins; the warehouse must reconcile exactly with the manifest.
TEST_F(ChaosTest, ThreeOneHopRunsOneKilledOneAddedReconcileExactly) {
  auto producer = StartProducer({"--count", "60000", "--seed", "26", "--rate", "15000",
                                 "--bad-ratio", "0.02", "--duplicate-ratio", "0.02"},
                                "stream");
  auto first = StartRun();
  auto second = StartRun();
  auto third = StartRun();
  const WarehouseTotals before = WaitForLoaded(config_.db, 10000, seconds(120));
  ASSERT_GE(before.loaded, 10000) << "nothing reached the warehouse before the kill";
  second->Signal(SIGKILL);
  ASSERT_EQ(second->Wait(seconds(10)), 128 + SIGKILL);
  auto fourth = StartRun();
  ASSERT_EQ(producer->Wait(std::chrono::minutes(3)), 0);
  const sim::Manifest manifest = ReadManifestFile("stream");
  const WarehouseTotals totals = WaitForLoaded(config_.db, manifest.valid, seconds(180));
  for (auto* run : {first.get(), third.get(), fourth.get()}) run->Signal(SIGTERM);
  for (auto* run : {first.get(), third.get(), fourth.get()}) EXPECT_EQ(run->Wait(seconds(30)), 0);
  ExpectWarehouseReconciled(ReadWarehouseTotals(config_.db), manifest);
  EXPECT_EQ(totals.loaded, manifest.valid);
}

// `service` restarted under a one-hop `posflow run`: the batch in flight rolls back whole (or
// waits for Kafka), the run reconnects, and the warehouse reconciles exactly.
void ChaosTest::RunThroughARestartOf(const std::string& service, const std::string& seed) {
  auto producer = StartProducer({"--count", "30000", "--seed", seed, "--rate", "8000",
                                 "--bad-ratio", "0.02", "--duplicate-ratio", "0.02"},
                                "stream");
  auto run = StartRun();
  const WarehouseTotals before = WaitForLoaded(config_.db, 4000, seconds(120));
  ASSERT_GE(before.loaded, 4000) << "nothing reached the warehouse before the restart";
  RestartService(service);
  ASSERT_EQ(producer->Wait(std::chrono::minutes(3)), 0);
  const sim::Manifest manifest = ReadManifestFile("stream");
  const WarehouseTotals totals = WaitForLoaded(config_.db, manifest.valid, seconds(180));
  run->Signal(SIGTERM);
  EXPECT_EQ(run->Wait(seconds(30)), 0);
  ExpectWarehouseReconciled(totals, manifest);
}

TEST_F(ChaosTest, PostgresRestartedUnderAOneHopRunLosesNothing) {
  RunThroughARestartOf("postgres", "27");
}

// (Kafka restarted under `posflow ingest` is the same consume loop: this covers both.)
TEST_F(ChaosTest, KafkaRestartedUnderAOneHopRunLosesNothing) {
  RunThroughARestartOf("kafka", "24");
}

// Streams 40 000 messages through one ingest process while `service` is restarted; the
// result must reconcile exactly with the producer's manifest.
void ChaosTest::StreamThroughARestartOf(const std::string& service, const std::string& seed) {
  auto producer = StartProducer({"--count", "40000", "--seed", seed, "--rate", "10000",
                                 "--bad-ratio", "0.02", "--duplicate-ratio", "0.02"},
                                "stream");
  auto ingest = StartIngest();
  WaitPast(config_.db, 5000);
  RestartService(service);
  ASSERT_EQ(producer->Wait(std::chrono::minutes(3)), 0);
  const sim::Manifest manifest = ReadManifestFile("stream");
  WaitForAccounted(config_.db, manifest.messages, seconds(180));
  ingest->Signal(SIGTERM);
  EXPECT_EQ(ingest->Wait(seconds(30)), 0);
  ExpectReconciled(ReadStagingTotals(config_.db), manifest);
}

TEST_F(ChaosTest, PostgresRestartedMidStreamLosesNothing) {
  StreamThroughARestartOf("postgres", "23");
}

// MongoDB staging (FerretDB) restarted while `posflow run` streams through it: ingest and the
// ETL retry, and the warehouse still reconciles exactly.
TEST_F(ChaosTest, FerretDbRestartedMidStreamLosesNothing) {
  const std::string mongo_uri = "mongodb://127.0.0.1:27017/" + UniqueName("mchaos");
  config_.staging = mongo_uri;
  auto report = pipeline::RunInit(config_, {.create_topics = false});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  auto producer = StartProducer({"--count", "20000", "--seed", "25", "--rate", "4000",
                                 "--bad-ratio", "0.02", "--duplicate-ratio", "0.02"},
                                "stream");
  auto run = StartRun({"--staging", mongo_uri});
  const WarehouseTotals before = WaitForLoaded(config_.db, 2000, seconds(120));
  ASSERT_GE(before.loaded, 2000) << "nothing reached the warehouse before the restart";
  RestartService("ferretdb");
  ASSERT_EQ(producer->Wait(std::chrono::minutes(3)), 0);
  const sim::Manifest manifest = ReadManifestFile("stream");
  const WarehouseTotals totals = WaitForLoaded(config_.db, manifest.valid, seconds(300));
  run->Signal(SIGTERM);
  EXPECT_EQ(run->Wait(seconds(30)), 0);
  ExpectWarehouseReconciled(totals, manifest);
}

}  // namespace
}  // namespace posflow::testing
