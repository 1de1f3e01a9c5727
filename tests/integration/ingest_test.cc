// posflow ingest against the real stack: exact reconciliation, restart, clean stop.
// (Crashes, scale-out and service restarts are in chaos_test.cc, which runs alone.)

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "integration/ingest_fixture.h"
#include "integration/reconcile.h"
#include "pg/connection.h"
#include "warehouse/warehouse_loader.h"
#include "kafka/admin_client.h"
#include "pg/connection.h"
#include "pipeline/ingest_job.h"
#include "pipeline/init_job.h"

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
  // Oversize messages (over 1 MiB) are published cut to 900 KiB, saying so.
  const auto oversize = manifest.bad.find("message.too_large");
  ASSERT_NE(oversize, manifest.bad.end()) << "the seed gives no oversize message any more";
  std::int64_t truncated = 0;
  for (size_t at = output.find("posflow.truncated="); at != std::string::npos;
       at = output.find("posflow.truncated=", at + 1)) {
    ++truncated;
  }
  EXPECT_GE(truncated, oversize->second);
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

// Polls `path` until it contains `needle` or `deadline` passes.
bool WaitForLogLine(const std::string& path, const std::string& needle,
                    std::chrono::seconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (ReadTextFile(path).find(needle) == std::string::npos) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

// --exit-when-idle means the whole group has consumed every partition, not only this member:
// a member that stopped answering keeps its partitions until its session times out, and
// leaving before that would strand what was produced to them (CI caught a restarted ingest
// leaving while killed members still held partitions).
TEST_F(IngestTest, ExitWhenIdleWaitsForPartitionsAStoppedMemberStillHolds) {
  auto producer = StartProducer({"--count", "6000", "--seed", "15", "--rate", "1000"}, "stream");
  const std::string holder_log = work_dir_ + "/holder.log";
  const std::string leaver_log = work_dir_ + "/leaver.log";
  // The holder's session outlives the leaver's idle period by far.
  auto holder = std::make_unique<ChildProcess>(
      POSFLOW_BINARY,
      StartIngestArguments({"--kafka-opt", "session.timeout.ms=15000", "--kafka-opt",
                            "heartbeat.interval.ms=1500"}),
      holder_log);
  auto leaver = std::make_unique<ChildProcess>(
      POSFLOW_BINARY, StartIngestArguments({"--exit-when-idle", "1"}), leaver_log);
  ASSERT_TRUE(WaitForLogLine(holder_log, "starts at", std::chrono::seconds(30)))
      << ReadTextFile(holder_log);
  ASSERT_TRUE(WaitForLogLine(leaver_log, "starts at", std::chrono::seconds(30)))
      << ReadTextFile(leaver_log);
  ASSERT_TRUE(producer->running()) << "the stream ended before both members had partitions";
  holder->Signal(SIGSTOP);
  ASSERT_EQ(producer->Wait(std::chrono::minutes(2)), 0);
  const sim::Manifest manifest = ReadManifestFile("stream");
  EXPECT_EQ(leaver->Wait(std::chrono::minutes(2)), 0);
  holder->Signal(SIGKILL);
  EXPECT_EQ(holder->Wait(std::chrono::seconds(10)), 128 + SIGKILL);
  ExpectReconciled(ReadStagingTotals(config_.db), manifest);
  EXPECT_NE(ReadTextFile(leaver_log).find("waiting for the group to hand it over"),
            std::string::npos)
      << "the stopped member held no unconsumed partition: the test did not test\n"
      << ReadTextFile(leaver_log);
}

// A free loopback TCP port (bound once to find it, then released).
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

// GET http://127.0.0.1:port/path; returns "<status>\n<body>" ("error" when unreachable).
std::string HttpGet(int port, const std::string& path) {
  std::string output;
  RunToCompletion("/usr/bin/env",
                  {"python3", "-c",
                   "import sys, urllib.request, urllib.error\n"
                   "try:\n"
                   "  r = urllib.request.urlopen(sys.argv[1], timeout=5); print(r.status); "
                   "print(r.read().decode())\n"
                   "except urllib.error.HTTPError as e: print(e.code); print(e.read().decode())\n"
                   "except Exception: print('error')\n",
                   "http://127.0.0.1:" + std::to_string(port) + path},
                  std::chrono::seconds(20), &output);
  return output;
}

TEST_F(IngestTest, MetricsCountWhatWasConsumedAndHealthzSaysOk) {
  const sim::Manifest manifest =
      Produce({"--count", "2000", "--seed", "14", "--bad-ratio", "0.05"});
  const int port = FreePort();
  auto ingest = StartIngest({"--metrics-addr", "127.0.0.1:" + std::to_string(port)});
  const StagingTotals totals = WaitForAccounted(config_.db, manifest.messages, std::chrono::seconds(60));
  ASSERT_EQ(totals.Accounted(), manifest.messages);
  // The counters move just after the commit the totals saw: poll them with a deadline.
  const std::string consumed =
      "posflow_messages_consumed_total " + std::to_string(manifest.messages);
  std::string metrics;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    metrics = HttpGet(port, "/metrics");
  } while (metrics.find(consumed) == std::string::npos &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(metrics.rfind("200\n", 0), 0u) << metrics;
  EXPECT_NE(metrics.find(consumed), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("posflow_dead_letters_total{"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("posflow_partition_lag{"), std::string::npos) << metrics;
  EXPECT_EQ(HttpGet(port, "/healthz").rfind("200\nok", 0), 0u);
  ingest->Signal(SIGTERM);
  EXPECT_EQ(ingest->Wait(std::chrono::seconds(15)), 0);
}

// One-hop `posflow run` loads without the ETL lock (it is the staging ETL's), and its staging ETL
// thread, a standby while another process holds that lock, keeps /healthz at 200: with several
// `run` processes in one group all but one are such standbys.
TEST_F(IngestTest, OneHopRunLoadsAndIsHealthyWhileAnotherHoldsTheEtlLock) {
  auto holder = pg::Connection::Open(pg::OptionsFromConfig(config_));
  ASSERT_TRUE(holder.ok()) << holder.status().ToString();
  ASSERT_TRUE(warehouse::AcquireEtlLock(*holder).ok());
  const sim::Manifest manifest = Produce({"--count", "2000", "--seed", "16"});
  const int port = FreePort();
  auto run = StartRun({"--metrics-addr", "127.0.0.1:" + std::to_string(port)});
  const WarehouseTotals totals =
      WaitForLoaded(config_.db, manifest.valid, std::chrono::seconds(60));
  EXPECT_EQ(totals.loaded, manifest.valid) << "one hop waited for the ETL lock";
  // Its ETL thread has tried the lock by now (at start); a few looks at /healthz meanwhile.
  for (int look = 0; look < 5; ++look) {
    const std::string health = HttpGet(port, "/healthz");
    EXPECT_EQ(health.rfind("200\n", 0), 0u) << health;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  run->Signal(SIGTERM);
  EXPECT_EQ(run->Wait(std::chrono::seconds(15)), 0);
  EXPECT_TRUE(warehouse::ReleaseEtlLock(*holder).ok());
}

TEST_F(IngestTest, HealthzTurnsUnhealthyWhilePostgresIsUnreachable) {
  Produce({"--count", "100", "--seed", "15"});
  const int port = FreePort();
  auto ingest = StartIngest({"--metrics-addr", "127.0.0.1:" + std::to_string(port), "--db",
                             "postgresql://127.0.0.1:1/nowhere"});
  std::string health;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    health = HttpGet(port, "/healthz");
    if (health.rfind("503", 0) == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_EQ(health.rfind("503\nunhealthy: ingest:", 0), 0u) << health;
  EXPECT_NE(health.find("PostgreSQL"), std::string::npos) << health;
  ingest->Signal(SIGTERM);
  EXPECT_EQ(ingest->Wait(std::chrono::seconds(15)), 0);
}

TEST_F(IngestTest, ConsumesSeveralTopicsGivenAsAList) {
  const std::string second_topic = config_.topic + "_b";
  Config both = config_;
  both.topic = config_.topic + "," + second_topic;
  auto report = pipeline::RunInit(both, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->topics.size(), 4u);  // each topic and its .dlq
  const sim::Manifest first = Produce({"--count", "1500", "--seed", "16", "--bad-ratio", "0.02"});
  std::string output;
  ASSERT_EQ(RunToCompletion(POSFLOW_BINARY,
                            {"produce", "--topic", second_topic, "--count", "1500", "--seed", "17",
                             "--duplicate-ratio", "0.02", "--manifest", ManifestPath("second")},
                            std::chrono::minutes(2), &output),
            0)
      << output;
  const sim::Manifest second = ReadManifestFile("second");
  auto ingest = StartIngest({"--topic", both.topic, "--exit-when-idle", "2"});
  ASSERT_EQ(ingest->Wait(std::chrono::minutes(3)), 0);
  ExpectReconciled(ReadStagingTotals(config_.db), Sum(first, second));
  Config cleanup = config_;
  cleanup.topic = second_topic;
  if (auto admin = kafka::AdminClient::Create(cleanup); admin.ok()) {
    (void)admin->DeleteTopics({second_topic, second_topic + ".dlq"}, std::chrono::seconds(10));
  }
}

// A topic deleted and recreated under the same name starts its offsets at 0 again: ingest
// must stop with one line naming the recovery instead of crash-looping on duplicate keys, and
// after `posflow offsets archive` consume the new topic from its beginning.
TEST_F(IngestTest, RecreatedTopicStopsIngestWithTheRecoveryCommandAndArchiveResumesIt) {
  const sim::Manifest old_messages = Produce({"--count", "600", "--seed", "21"});
  ASSERT_EQ(IngestUntilIdle(), 0);
  auto admin = kafka::AdminClient::Create(config_);
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  ASSERT_TRUE(admin->DeleteTopics({config_.topic}, std::chrono::seconds(30)).ok());
  // Kafka finishes a deletion in the background: create again until it takes.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool created = false;
  while (!created && std::chrono::steady_clock::now() < deadline) {
    auto report = pipeline::RunInit(config_, {});
    created = report.ok() &&
              admin->DescribeTopic(config_.topic, std::chrono::seconds(5)).ok();
    if (!created) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  ASSERT_TRUE(created) << "the topic was not recreated within 60 s";
  const sim::Manifest new_messages = Produce({"--count", "60", "--seed", "22"});

  std::string output;
  std::vector<std::string> arguments = StartIngestArguments({"--exit-when-idle", "2"});
  EXPECT_EQ(RunToCompletion(POSFLOW_BINARY, arguments, std::chrono::minutes(2), &output), 1)
      << output;
  EXPECT_NE(output.find("posflow offsets archive --topic " + config_.topic), std::string::npos)
      << output;
  // Nothing of the new topic was written under the old topic's records.
  EXPECT_EQ(ReadStagingTotals(config_.db).staged, old_messages.valid);

  ASSERT_EQ(RunToCompletion(POSFLOW_BINARY,
                            {"offsets", "archive", "--topic", config_.topic, "--db", config_.db},
                            std::chrono::seconds(30), &output),
            0)
      << output;
  ASSERT_EQ(IngestUntilIdle(), 0);
  EXPECT_EQ(ReadStagingTotals(config_.db).staged, old_messages.valid + new_messages.valid);
  EXPECT_EQ(RunToCompletion(POSFLOW_BINARY,
                            {"check", "--db", config_.db, "--brokers", config_.brokers,
                             "--topic", config_.topic},
                            std::chrono::minutes(2), &output),
            0)
      << output;
}

// A seek that keeps failing ends ingest with an error naming it, rather than consuming on from
// wherever the consumer stands (which would skip or repeat messages). Seeks are local to
// librdkafka and practically never fail: the consumer's fault injection makes them.
TEST_F(IngestTest, SeekThatKeepsFailingEndsIngestInsteadOfConsumingFromElsewhere) {
  Produce({"--count", "20000", "--seed", "23"});
  pipeline::IngestOptions options;
  options.batch_max_messages = 20;
  options.publish_dead_letters = false;
  options.retry_initial = std::chrono::milliseconds(10);
  options.failing_seeks_for_testing = 1000;
  std::atomic<bool> stop{false};
  auto ingest = std::async(std::launch::async, [&] {
    return pipeline::RunIngest(config_, options, stop, nullptr);
  });
  auto connection = pg::Connection::Open(pg::OptionsFromConfig(config_));
  ASSERT_TRUE(connection.ok()) << connection.status().ToString();
  // Once ingest has committed, a "new owner" moves the stored offsets on: ingest's next batch
  // is fenced, and it must seek to what is stored now.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool started = false;
  while (!started && std::chrono::steady_clock::now() < deadline) {
    auto rows = connection->Query("select count(*) from ops.kafka_offsets");
    started = rows.ok() && rows->Get(0, 0) != "0";
    if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(started) << "ingest committed no batch within 60 s";
  ASSERT_TRUE(connection->Execute("update ops.kafka_offsets set next_offset = next_offset + 1").ok());
  if (ingest.wait_for(std::chrono::minutes(2)) != std::future_status::ready) {
    stop = true;
    FAIL() << "ingest went on for 2 minutes after its seeks failed";
  }
  const Result<pipeline::IngestStats> result = ingest.get();
  ASSERT_FALSE(result.ok()) << "ingest ended without an error";
  EXPECT_NE(result.status().message().find("cannot move the consumer to the stored offset"),
            std::string::npos)
      << result.status().ToString();
  EXPECT_NE(result.status().message().find("injected failure"), std::string::npos);
}

TEST_F(IngestTest, UnknownStagingIsABadConfigurationExitTwo) {
  std::string output;
  const int code = RunToCompletion(POSFLOW_BINARY, {"ingest", "--staging", "cassandra://x"},
                                   std::chrono::seconds(30), &output);
  EXPECT_EQ(code, 2) << output;
}

}  // namespace
}  // namespace posflow::testing
