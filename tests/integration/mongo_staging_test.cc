// MongoDB staging (staging/mongo_staging.h) on the local stack's FerretDB: the whole pipeline
// reconciles exactly, crashes of ingest and of the ETL lose and double nothing, and the seed's
// staging_config.yaml is accepted (a malformed one is a one-line error, exit 2).

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "integration/child_process.h"
#include "integration/ingest_fixture.h"
#include "integration/reconcile.h"
#include "common/civil_time.h"
#include "pg/connection.h"
#include "pipeline/init_job.h"
#include "staging/mongo_staging.h"

namespace posflow::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

std::string MongoHost() {
  const char* host = std::getenv("POSFLOW_TEST_MONGO");
  return host != nullptr && *host != '\0' ? host : "127.0.0.1:27017";
}

class MongoStagingTest : public IngestTest {
 protected:
  void SetUp() override {
    IngestTest::SetUp();
    if (IsSkipped() || HasFailure()) return;
    // Each test its own MongoDB database; init creates its index.
    mongo_uri_ = "mongodb://" + MongoHost() + "/" + UniqueName("mstg");
    config_.staging = mongo_uri_;
    auto report = pipeline::RunInit(config_, {.create_topics = false});
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    ASSERT_FALSE(report->mongo_staging.empty());
  }

  std::vector<std::string> Staging(std::vector<std::string> extra = {}) {
    extra.push_back("--staging");
    extra.push_back(mongo_uri_);
    return extra;
  }

  int Check(const sim::Manifest& manifest, std::string* output) {
    const std::string path = ManifestPath("for_check");
    std::ofstream(path) << manifest.ToJson();
    return RunToCompletion(POSFLOW_BINARY,
                           {"check", "--db", config_.db, "--brokers", config_.brokers,
                            "--staging", mongo_uri_, "--manifest", path},
                           minutes(5), output);
  }

  std::string mongo_uri_;
};

// An ingest batch that inserted its documents and then died before its PostgreSQL commit left
// documents no offset, no ops.transaction_seen row and no dead letter accounts for: the ETL must
// never load them (the message is consumed again and staged anew).
TEST_F(MongoStagingTest, DocumentOfABatchThatNeverCommittedIsNeverLoaded) {
  const sim::Manifest manifest = Produce({"--count", "600", "--seed", "41"});
  auto mongo = staging::MongoStaging::Open(mongo_uri_);
  ASSERT_TRUE(mongo.ok()) << mongo.status().ToString();
  ASSERT_TRUE((*mongo)->Prepare().ok());
  event::Transaction orphan;
  orphan.transaction_id = "orphan-of-a-rolled-back-batch";
  orphan.transaction_time = *ParseDateTime("2026-11-20 18:05:00");
  orphan.store.store_id = "S001";
  orphan.lines.push_back(event::Line{"P0001", "Apples", 250, 2, 500});
  orphan.subtotal_cents = 500;
  orphan.tax_cents = 65;
  orphan.total_cents = 565;
  orphan.payment_type = "Cash";
  const staging::ValidMessage message{{config_.topic, 0, 1'000'000}, "S001", "{}", &orphan};
  auto staged = (*mongo)->Stage({&message});
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  ASSERT_TRUE(staged->empty());

  auto run = StartRun(Staging({"--exit-when-idle", "3"}));
  ASSERT_EQ(run->Wait(minutes(5)), 0);
  auto connection = pg::Connection::Open(pg::OptionsFromConfig(config_));
  ASSERT_TRUE(connection.ok());
  auto loaded = connection->Query(
      "select count(*) from dw.fact_transaction where transaction_id = 'orphan-of-a-rolled-back-batch'");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->Get(0, 0), "0");
  ExpectWarehouseReconciled(ReadWarehouseTotals(config_.db), manifest);
  std::string output;
  EXPECT_EQ(Check(manifest, &output), 0) << output;
}

// A document in staging that ingest did not write (another writer, an older shape) cannot stop
// the ETL: it is quarantined as a dead letter of the ETL, and everything else loads.
TEST_F(MongoStagingTest, DocumentNotInIngestsShapeIsQuarantinedAndTheRestLoads) {
  const sim::Manifest manifest = Produce({"--count", "600", "--seed", "42"});
  auto mongo = staging::MongoStaging::Open(mongo_uri_);
  ASSERT_TRUE(mongo.ok()) << mongo.status().ToString();
  ASSERT_TRUE((*mongo)->Prepare().ok());
  ASSERT_TRUE((*mongo)->InsertJsonDocument(R"({"_id": "not-ours", "total": "ten dollars"})").ok());

  auto run = StartRun(Staging({"--exit-when-idle", "3"}));
  ASSERT_EQ(run->Wait(minutes(5)), 0);
  const WarehouseTotals totals = ReadWarehouseTotals(config_.db);
  EXPECT_EQ(totals.loaded, manifest.valid);
  EXPECT_EQ(totals.loaded_total_cents, manifest.total_cents);
  EXPECT_EQ(totals.still_staged, 0);
  auto connection = pg::Connection::Open(pg::OptionsFromConfig(config_));
  ASSERT_TRUE(connection.ok());
  auto letters = connection->Query(
      "select stage, reasons[1], kafka_partition, convert_from(payload, 'UTF8') like '%not-ours%' "
      "from ops.dead_letter");
  ASSERT_TRUE(letters.ok()) << letters.status().ToString();
  ASSERT_EQ(letters->rows(), 1);
  EXPECT_EQ(letters->Get(0, 0), "etl");
  EXPECT_EQ(letters->Get(0, 1), "etl.refused:document");
  EXPECT_EQ(letters->Get(0, 2), "-1");
  EXPECT_EQ(letters->Get(0, 3), "t");
  std::string output;
  EXPECT_EQ(Check(manifest, &output), 0) << output;
}

