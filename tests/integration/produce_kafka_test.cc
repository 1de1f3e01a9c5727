// posflow produce against the real local Kafka: every message arrives, once, keyed by store, and
// what comes back reconciles exactly with the manifest. Plus the command line as operators use
// it: reproducible files, validate agreeing with the manifest, pacing, SIGINT, bad options.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/civil_time.h"
#include "event/parser.h"
#include "integration/child_process.h"
#include "integration/kafka_reader.h"
#include "integration/stack_fixture.h"
#include "kafka/admin_client.h"
#include "kafka/producer.h"
#include "pipeline/produce_job.h"
#include "sim/manifest.h"
#include "sim/reference_data.h"

namespace posflow::testing {
namespace {

using std::chrono::seconds;

class ProduceKafkaTest : public StackTest {
 protected:
  static constexpr int kPartitions = 6;

  void CreateTopic() {
    auto admin = kafka::AdminClient::Create(config_);
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    auto created = admin->CreateTopics({{config_.topic, kPartitions, -1, {}}}, seconds(15));
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    Result<kafka::TopicInfo> info = Status::NotFound("not yet");
    const auto deadline = std::chrono::steady_clock::now() + seconds(15);
    while (!(info = admin->DescribeTopic(config_.topic, seconds(5))).ok() &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(info.ok()) << info.status().ToString();
  }
};

TEST_F(ProduceKafkaTest, EveryMessageArrivesOnceAndReconcilesWithTheManifest) {
  CreateTopic();
  const std::string manifest_path = ::testing::TempDir() + UniqueName("manifest") + ".json";
  pipeline::ProduceOptions options;
  options.seed = 7;
  options.count = 20000;
  options.bad_ratio = 0.05;
  options.duplicate_ratio = 0.02;
  options.manifest_path = manifest_path;
  auto report = pipeline::RunProduce(config_, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const sim::Manifest& manifest = report->manifest;
  EXPECT_EQ(manifest.messages, 20000);
  EXPECT_EQ(manifest.bad_total, 1000);
  EXPECT_EQ(manifest.duplicates, 400);
  EXPECT_TRUE(manifest.complete);
  EXPECT_EQ(manifest.sink, "kafka:" + config_.topic);
  auto written = sim::ReadManifest(manifest_path);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(*written, manifest);
  std::remove(manifest_path.c_str());

  const std::vector<ConsumedMessage> messages =
      ReadTopicFromBeginning(config_.brokers, config_.topic, kPartitions, 20000, seconds(120),
                             seconds(2));
  ASSERT_EQ(static_cast<std::int64_t>(messages.size()), manifest.messages);

  std::set<std::string> store_ids;
  for (const sim::StoreInfo& store : sim::DefaultReferenceData().stores) {
    store_ids.insert(store.store.store_id);
  }
  event::Parser parser;
  event::Transaction transaction;
  std::vector<event::Problem> problems;
  std::set<std::string> seen_ids;
  std::int64_t valid = 0;
  std::int64_t duplicates = 0;
  Cents total_cents = 0;
  std::int64_t quantity = 0;
  std::map<std::string, std::int64_t> by_key;
  std::map<std::string, sim::StoreTotals> by_store;
  std::map<std::string, std::int64_t> bad;
  for (const ConsumedMessage& message : messages) {
    EXPECT_TRUE(store_ids.count(message.key)) << "key " << message.key << " is not a store id";
    ++by_key[message.key];
    if (!parser.Parse(message.value, &transaction, &problems)) {
      ASSERT_EQ(problems.size(), 1u) << message.value.substr(0, 500);
      ++bad[problems[0].code];
      continue;
    }
    EXPECT_EQ(transaction.store.store_id, message.key);
    if (!seen_ids.insert(transaction.transaction_id).second) {
      ++duplicates;
      continue;
    }
    ++valid;
    total_cents += transaction.total_cents;
    for (const event::Line& line : transaction.lines) quantity += line.quantity;
    sim::StoreTotals& store = by_store[transaction.store.store_id];
    ++store.transactions;
    store.total_cents += transaction.total_cents;
  }
  EXPECT_EQ(valid, manifest.valid);
  EXPECT_EQ(duplicates, manifest.duplicates);
  EXPECT_EQ(total_cents, manifest.total_cents);
  EXPECT_EQ(quantity, manifest.quantity);
  EXPECT_EQ(by_key, manifest.messages_by_key);
  EXPECT_EQ(by_store, manifest.by_store);
  EXPECT_EQ(bad, manifest.bad);
  EXPECT_EQ(bad.count("message.too_large"), 1u) << "a 1 MiB message went through (lz4)";
}

TEST_F(ProduceKafkaTest, MissingTopicIsRefusedNamingInit) {
  pipeline::ProduceOptions options;
  options.count = 10;
  auto report = pipeline::RunProduce(config_, options);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(report.status().message().find("posflow init"), std::string::npos);
}

TEST_F(ProduceKafkaTest, OversizeMessagesWithoutCompressionAreRefusedUpFront) {
  pipeline::ProduceOptions options;
  options.count = 10;
  options.compression = "none";
  options.bad_ratio = 0.5;
  options.bad_kinds = {"message.too_large"};
  auto report = pipeline::RunProduce(config_, options);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), Status::Code::kInvalidArgument);
}

TEST_F(ProduceKafkaTest, FailedDeliveryIsAnErrorNotALogLine) {
  Config unreachable = config_;
  unreachable.brokers = "127.0.0.1:1";
  kafka::ProducerOptions options;
  options.delivery_timeout = std::chrono::milliseconds(1500);
  auto producer = kafka::Producer::Create(unreachable, options);
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  ASSERT_TRUE(producer->Produce(config_.topic, "S001", "{}").ok());
  const Status flushed = producer->Flush(std::chrono::seconds(15));
  ASSERT_FALSE(flushed.ok());
  EXPECT_EQ(flushed.code(), Status::Code::kUnavailable);
  EXPECT_NE(flushed.message().find("could not be delivered"), std::string::npos)
      << flushed.message();
  EXPECT_EQ(producer->stats().failed, 1);
  // And the next message is refused rather than queued behind the failure.
  EXPECT_FALSE(producer->Produce(config_.topic, "S001", "{}").ok());
}

// ---- The command line ------------------------------------------------------------------------

using RunResult = ShellResult;

RunResult RunPosflow(const std::string& arguments, const std::string& environment = "") {
  return RunPosflowShell(arguments, environment);
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

std::size_t Lines(const std::string& text) {
  std::size_t lines = 0;
  for (char c : text) lines += c == '\n' ? 1 : 0;
  return lines;
}

class ProduceCliTest : public ::testing::Test {
 protected:
  std::string Temp(const std::string& name) {
    paths_.push_back(::testing::TempDir() + UniqueName(name));
    return paths_.back();
  }
  void TearDown() override {
    for (const std::string& path : paths_) std::remove(path.c_str());
  }
  std::vector<std::string> paths_;
};

TEST_F(ProduceCliTest, SameSeedWritesIdenticalFilesQuietly) {
  const std::string first = Temp("a.ndjson");
  const std::string second = Temp("b.ndjson");
  RunResult run = RunPosflow("produce --count 20000 --seed 1 --out " + first);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output, "") << "no progress line when stderr is not a terminal";
  run = RunPosflow("produce --count 20000 --seed 1 --out " + second);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  const std::string bytes = ReadFile(first);
  EXPECT_EQ(Lines(bytes), 20000u);
  EXPECT_TRUE(bytes == ReadFile(second)) << "same seed, different bytes";
}

TEST_F(ProduceCliTest, ValidateRejectsExactlyWhatTheManifestSaysIsBad) {
  const std::string out = Temp("bad.ndjson");
  const std::string manifest_path = Temp("bad.json");
  RunResult run = RunPosflow("produce --count 20000 --seed 3 --bad-ratio 0.05 --out " + out +
                             " --manifest " + manifest_path);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto manifest = sim::ReadManifest(manifest_path);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  EXPECT_EQ(manifest->bad_total, 1000);

  run = RunPosflow("validate --quiet " + out);
  EXPECT_NE(run.exit_code, 0);
  // The summary: "summary: N messages, V valid, I invalid", then "  <code>: <count>" lines.
  const std::size_t summary = run.output.find("summary:");
  ASSERT_NE(summary, std::string::npos) << run.output.substr(0, 2000);
  std::istringstream lines(run.output.substr(summary));
  std::string line;
  std::getline(lines, line);
  EXPECT_NE(line.find("20000 messages"), std::string::npos) << line;
  EXPECT_NE(line.find("19000 valid"), std::string::npos) << line;
  std::map<std::string, std::int64_t> rejected;
  const std::regex by_code(R"(\s+(\S+): (\d+))");
  std::smatch match;
  while (std::getline(lines, line)) {
    if (std::regex_match(line, match, by_code)) rejected[match[1]] = std::stoll(match[2]);
  }
  EXPECT_EQ(rejected, manifest->bad);

  const std::string clean = Temp("clean.ndjson");
  ASSERT_EQ(RunPosflow("produce --count 3000 --seed 4 --out " + clean).exit_code, 0);
  run = RunPosflow("validate --quiet " + clean);
  EXPECT_EQ(run.exit_code, 0) << run.output.substr(0, 2000);
}

TEST_F(ProduceCliTest, RateIsSteadyAndTimesAreNow) {
  const std::string out = Temp("rate.ndjson");
  const std::string manifest_path = Temp("rate.json");
  const auto start = std::chrono::steady_clock::now();
  RunResult run = RunPosflow("produce --rate 400 --duration 1.5 --out " + out + " --manifest " +
                             manifest_path);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto manifest = sim::ReadManifest(manifest_path);
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->stopped_by, "duration");
  EXPECT_NEAR(static_cast<double>(manifest->messages), 600.0, 60.0);
  EXPECT_LT(elapsed, 5.0);
  // Live mode: store-local times of today (give or take a day across time zones).
  const std::int64_t today =
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())
          .time_since_epoch()
          .count();
  const std::optional<CivilDateTime> last = ParseDateTime(manifest->last_time);
  ASSERT_TRUE(last.has_value()) << manifest->last_time;
  EXPECT_LE(std::llabs(DaysFromCivil(last->year, last->month, last->day) - today), 1);
}

