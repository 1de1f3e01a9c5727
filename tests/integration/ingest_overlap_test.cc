// The ingest loop writes batch N on its writer thread while it consumes and parses batch N+1
// (ingest_job.cc). These tests run the loop in-process on a store that checks the protocol from
// the store's side: no two calls at once, and every write built on the offsets the store really
// holds (a batch prepared on the offsets of a batch that was then fenced must never be written).
// Each write is slowed down so that the next batch is always prepared while it runs.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "integration/ingest_fixture.h"
#include "pg/connection.h"
#include "pipeline/ingest_job.h"
#include "staging/staging_factory.h"
#include "staging/staging_store.h"

namespace posflow::testing {
namespace {

// What a ProbingStore saw; shared by the stores of several members.
struct Probe {
  std::atomic<int> writes{0};
  std::atomic<int> overlapping_calls{0};  // a call while another call of the same store ran
  // Writes whose expected_next differed from what the store held when the write began.
  std::atomic<int> built_on_offsets_not_held{0};
};

// The real staging store, slowed down, with faults injected at given write numbers and the
// protocol checked.
class ProbingStore : public staging::StagingStore {
 public:
  struct Faults {
    int fence_write = 0;             // this write (1-based) returns Aborted, writing nothing
    int unavailable_write = 0;       // this write returns Unavailable this many times...
    int unavailable_times = 0;
    std::chrono::milliseconds write_time{150};  // each write lasts at least this long
  };

  ProbingStore(std::unique_ptr<staging::StagingStore> inner, Faults faults, Probe* probe)
      : inner_(std::move(inner)), faults_(faults), probe_(probe) {}

  Result<std::map<staging::PartitionKey, std::int64_t>> LoadOffsets(
      const std::string& consumer_group,
      const std::vector<staging::PartitionKey>& partitions) override {
    Busy busy(this);
    return inner_->LoadOffsets(consumer_group, partitions);
  }

  Result<staging::BatchResult> WriteBatch(const staging::Batch& batch) override {
    Busy busy(this);
    const int write = ++own_writes_;
    ++probe_->writes;
    std::vector<staging::PartitionKey> keys;
    for (const auto& progress : batch.progress) keys.push_back(progress.partition);
    auto held = inner_->LoadOffsets(batch.consumer_group, keys);
    if (!held.ok()) return held.status();
    for (const auto& progress : batch.progress) {
      auto stored = held->find(progress.partition);
      const std::int64_t holds = stored == held->end() ? staging::kNoOffset : stored->second;
      if (holds != progress.expected_next) ++probe_->built_on_offsets_not_held;
    }
    std::this_thread::sleep_for(faults_.write_time);
    if (write == faults_.fence_write) return Status::Aborted("injected fence");
    if (write == faults_.unavailable_write && unavailable_left_-- > 0) {
      --own_writes_;  // the retry is the same write
      return Status::Unavailable("injected outage");
    }
    return inner_->WriteBatch(batch);
  }

 private:
  struct Busy {
    explicit Busy(ProbingStore* called) : store(called) {
      if (store->busy_.exchange(true)) ++store->probe_->overlapping_calls;
    }
    ~Busy() { store->busy_ = false; }
    ProbingStore* store;
  };

  std::unique_ptr<staging::StagingStore> inner_;
  Faults faults_;
  Probe* probe_;
  std::atomic<bool> busy_{false};
  int own_writes_ = 0;  // only ever touched inside Busy (checked)
  int unavailable_left_ = faults_.unavailable_times;
};

class IngestOverlapTest : public IngestTest {
 protected:
  pipeline::IngestOptions Options() {
    pipeline::IngestOptions options;
    options.batch_max_messages = 1000;
    options.exit_when_idle = std::chrono::seconds(3);
    options.retry_initial = std::chrono::milliseconds(20);
    return options;
  }

