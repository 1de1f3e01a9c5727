// The whole pipeline on the real stack: simulator -> Kafka -> `posflow run` (ingest + ETL) ->
// warehouse + inventory, reconciled to the cent against the producer's manifest; and crash
// safety: `kill -9` of `run` and of `etl` at random points, restarted, still exact.

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "integration/child_process.h"
#include "integration/ingest_fixture.h"
#include "integration/reconcile.h"

namespace posflow::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

class PipelineTest : public IngestTest {
 protected:
  // `posflow check` on this test's database, with `manifest`; returns its exit code.
  int Check(const sim::Manifest& manifest, std::string* output) {
    const std::string path = ManifestPath("for_check");
    std::ofstream(path) << manifest.ToJson();
    return RunToCompletion(POSFLOW_BINARY,
                           {"check", "--db", config_.db, "--brokers", config_.brokers,
                            "--manifest", path},
                           minutes(5), output);
  }
};

TEST_F(PipelineTest, RunLoads100kTransactionsExactlyToTheCentWithInventory) {
  const sim::Manifest manifest =
      Produce({"--count", "100000", "--bad-ratio", "0.02", "--duplicate-ratio", "0.02"});
  ASSERT_EQ(manifest.messages, 100000);
  auto run = StartRun({"--exit-when-idle", "3"});
  ASSERT_EQ(run->Wait(minutes(10)), 0);
  ExpectWarehouseReconciled(ReadWarehouseTotals(config_.db), manifest);
  std::string output;
  EXPECT_EQ(Check(manifest, &output), 0) << output;
}

// Each kill lands mid-work, or the test fails: the killed process had committed something since
// it started (progress before the kill) and had not finished (what is left is done after the
// restart). POSFLOW_TEST_SEED replays a run's random moments.
TEST_F(PipelineTest, KillNineOfRunAndEtlAtRandomPointsStaysExact) {
  const unsigned seed = ChaosSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  const sim::Manifest manifest =
      Produce({"--count", "60000", "--bad-ratio", "0.02", "--duplicate-ratio", "0.02"});

  // `run` killed three times while it ingests and loads (small batches: many commits to hit).
  for (int kill = 0; kill < 3; ++kill) {
    const std::int64_t before = ReadStagingTotals(config_.db).Accounted();
    auto run = StartRun({"--batch-messages", "500", "--batch-transactions", "700"});
    ASSERT_GT(WaitForAccountedPast(config_.db, before, seconds(120)), before)
        << "run " << kill + 1 << " made no progress before its kill";
    std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(0, 800)(random)));
    ASSERT_TRUE(run->running()) << "run ended before it was killed";
    run->Signal(SIGKILL);
    ASSERT_EQ(run->Wait(seconds(10)), 128 + SIGKILL);
    ASSERT_LT(ReadStagingTotals(config_.db).Accounted(), manifest.messages)
        << "run " << kill + 1 << " had consumed everything when it was killed";
  }
  // Whatever is not staged yet gets staged; then `etl --once` is killed three times mid-load.
  ASSERT_EQ(IngestUntilIdle(), 0);
  for (int kill = 0; kill < 3; ++kill) {
    const std::int64_t before = CountFacts(config_.db);
    auto etl = StartEtl({"--once", "--batch-transactions", "500"});
    ASSERT_GT(WaitForFactsPast(config_.db, before, seconds(120)), before)
        << "etl " << kill + 1 << " loaded nothing before its kill";
    std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(0, 300)(random)));
    ASSERT_TRUE(etl->running()) << "etl ended before it was killed";
    etl->Signal(SIGKILL);
    ASSERT_EQ(etl->Wait(seconds(10)), 128 + SIGKILL);
    ASSERT_LT(CountFacts(config_.db), manifest.valid)
        << "etl " << kill + 1 << " had loaded everything when it was killed";
  }
  // Restarted to the end.
  auto run = StartRun({"--exit-when-idle", "3"});
  ASSERT_EQ(run->Wait(minutes(5)), 0);
  ExpectWarehouseReconciled(ReadWarehouseTotals(config_.db), manifest);
  std::string output;
  EXPECT_EQ(Check(manifest, &output), 0) << output;
}

TEST_F(PipelineTest, RunFollowsALiveStreamAndStopsCleanlyOnSigterm) {
  auto run = StartRun();
  auto producer = StartProducer({"--rate", "2000", "--count", "6000"}, "live");
  ASSERT_EQ(producer->Wait(minutes(2)), 0);
  const sim::Manifest manifest = ReadManifestFile("live");
  const WarehouseTotals totals = WaitForLoaded(config_.db, manifest.valid, seconds(60));
  run->Signal(SIGTERM);
  EXPECT_EQ(run->Wait(seconds(30)), 0);
  ExpectWarehouseReconciled(totals, manifest);
}

}  // namespace
}  // namespace posflow::testing