TEST_F(ProduceCliTest, InterruptStopsCleanlyWithAManifestOfWhatWasSent) {
  const std::string out = Temp("int.ndjson");
  const std::string manifest_path = Temp("int.json");
  // --foreground: ONE SIGINT, to posflow only. Without it timeout also signals its process
  // group, and a loaded machine can deliver the two separately: a second signal forces exit 130.
  RunResult run = RunPosflow("produce --rate 300 --duration 60 --out " + out + " --manifest " +
                                 manifest_path,
                             "timeout --foreground --preserve-status -s INT 1");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  auto manifest = sim::ReadManifest(manifest_path);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  EXPECT_FALSE(manifest->complete);
  EXPECT_EQ(manifest->stopped_by, "signal");
  EXPECT_GT(manifest->messages, 100);
  EXPECT_EQ(static_cast<std::int64_t>(Lines(ReadFile(out))), manifest->messages);
}

TEST_F(ProduceCliTest, BadOptionsAreOneLineAndExitTwo) {
  for (const char* arguments :
       {"produce --bad-ratio 0.7 --duplicate-ratio 0.5 --out /dev/null",
        "produce --start-date 2026-13-01 --out /dev/null",
        "produce --bad-kinds json.syntax,no.such.kind --out /dev/null",
        "produce --bad-ratio 1.5 --out /dev/null", "produce --compression brotli",
        "produce --stores 99 --out /dev/null"}) {
    RunResult run = RunPosflow(arguments);
    EXPECT_EQ(run.exit_code, 2) << arguments << "\n" << run.output;
    EXPECT_EQ(Lines(run.output), 1u) << arguments << "\n" << run.output;
  }
}

TEST_F(ProduceCliTest, BackfillSpreadsTheCountOverTheDays) {
  const std::string out = Temp("days.ndjson");
  const std::string manifest_path = Temp("days.json");
  RunResult run = RunPosflow("produce --start-date 2026-10-01 --days 30 --count 30000 --stores 4 "
                             "--out " + out + " --manifest " + manifest_path);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto manifest = sim::ReadManifest(manifest_path);
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->messages, 30000);
  EXPECT_EQ(manifest->first_time.substr(0, 10), "2026-10-01");
  EXPECT_EQ(manifest->last_time.substr(0, 10), "2026-10-30");
  EXPECT_EQ(manifest->by_store.size(), 4u);
  EXPECT_GE(manifest->price_changes.size(), 29u * 2);
}

}  // namespace
}  // namespace posflow::testing