  Result<pipeline::IngestStats> Ingest(const pipeline::IngestOptions& options,
                                       ProbingStore::Faults faults, Probe* probe,
                                       const std::atomic<bool>& stop) {
    auto inner = staging::OpenStagingStore(config_);
    if (!inner.ok()) return inner.status();
    return pipeline::RunIngestInto(
        config_, options, stop, nullptr,
        std::make_unique<ProbingStore>(std::move(*inner), faults, probe));
  }
};

TEST_F(IngestOverlapTest, FencedBatchDropsTheBatchPreparedOnItsOffsetsAndStaysExact) {
  const sim::Manifest manifest = Produce(
      {"--count", "20000", "--seed", "31", "--bad-ratio", "0.02", "--duplicate-ratio", "0.02"});
  Probe probe;
  std::atomic<bool> stop{false};
  ProbingStore::Faults faults;
  faults.fence_write = 3;
  const auto stats = Ingest(Options(), faults, &probe, stop);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  // A batch built on the fenced batch's offsets and written anyway would be fenced too.
  EXPECT_EQ(stats->fenced_batches, 1u);
  EXPECT_EQ(probe.built_on_offsets_not_held, 0);
  EXPECT_EQ(probe.overlapping_calls, 0);
  EXPECT_EQ(stats->consumed, static_cast<std::uint64_t>(manifest.messages));
  ExpectReconciled(ReadStagingTotals(config_.db), manifest);
}

TEST_F(IngestOverlapTest, UnavailableStoreRetriesTheWriteInFlightAndStaysExact) {
  const sim::Manifest manifest =
      Produce({"--count", "10000", "--seed", "32", "--bad-ratio", "0.02"});
  Probe probe;
  std::atomic<bool> stop{false};
  ProbingStore::Faults faults;
  faults.unavailable_write = 2;
  faults.unavailable_times = 3;
  const auto stats = Ingest(Options(), faults, &probe, stop);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->fenced_batches, 0u);
  EXPECT_EQ(probe.built_on_offsets_not_held, 0);
  EXPECT_EQ(probe.overlapping_calls, 0);
  ExpectReconciled(ReadStagingTotals(config_.db), manifest);
}

// Three members of one group join and leave while the stream flows and their writes are in
// flight: OnRevoke waits for the write in flight, so no partition's new owner starts before its
// old owner's last write is over, and no batch is built on offsets the store does not hold.
TEST_F(IngestOverlapTest, ThreeMembersRebalancingWhileWritesAreInFlightStayExact) {
  auto producer = StartProducer({"--count", "18000", "--seed", "33", "--rate", "6000",
                                 "--bad-ratio", "0.02", "--duplicate-ratio", "0.02"},
                                "stream");
  Probe probe;
  ProbingStore::Faults faults;
  faults.write_time = std::chrono::milliseconds(100);
  std::atomic<bool> stop_first{false};
  std::atomic<bool> never{false};
  const pipeline::IngestOptions options = Options();
  auto first = std::async(std::launch::async,
                          [&] { return Ingest(options, faults, &probe, stop_first); });
  auto wait_for_writes = [&](int writes) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (probe.writes < writes && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return probe.writes >= writes;
  };
  ASSERT_TRUE(wait_for_writes(3));
  auto second = std::async(std::launch::async,
                           [&] { return Ingest(options, faults, &probe, never); });
  ASSERT_TRUE(wait_for_writes(8));
  auto third = std::async(std::launch::async,
                          [&] { return Ingest(options, faults, &probe, never); });
  ASSERT_TRUE(wait_for_writes(14));
  stop_first = true;  // leaves the group with a write in flight (or just done)
  ASSERT_EQ(producer->Wait(std::chrono::minutes(3)), 0);
  const sim::Manifest manifest = ReadManifestFile("stream");
  std::uint64_t consumed = 0;
  std::uint64_t fenced = 0;
  for (auto* member : {&first, &second, &third}) {
    ASSERT_EQ(member->wait_for(std::chrono::minutes(3)), std::future_status::ready);
    const auto stats = member->get();
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    consumed += stats->consumed;
    fenced += stats->fenced_batches;
  }
  EXPECT_EQ(fenced, 0u) << "an orderly hand-over fenced a batch";
  EXPECT_EQ(probe.built_on_offsets_not_held, 0);
  EXPECT_EQ(probe.overlapping_calls, 0);
  EXPECT_GE(consumed, static_cast<std::uint64_t>(manifest.messages));
  ExpectReconciled(ReadStagingTotals(config_.db), manifest);
}

}  // namespace
}  // namespace posflow::testing
