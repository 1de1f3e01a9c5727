#include "integration/ingest_fixture.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "pipeline/init_job.h"

namespace posflow::testing {

void IngestTest::SetUp() {
  StackTest::SetUp();
  if (IsSkipped() || HasFailure()) return;
  work_dir_ = std::filesystem::temp_directory_path() / UniqueName("posflow_ingest");
  std::filesystem::create_directories(work_dir_);
  auto report = pipeline::RunInit(config_, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
}

void IngestTest::TearDown() {
  if (HasFailure()) DumpLog();
  if (!work_dir_.empty()) std::filesystem::remove_all(work_dir_);
  StackTest::TearDown();
}

void IngestTest::DumpLog() const {
  std::string log = ReadTextFile(LogPath());
  if (log.empty()) return;
  if (log.size() > 20000) log = "...\n" + log.substr(log.size() - 20000);
  std::cerr << "---- posflow processes' log (" << LogPath() << ") ----\n" << log << "----\n";
}

std::string IngestTest::ManifestPath(const std::string& name) const {
  return work_dir_ + "/" + name + ".json";
}

sim::Manifest IngestTest::ReadManifestFile(const std::string& name) {
  auto manifest = sim::ReadManifest(ManifestPath(name));
  EXPECT_TRUE(manifest.ok()) << manifest.status().ToString();
  return manifest.ok() ? *manifest : sim::Manifest{};
}

sim::Manifest IngestTest::Produce(const std::vector<std::string>& arguments) {
  static int produced = 0;
  const std::string name = "produce" + std::to_string(produced++);
  std::vector<std::string> all = {"produce", "--brokers", config_.brokers, "--topic",
                                  config_.topic, "--manifest", ManifestPath(name)};
  all.insert(all.end(), arguments.begin(), arguments.end());
  std::string output;
  const int code = RunToCompletion(POSFLOW_BINARY, all, std::chrono::minutes(5), &output);
  EXPECT_EQ(code, 0) << output;
  return ReadManifestFile(name);
}

std::unique_ptr<ChildProcess> IngestTest::StartProducer(const std::vector<std::string>& arguments,
                                                        const std::string& name) {
  std::vector<std::string> all = {"produce", "--brokers", config_.brokers, "--topic",
                                  config_.topic, "--manifest", ManifestPath(name)};
  all.insert(all.end(), arguments.begin(), arguments.end());
  return std::make_unique<ChildProcess>(POSFLOW_BINARY, all, LogPath());
}

namespace {

// `posflow <command>` with `defaults` unless `extra` gives the same flag, then `extra`.
std::vector<std::string> WithDefaults(
    const std::string& command, const std::vector<std::pair<std::string, std::string>>& defaults,
    const std::vector<std::string>& extra) {
  std::vector<std::string> arguments = {command};
  for (const auto& [flag, value] : defaults) {
    if (std::find(extra.begin(), extra.end(), flag) != extra.end()) continue;
    arguments.push_back(flag);
    arguments.push_back(value);
  }
  arguments.insert(arguments.end(), extra.begin(), extra.end());
  return arguments;
}

}  // namespace

std::unique_ptr<ChildProcess> IngestTest::StartRun(const std::vector<std::string>& extra) {
  std::vector<std::string> arguments = StartIngestArguments(extra);
  arguments.front() = "run";
  return std::make_unique<ChildProcess>(POSFLOW_BINARY, arguments, LogPath());
}

std::unique_ptr<ChildProcess> IngestTest::StartEtl(const std::vector<std::string>& extra) {
  return std::make_unique<ChildProcess>(
      POSFLOW_BINARY,
      WithDefaults("etl", {{"--db", config_.db}, {"--metrics-addr", "off"}, {"--log-level", "info"}},
                   extra),
      LogPath());
}

std::unique_ptr<ChildProcess> IngestTest::StartIngest(const std::vector<std::string>& extra) {
  return std::make_unique<ChildProcess>(POSFLOW_BINARY, StartIngestArguments(extra), LogPath());
}

std::vector<std::string> IngestTest::StartIngestArguments(const std::vector<std::string>& extra) {
  const std::vector<std::pair<std::string, std::string>> defaults = {
      {"--db", config_.db},         {"--brokers", config_.brokers}, {"--topic", config_.topic},
      {"--group", config_.group},   {"--metrics-addr", "off"},      {"--log-level", "info"},
      // A killed member's partitions move after 6 s, not 45.
      {"--kafka-opt", "session.timeout.ms=6000"}, {"--kafka-opt", "heartbeat.interval.ms=1500"}};
  // A flag the test gives itself replaces the default.
  return WithDefaults("ingest", defaults, extra);
}

int IngestTest::IngestUntilIdle() {
  auto ingest = StartIngest({"--exit-when-idle", "2"});
  return ingest->Wait(std::chrono::minutes(5));
}

}  // namespace posflow::testing