TEST_F(MongoStagingTest, RunThroughMongoStagingReconcilesExactly) {
  const sim::Manifest manifest =
      Produce({"--count", "30000", "--bad-ratio", "0.03", "--duplicate-ratio", "0.03"});
  auto run = StartRun(Staging({"--exit-when-idle", "3"}));
  ASSERT_EQ(run->Wait(minutes(10)), 0);
  ExpectWarehouseReconciled(ReadWarehouseTotals(config_.db), manifest);
  std::string output;
  EXPECT_EQ(Check(manifest, &output), 0) << output;
}

// Each kill lands mid-work, or the test fails (progress before it, work left after it);
// POSFLOW_TEST_SEED replays a run's random moments.
TEST_F(MongoStagingTest, KillNineOfIngestAndEtlAtRandomPointsStaysExact) {
  const unsigned seed = ChaosSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  const sim::Manifest manifest =
      Produce({"--count", "20000", "--bad-ratio", "0.02", "--duplicate-ratio", "0.02"});
  for (int kill = 0; kill < 3; ++kill) {
    const std::int64_t before = ReadStagingTotals(config_.db).Accounted();
    auto ingest = StartIngest(Staging({"--batch-messages", "500"}));
    ASSERT_GT(WaitForAccountedPast(config_.db, before, seconds(120)), before)
        << "ingest " << kill + 1 << " made no progress before its kill";
    std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(0, 600)(random)));
    ASSERT_TRUE(ingest->running()) << "ingest ended before it was killed";
    ingest->Signal(SIGKILL);
    ASSERT_EQ(ingest->Wait(seconds(10)), 128 + SIGKILL);
    ASSERT_LT(ReadStagingTotals(config_.db).Accounted(), manifest.messages)
        << "ingest " << kill + 1 << " had consumed everything when it was killed";
  }
  auto ingest = StartIngest(Staging({"--exit-when-idle", "2"}));
  ASSERT_EQ(ingest->Wait(minutes(5)), 0);
  for (int kill = 0; kill < 3; ++kill) {
    const std::int64_t before = CountFacts(config_.db);
    auto etl = StartEtl(Staging({"--once", "--batch-transactions", "1000"}));
    ASSERT_GT(WaitForFactsPast(config_.db, before, seconds(120)), before)
        << "etl " << kill + 1 << " loaded nothing before its kill";
    std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(0, 300)(random)));
    ASSERT_TRUE(etl->running()) << "etl ended before it was killed";
    etl->Signal(SIGKILL);
    ASSERT_EQ(etl->Wait(seconds(10)), 128 + SIGKILL);
    ASSERT_LT(CountFacts(config_.db), manifest.valid)
        << "etl " << kill + 1 << " had loaded everything when it was killed";
  }
  // A killed ETL's statement in flight holds the ETL lock until the server notices the dead
  // session: a one-shot ETL started meanwhile exits 4 (busy). Bounded retries.
  int code = 4;
  for (int attempt = 0; attempt < 20 && code == 4; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(milliseconds(500));
    code = StartEtl(Staging({"--once"}))->Wait(minutes(5));
  }
  ASSERT_EQ(code, 0);
  ExpectWarehouseReconciled(ReadWarehouseTotals(config_.db), manifest);
  std::string output;
  EXPECT_EQ(Check(manifest, &output), 0) << output;
}

TEST_F(MongoStagingTest, SeedStagingConfigYamlIsAcceptedAndAMalformedOneIsExitTwo) {
  const std::string database = mongo_uri_.substr(mongo_uri_.rfind('/') + 1);
  const std::string good = work_dir_ + "/staging_config.yaml";
  std::ofstream(good) << "staging_db:\n  host: " << MongoHost() << "\n  database: " << database
                      << "\n";
  const sim::Manifest manifest = Produce({"--count", "2000"});
  std::string output;
  ASSERT_EQ(RunToCompletion(POSFLOW_BINARY,
                            {"run", "--db", config_.db, "--brokers", config_.brokers, "--topic",
                             config_.topic, "--group", config_.group, "--metrics-addr", "off",
                             "--staging-config", good, "--exit-when-idle", "2"},
                            minutes(5), &output),
            0)
      << output;
  ExpectWarehouseReconciled(ReadWarehouseTotals(config_.db), manifest);

  const std::string bad = work_dir_ + "/bad_staging_config.yaml";
  std::ofstream(bad) << "staging_db:\n  hostname: " << MongoHost() << "\n";
  const ShellResult malformed =
      RunPosflowShell("etl --db " + config_.db + " --staging-config " + bad);
  EXPECT_EQ(malformed.exit_code, 2) << malformed.output;
  EXPECT_NE(malformed.output.find("'staging_db' needs 'host' and 'database'"), std::string::npos)
      << malformed.output;
  EXPECT_EQ(std::count(malformed.output.begin(), malformed.output.end(), '\n'), 1)
      << malformed.output;
}

}  // namespace
}  // namespace posflow::testing
