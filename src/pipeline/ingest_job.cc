#include "pipeline/ingest_job.h"

// Two threads, so that batch N is written while batch N+1 is consumed and parsed.
//
//   main thread:   everything but the write: Poll and the rebalance callbacks inside it,
//                  aligning, parsing and building the next batch, publishing dead letters,
//                  collecting a write (applying its result to stored_, Kafka's committed
//                  offsets, stats_ and the metrics), and every store_->LoadOffsets (OnAssign,
//                  Refence, CaughtUp).
//   writer thread: store_->WriteBatch of the one batch in flight, retried while the store is
//                  unavailable (it reads stop_ and options_, and reports health to the metrics,
//                  which are thread-safe).
//
// Hand-over: Submit() gives the writer one BatchHolder, CollectWrite() waits for it
// (WriterThread's mutex orders the two threads) and applies its result: as soon as the loop
// sees it finished (after each poll), or earlier, blocking, when the next batch is ready or
// something needs the store or its result (rebalance, idle check, the end). In between, that holder
// and store_ belong to the writer thread and the main thread touches neither; every other
// member belongs to the main thread only. At most one write is in flight, so at most two
// batches are in memory (the one being written, the one being prepared), results are applied
// in batch order, and LoadOffsets never runs beside WriteBatch: every caller of it collects the
// write in flight first.
//
// Exactly-once across the overlap: the next batch is aligned and built against the offsets the
// store will hold once the write in flight committed (ExpectedNext: the batch's `next`, else
// stored_), and it is handed over only after that write was collected. When that write was not
// written (fenced, or abandoned when stopped while the store was down), everything consumed
// after it, the prepared batch and pending_, is dropped unwritten and, when fenced, the
// partitions of all of it re-read from the store (Refence): all of it is consumed again.
// OnRevoke collects the write in flight before giving partitions up, so a revoked partition's
// last write is over (committed or fenced) before its new owner reads the store's offset.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include "common/text.h"
#include "event/parser.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "ops/metrics.h"
#include "pg/connection.h"
#include "staging/staging_factory.h"

namespace posflow::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
using staging::PartitionKey;

constexpr std::string_view kHealthComponent = "ingest";

event::ParserOptions ParserOptionsOf(const IngestOptions& options) {
  event::ParserOptions parser = options.validation;
  parser.max_message_bytes = options.max_message_bytes;
  return parser;
}

kafka::ProducerOptions DeadLetterProducerOptions() {
  kafka::ProducerOptions options;
  options.linger_ms = 5;
  options.delivery_timeout = std::chrono::seconds(10);
  return options;
}

// Says which mutex guards a member. Documentation only (as in ops/metrics.cc).
#define POSFLOW_GUARDED_BY(mutex)

// A thread that runs one job at a time for one other thread: Start hands it a job, Wait blocks
// until the job has run. Everything the job did happens-before Wait returns (the mutex).
// REQUIRES: Start and Wait alternate, both called from the same thread.
class WriterThread {
 public:
  WriterThread() : thread_([this] { Loop(); }) {}
  // Runs the job handed over, if any, then ends the thread.
  ~WriterThread() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      quit_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  WriterThread(const WriterThread&) = delete;
  WriterThread& operator=(const WriterThread&) = delete;

  void Start(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      assert(!running_ && "WriterThread: Start while a job runs");
      job_ = std::move(job);
      running_ = true;
    }
    changed_.notify_all();
  }

  void Wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return !running_; });
  }

  // Whether the job handed over has run (Wait would not block).
  bool Finished() {
    std::lock_guard<std::mutex> lock(mutex_);
    return !running_;
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      changed_.wait(lock, [this] { return quit_ || job_ != nullptr; });
      if (job_ == nullptr) return;
      std::function<void()> job = std::move(job_);
      job_ = nullptr;
      lock.unlock();
      job();
      lock.lock();
      running_ = false;
      changed_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;  // job_, running_ or quit_ changed (both directions)
  std::function<void()> job_ POSFLOW_GUARDED_BY(mutex_);  // handed over, not yet started
  bool running_ POSFLOW_GUARDED_BY(mutex_) = false;       // handed over, not yet finished
  bool quit_ POSFLOW_GUARDED_BY(mutex_) = false;
  std::thread thread_;  // last: starts once the members above exist
};

// One batch with everything its views point into: the consumed messages and the parsed
// transactions. Two alternate: the one being written and the one being prepared.
struct BatchHolder {
  std::vector<kafka::Message> messages;
  std::vector<event::Transaction> transactions;  // parsed; reused from batch to batch
  staging::Batch batch;
  std::chrono::duration<double> prepare_time{0};  // parsing and building (for ObserveBatch)
  Clock::time_point submitted;
  // Set by the writer thread while the batch is in flight.
  Result<staging::BatchResult> result = Status::Internal("not written");
  bool abandoned = false;  // stopped while the store was down: not written

  // Releases the messages (and with them the batch's views); keeps the capacity.
  void Clear() {
    batch.valid.clear();
    batch.dead.clear();
    batch.progress.clear();
    batch.replayed_dead_letters.clear();
    messages.clear();
    result = Status::Internal("not written");
    abandoned = false;
  }
};

class IngestLoop : public kafka::RebalanceListener {
 public:
  IngestLoop(const Config& config, const IngestOptions& options, const std::atomic<bool>& stop,
             ops::Metrics* metrics, std::unique_ptr<staging::StagingStore> store)
      : config_(config),
        options_(options),
        stop_(stop),
        metrics_(metrics),
        store_(std::move(store)),
        parser_(ParserOptionsOf(options)) {}

  // Leaves the group while the members the rebalance callback touches are still alive (no
  // write is in flight after Run; the writer thread, the last member, is joined first).
  ~IngestLoop() override {
    if (consumer_) (void)consumer_->Close();
  }

  Status Start(std::unique_ptr<kafka::Consumer> consumer,
               std::optional<kafka::Producer> dead_letter_producer) {
    consumer_ = std::move(consumer);
    dead_letter_producer_ = std::move(dead_letter_producer);
    return consumer_->Subscribe(options_.topics);
  }

  Result<IngestStats> Run();

  void OnAssign(std::vector<kafka::TopicPartitionOffset>* partitions) override;
  void OnRevoke(const std::vector<kafka::TopicPartitionOffset>& partitions, bool lost) override;

 private:
  // Polls and flushes until stopped, idle (exit_when_idle) or failed.
  Status Consume();
  // Aligns and prepares the pending batch, collects the write in flight, then hands the batch
  // to the writer (or drops it, when the write in flight was not written). Returns a failure
  // only when the job must end.
  Status FlushBatch();
  // Moves pending_ into `holder`, parses it and builds its Batch against ExpectedNext.
  void Prepare(BatchHolder& holder);
  // Publishes nothing, writes nothing itself: hands `holder` to the writer thread.
  void Submit(BatchHolder& holder);
  // Writer thread: writes the holder's batch, retrying while the store is unavailable.
  void Write(BatchHolder& holder);
  // Waits for the write in flight, if any, and applies its result. Returns whether it was
  // written (true when none was in flight). When it was not (fenced or abandoned), `prepared`
  // (may be null) and pending_, consumed after it, are dropped unwritten and, when fenced, the
  // partitions of all of them re-read from the store. Failure, which ends the job: the write
  // failed otherwise.
  Result<bool> CollectWrite(BatchHolder* prepared = nullptr);
  // Applies a written batch's result: the refused dead letters, stored_, Kafka's committed
  // offsets, stats_ and the metrics.
  void Apply(BatchHolder& holder);
  // The next offset the store will hold for `key` once the write in flight committed.
  // REQUIRES: `key` is assigned here.
  std::int64_t ExpectedNext(const PartitionKey& key) const {
    auto in_flight = in_flight_next_.find(key);
    return in_flight != in_flight_next_.end() ? in_flight->second : stored_.at(key);
  }
  // Makes every partition's messages in the pending batch start exactly at its stored next
  // offset (exactly-once, tightened): messages below it (redelivered after a seek) leave the
  // batch; a partition whose first message lies beyond it is moved back there and leaves the
  // batch, unless Kafka no longer holds the offsets in between (retention) or the same gap came
  // back after that move (offsets that hold no deliverable message: transaction markers,
  // compaction). Failure, which ends the job: the topic was recreated (Kafka's offsets end
  // below the stored one), or a partition cannot be moved.
  Status AlignBatchWithStoredOffsets();
  // Moves the consumer of `key` to `offset`; retried a few times. Failure ends the job.
  Status SeekOrFail(const PartitionKey& key, std::int64_t offset);
  // Publishes dead letters to "<topic>.dlq" and waits for the broker's acknowledgement.
  // Retried with a new producer after a failure; a payload over
  // options_.dead_letter_max_payload_bytes is published cut, with headers saying so.
  Status PublishDeadLetters(const std::vector<staging::DeadLetter>& letters);
  Status PublishOnce(const std::vector<staging::DeadLetter>& letters);
  // Re-reads the store's offsets of `keys` (those still assigned) and moves the consumer there.
  void Refence(const std::set<PartitionKey>& keys);
  // Waits `delay` unless stopped first. Returns false when stopped.
  bool Backoff(std::chrono::milliseconds delay);
  void SetHealth(bool healthy, const std::string& reason) {
    if (metrics_ != nullptr) metrics_->SetHealth(kHealthComponent, healthy, reason);
  }
  // Whether every assigned partition is staged up to its high watermark (asks the broker).
  // REQUIRES: no write in flight.
  bool CaughtUp();
  // REQUIRES: no write in flight.
  Result<std::map<PartitionKey, std::int64_t>> LoadOffsetsWithRetry(
      const std::vector<PartitionKey>& keys);

  const Config& config_;
  const IngestOptions& options_;
  const std::atomic<bool>& stop_;
  ops::Metrics* metrics_;
  std::unique_ptr<staging::StagingStore> store_;
  std::unique_ptr<kafka::Consumer> consumer_;
  std::optional<kafka::Producer> dead_letter_producer_;
  event::Parser parser_;

  // The store's next offset of every assigned partition (staging::kNoOffset: none stored yet),
  // as of the last write collected.
  std::map<PartitionKey, std::int64_t> stored_;
  // The batch being filled.
  std::vector<kafka::Message> pending_;
  std::size_t pending_bytes_ = 0;
  Clock::time_point batch_deadline_;
  // Per partition, the first offset of a gap this member moved back from once (see
  // AlignBatchWithStoredOffsets); the same gap again is accepted.
  std::map<PartitionKey, std::int64_t> gap_moved_back_;
  IngestStats stats_;
  Status fatal_;  // set by a callback that cannot return a Status

  std::array<BatchHolder, 2> holders_;
  BatchHolder* in_flight_ = nullptr;  // handed to the writer and not collected yet
  // The in-flight batch's `next` per partition: what the store holds once it committed.
  std::map<PartitionKey, std::int64_t> in_flight_next_;
  // Last: joined first on destruction, before the members its jobs use are gone.
  WriterThread writer_;
};

Result<std::map<PartitionKey, std::int64_t>> IngestLoop::LoadOffsetsWithRetry(
    const std::vector<PartitionKey>& keys) {
  assert(in_flight_ == nullptr && "LoadOffsets beside the writer's WriteBatch");
  std::chrono::milliseconds delay = options_.retry_initial;
  while (true) {
    auto offsets = store_->LoadOffsets(config_.group, keys);
    if (offsets.ok() || offsets.status().code() != Status::Code::kUnavailable) return offsets;
    spdlog::error("ingest: {} (retrying in {} ms)", offsets.status().message(), delay.count());
    SetHealth(false, offsets.status().message());
    if (!Backoff(delay)) return offsets.status();
    delay = std::min(delay * 2, options_.retry_max);
  }
}

void IngestLoop::OnAssign(std::vector<kafka::TopicPartitionOffset>* partitions) {
  // The store is not thread-safe: its LoadOffsets waits for the write in flight.
  Result<bool> written = CollectWrite();
  if (!written.ok() && fatal_.ok()) fatal_ = written.status();
  std::vector<PartitionKey> keys;
  for (const auto& partition : *partitions) keys.push_back({partition.topic, partition.partition});
  auto offsets = LoadOffsetsWithRetry(keys);
  if (!offsets.ok()) {
    // Stopped while the store was down: take the partitions but consume nothing from them.
    if (fatal_.ok() && !stop_) fatal_ = offsets.status();
    for (auto& partition : *partitions) partition.offset = kafka::TopicPartitionOffset::kBeginning;
    return;
  }
  for (auto& partition : *partitions) {
    const PartitionKey key{partition.topic, partition.partition};
    auto stored = offsets->find(key);
    if (stored == offsets->end()) {
      partition.offset = kafka::TopicPartitionOffset::kBeginning;
      stored_[key] = staging::kNoOffset;
    } else {
      partition.offset = stored->second;
      stored_[key] = stored->second;
    }
    spdlog::info("ingest: {}[{}] starts at {}", partition.topic, partition.partition,
                 stored == offsets->end() ? std::string("the beginning")
                                          : std::to_string(stored->second));
  }
}

void IngestLoop::OnRevoke(const std::vector<kafka::TopicPartitionOffset>& partitions, bool lost) {
  // The write in flight may hold revoked partitions: it ends (committed or fenced) before their
  // new owner reads the store's offsets, and its result is applied while they are still ours.
  Result<bool> written = CollectWrite();
  if (!written.ok() && fatal_.ok()) fatal_ = written.status();
  for (const auto& partition : partitions) {
    const PartitionKey key{partition.topic, partition.partition};
    stored_.erase(key);
    if (metrics_ != nullptr) metrics_->RemovePartition(partition.topic, partition.partition);
  }
  // Messages of revoked partitions leave the pending batch: their new owner reads them again
  // from the store's offset.
  const size_t before = pending_.size();
  std::erase_if(pending_, [&](const kafka::Message& message) {
    return stored_.count(PartitionKey{std::string(message.topic()), message.partition()}) == 0;
  });
  pending_bytes_ = 0;
  for (const auto& message : pending_) pending_bytes_ += message.payload().size();
  if (before != pending_.size()) {
    spdlog::info("ingest: dropped {} pending messages of {} partitions",
                 before - pending_.size(), lost ? "lost" : "revoked");
  }
}

bool IngestLoop::Backoff(std::chrono::milliseconds delay) {
  const auto until = Clock::now() + delay;
  while (Clock::now() < until) {
    if (stop_) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(50),
                                                          until - Clock::now()));
  }
  return !stop_;
}

void IngestLoop::Refence(const std::set<PartitionKey>& keys) {
  std::vector<PartitionKey> owned_keys;
  for (const PartitionKey& key : keys) {
    if (stored_.count(key) != 0) owned_keys.push_back(key);
  }
  if (owned_keys.empty()) return;
  auto offsets = LoadOffsetsWithRetry(owned_keys);
  if (!offsets.ok()) return;
  for (const PartitionKey& key : owned_keys) {
    auto owned = stored_.find(key);
    if (owned == stored_.end()) continue;  // no longer ours
    auto stored = offsets->find(key);
    const std::int64_t next =
        stored == offsets->end() ? kafka::TopicPartitionOffset::kBeginning : stored->second;
    owned->second = stored == offsets->end() ? staging::kNoOffset : stored->second;
    Status status = SeekOrFail(key, next);
    if (!status.ok() && fatal_.ok()) fatal_ = status;
  }
}

Status IngestLoop::SeekOrFail(const PartitionKey& key, std::int64_t offset) {
  constexpr int kAttempts = 3;
  std::chrono::milliseconds delay = options_.retry_initial;
  for (int attempt = 1;; ++attempt) {
    Status status = consumer_->Seek({key.topic, key.partition, offset});
    if (status.ok()) return status;
    spdlog::error("ingest: {} (attempt {} of {})", status.message(), attempt, kAttempts);
    if (attempt == kAttempts || !Backoff(delay)) {
      // Consuming on from wherever the consumer stands would skip or repeat messages.
      return Status::Unavailable(status.message() +
                                 ": cannot move the consumer to the stored offset " +
                                 std::to_string(offset) + "; stopping rather than consuming "
                                 "from elsewhere (restart ingest)");
    }
    delay = std::min(delay * 2, options_.retry_max);
  }
}

Status IngestLoop::AlignBatchWithStoredOffsets() {
  std::map<PartitionKey, std::int64_t> first_offsets;
  for (const kafka::Message& message : pending_) {
    const PartitionKey key{std::string(message.topic()), message.partition()};
    auto [entry, inserted] = first_offsets.emplace(key, message.offset());
    if (!inserted) entry->second = std::min(entry->second, message.offset());
  }
  std::set<PartitionKey> dropped;  // partitions whose messages leave the batch
  std::map<PartitionKey, std::int64_t> below;  // partitions with messages below the stored offset
  for (const auto& [key, first] : first_offsets) {
    // As the store will be once the write in flight committed.
    const std::int64_t stored = ExpectedNext(key);
    if (stored == staging::kNoOffset || first == stored) {
      gap_moved_back_.erase(key);
      continue;
    }
    std::int64_t low = -1;
    std::int64_t high = -1;
    const bool known =
        consumer_->QueryWatermarks(key.topic, key.partition, std::chrono::seconds(5), &low, &high)
            .ok();
    if (first < stored) {
      if (known && high < stored) {
        return Status::FailedPrecondition(
            key.topic + "[" + std::to_string(key.partition) + "]: Kafka's offsets end at " +
            std::to_string(high) + " but ingest stored " + std::to_string(stored) +
            " as the next to read: the topic was deleted and recreated (or truncated), so its "
            "new offsets cannot be told from the old ones. To consume the new topic from its "
            "beginning, keeping the old records under another name, run: posflow offsets "
            "archive --topic " + key.topic);
      }
      below[key] = stored;
      continue;
    }
    // first > stored: the offsets in between never reached this batch.
    if (known && low > stored) {
      spdlog::error("ingest: {}[{}]: offsets {} to {} were deleted by Kafka's retention before "
                    "ingest read them: those messages are lost (posflow check will show the "
                    "gap)",
                    key.topic, key.partition, stored, low - 1);
      gap_moved_back_.erase(key);
      continue;
    }
    auto moved = gap_moved_back_.find(key);
    if (moved != gap_moved_back_.end() && moved->second == first) {
      spdlog::warn("ingest: {}[{}]: offsets {} to {} hold no message Kafka delivers "
                   "(transaction markers or compaction); going on from {}",
                   key.topic, key.partition, stored, first - 1, first);
      gap_moved_back_.erase(moved);
      continue;
    }
    spdlog::warn("ingest: {}[{}]: the batch starts at {} but the stored next offset is {}; "
                 "moving back there",
                 key.topic, key.partition, first, stored);
    gap_moved_back_[key] = first;
    POSFLOW_RETURN_IF_ERROR(SeekOrFail(key, stored));
    dropped.insert(key);
  }
  if (dropped.empty() && below.empty()) return Status::Ok();
  const size_t before = pending_.size();
  std::erase_if(pending_, [&](const kafka::Message& message) {
    const PartitionKey key{std::string(message.topic()), message.partition()};
    if (dropped.count(key) != 0) return true;
    auto stored = below.find(key);
    return stored != below.end() && message.offset() < stored->second;
  });
  pending_bytes_ = 0;
  for (const auto& message : pending_) pending_bytes_ += message.payload().size();
  spdlog::warn("ingest: {} messages left the batch to keep each partition exactly at its stored "
               "offset",
               before - pending_.size());
  // What is left of a partition that had messages below its offset must start at it.
  if (!below.empty() && !pending_.empty()) return AlignBatchWithStoredOffsets();
  return Status::Ok();
}

Status IngestLoop::PublishOnce(const std::vector<staging::DeadLetter>& letters) {
  for (const staging::DeadLetter& letter : letters) {
    std::string reasons;
    std::string details;
    for (const event::Problem& problem : letter.problems) {
      if (!reasons.empty()) reasons += ',';
      reasons += StorableText(problem.code, 200);
      if (!details.empty()) details += '\n';
      details += StorableText(problem.message, 1000);
    }
    const std::string source = std::string(letter.source.topic) + "/" +
                               std::to_string(letter.source.partition) + "/" +
                               std::to_string(letter.source.offset);
    std::vector<std::pair<std::string, std::string>> headers = {
        {"posflow.reasons", reasons}, {"posflow.details", details}, {"posflow.source", source}};
    // The broker refuses a record over its message.max.bytes (1 MB by default), and a refused
    // delivery would fail the producer: a larger payload is cut, and the headers say so and
    // where the whole bytes are.
    std::string_view payload = letter.payload;
    if (payload.size() > options_.dead_letter_max_payload_bytes) {
      headers.emplace_back("posflow.truncated", std::to_string(payload.size()));
      headers.emplace_back("posflow.whole_payload",
                           "ops.dead_letter where (topic, kafka_partition, kafka_offset) = (" +
                               std::string(letter.source.topic) + ", " +
                               std::to_string(letter.source.partition) + ", " +
                               std::to_string(letter.source.offset) + ")");
      payload = payload.substr(0, options_.dead_letter_max_payload_bytes);
    }
    std::string_view key = letter.key.substr(0, options_.dead_letter_max_payload_bytes);
    POSFLOW_RETURN_IF_ERROR(dead_letter_producer_->Produce(std::string(letter.source.topic) + ".dlq",
                                                           key, payload, headers));
  }
  return dead_letter_producer_->Flush(std::chrono::seconds(10));
}

Status IngestLoop::PublishDeadLetters(const std::vector<staging::DeadLetter>& letters) {
  if (!dead_letter_producer_ || letters.empty()) return Status::Ok();
  constexpr int kAttempts = 3;
  std::chrono::milliseconds delay = options_.retry_initial;
  Status status = Status::Ok();
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    status = PublishOnce(letters);
    if (status.ok()) return status;
    spdlog::warn("ingest: publishing {} dead letters to the .dlq topic (attempt {} of {}): {}",
                 letters.size(), attempt, kAttempts, status.message());
    // A producer whose delivery failed stays failed: the retry gets a new one (and sends the
    // whole set again: at-least-once in the topic).
    auto fresh = kafka::Producer::Create(config_, DeadLetterProducerOptions());
    if (fresh.ok()) {
      dead_letter_producer_.emplace(std::move(fresh).value());
    } else {
      spdlog::error("ingest: recreating the dead-letter producer: {}", fresh.status().message());
    }
    if (attempt < kAttempts && !Backoff(delay)) break;
    delay = std::min(delay * 2, options_.retry_max);
  }
  ++stats_.dead_letters_unpublished;
  return status.WithContext("dead letters not published to the .dlq topic (they are in "
                            "ops.dead_letter: posflow dlq list)");
}

Status IngestLoop::FlushBatch() {
  if (!fatal_.ok()) return fatal_;
  if (pending_.empty()) return Status::Ok();
  POSFLOW_RETURN_IF_ERROR(AlignBatchWithStoredOffsets());
  if (pending_.empty()) return Status::Ok();
  BatchHolder& holder = in_flight_ == &holders_[0] ? holders_[1] : holders_[0];
  Prepare(holder);
  // Two batches at most: this one waits for the one in flight, whose result decides whether
  // this one (built on its offsets) may be written at all.
  Result<bool> written = CollectWrite(&holder);
  if (!written.ok()) {
    holder.Clear();
    return written.status();
  }
  if (!*written) return Status::Ok();  // dropped with it: consumed again

  // Dead letters reach their topic before the batch commits: a crash in between publishes them
  // again when the batch is consumed again (at-least-once there; ops.dead_letter is exactly
  // once). Those PostgreSQL refuses are known only after the write, and follow it (Apply).
  Status published = PublishDeadLetters(holder.batch.dead);
  if (!published.ok()) spdlog::error("ingest: publishing dead letters: {}", published.message());
  Submit(holder);
  return Status::Ok();
}

void IngestLoop::Prepare(BatchHolder& holder) {
  const auto started = Clock::now();
  holder.Clear();
  holder.messages.swap(pending_);
  pending_bytes_ = 0;
  staging::Batch& batch = holder.batch;
  batch.consumer_group = config_.group;
  if (holder.transactions.size() < holder.messages.size()) {
    holder.transactions.resize(holder.messages.size());
  }
  std::map<PartitionKey, std::int64_t> next_offsets;
  std::vector<event::Problem> problems;
  for (size_t index = 0; index < holder.messages.size(); ++index) {
    const kafka::Message& message = holder.messages[index];
    const staging::KafkaCoordinates source{message.topic(), message.partition(), message.offset()};
    event::Transaction* transaction = &holder.transactions[index];
    if (parser_.Parse(message.payload(), transaction, &problems)) {
      batch.valid.push_back({source, message.key(), message.payload(), transaction});
    } else {
      batch.dead.push_back({source, message.key(), message.payload(), problems});
    }
    std::int64_t& next = next_offsets[PartitionKey{std::string(message.topic()), message.partition()}];
    next = std::max(next, message.offset() + 1);
  }
  for (const auto& [key, next] : next_offsets) {
    batch.progress.push_back({key, ExpectedNext(key), next});
  }
  holder.prepare_time = Clock::now() - started;
}

void IngestLoop::Submit(BatchHolder& holder) {
  assert(in_flight_ == nullptr && "two writes in flight");
  for (const auto& progress : holder.batch.progress) {
    in_flight_next_[progress.partition] = progress.next;
  }
  in_flight_ = &holder;
  holder.submitted = Clock::now();
  writer_.Start([this, &holder] { Write(holder); });
}

// Writer thread: touches only `holder`, store_, and the thread-safe stop_, options_, metrics_.
void IngestLoop::Write(BatchHolder& holder) {
  std::chrono::milliseconds delay = options_.retry_initial;
  while (true) {
    holder.result = store_->WriteBatch(holder.batch);
    if (holder.result.ok() || holder.result.status().code() != Status::Code::kUnavailable) return;
    spdlog::error("ingest: {} (retrying in {} ms)", holder.result.status().message(),
                  delay.count());
    SetHealth(false, holder.result.status().message());
    if (!Backoff(delay)) {
      holder.abandoned = true;
      return;
    }
    delay = std::min(delay * 2, options_.retry_max);
  }
}

Result<bool> IngestLoop::CollectWrite(BatchHolder* prepared) {
  if (in_flight_ == nullptr) return true;
  writer_.Wait();
  BatchHolder& holder = *std::exchange(in_flight_, nullptr);
  in_flight_next_.clear();
  if (!holder.abandoned && holder.result.ok()) {
    Apply(holder);
    holder.Clear();
    return true;
  }
  if (!holder.abandoned && holder.result.status().code() != Status::Code::kAborted) {
    Status failed = holder.result.status().WithContext(
        "staging a batch (is the schema up to date? run posflow init)");
    holder.Clear();
    return failed;
  }
  // Not written: what was consumed after it was prepared against its offsets, and goes too.
  const bool abandoned = holder.abandoned;
  std::set<PartitionKey> keys;
  for (const auto& progress : holder.batch.progress) keys.insert(progress.partition);
  std::size_t after = pending_.size();
  if (prepared != nullptr) {
    for (const auto& progress : prepared->batch.progress) keys.insert(progress.partition);
    after += prepared->messages.size();
  }
  for (const kafka::Message& message : pending_) {
    keys.insert(PartitionKey{std::string(message.topic()), message.partition()});
  }
  if (abandoned) {
    // Only when stopped (Backoff): nothing more is written, and the next run starts from the
    // store's offsets.
    spdlog::warn("ingest: stopped while the store was down; the batch of {} messages (and {} "
                 "consumed after it) was not written and will be consumed again",
                 holder.messages.size(), after);
  } else {
    spdlog::warn("ingest: {}", holder.result.status().message());
    if (after != 0) {
      spdlog::warn("ingest: the {} messages consumed after the fenced batch leave too and are "
                   "consumed again",
                   after);
    }
    ++stats_.fenced_batches;
  }
  holder.Clear();
  if (prepared != nullptr) prepared->Clear();
  pending_.clear();
  pending_bytes_ = 0;
  if (!abandoned) Refence(keys);
  return false;
}

void IngestLoop::Apply(BatchHolder& holder) {
  const staging::Batch& batch = holder.batch;
  const staging::BatchResult& result = *holder.result;
  Status published = PublishDeadLetters(result.refused);
  if (!published.ok()) spdlog::error("ingest: publishing dead letters: {}", published.message());

  std::vector<kafka::TopicPartitionOffset> commits;
  for (const auto& progress : batch.progress) {
    // Still ours: OnRevoke collects the write in flight before it gives partitions up.
    auto owned = stored_.find(progress.partition);
    if (owned == stored_.end()) continue;
    owned->second = progress.next;
    commits.push_back({progress.partition.topic, progress.partition.partition, progress.next});
    if (metrics_ != nullptr) {
      metrics_->SetCommittedOffset(progress.partition.topic, progress.partition.partition,
                                   progress.next);
      const std::int64_t high =
          consumer_->HighWatermark(progress.partition.topic, progress.partition.partition);
      if (high >= 0) {
        metrics_->SetPartitionLag(progress.partition.topic, progress.partition.partition,
                                  std::max<std::int64_t>(0, high - progress.next));
      }
    }
  }
  Status committed = consumer_->CommitAsync(commits);
  if (!committed.ok()) spdlog::warn("ingest: {}", committed.message());

  const std::size_t consumed = holder.messages.size();
  stats_.consumed += consumed;
  stats_.staged += result.staged;
  stats_.duplicates += result.duplicates;
  stats_.dead_lettered += result.dead_lettered;
  ++stats_.batches;
  if (metrics_ != nullptr) {
    metrics_->RecordCommit(kHealthComponent);
    metrics_->AddConsumed(consumed);
    metrics_->AddStaged(result.staged);
    metrics_->AddDuplicates(result.duplicates);
    for (const auto& letter : batch.dead) {
      for (const auto& problem : letter.problems) metrics_->AddDeadLettered(problem.code, 1);
    }
    for (const auto& letter : result.refused) {
      metrics_->AddDeadLettered(letter.problems.front().code, 1);
    }
    // Parsing plus the write; not the wait for the write before it.
    const std::chrono::duration<double> seconds =
        holder.prepare_time + (Clock::now() - holder.submitted);
    metrics_->ObserveBatch(consumed, seconds.count());
  }
  SetHealth(consumer_->healthy(), consumer_->healthy() ? "" : "Kafka unreachable");
  spdlog::debug("ingest: batch of {} messages: {} staged, {} duplicates, {} dead letters",
                consumed, result.staged, result.duplicates, result.dead_lettered);
}

// Caught up = every partition of every subscribed topic, not only the assigned ones, is
// consumed to its high watermark: right after a member died, its partitions stay unassigned
// until the broker notices (session timeout), and exiting then would leave them unconsumed.
// Partitions of other members are judged by the offsets they stored.
bool IngestLoop::CaughtUp() {
  assert(in_flight_ == nullptr && "LoadOffsets beside the writer's WriteBatch");
  if (stored_.empty()) return false;  // not (yet) a member with partitions
  std::vector<PartitionKey> all;
  for (const std::string& topic : options_.topics) {
    auto count = consumer_->PartitionCount(topic, std::chrono::seconds(5));
    if (!count.ok()) return false;
    for (std::int32_t partition = 0; partition < *count; ++partition) {
      all.push_back(PartitionKey{topic, partition});
    }
  }
  auto others = store_->LoadOffsets(config_.group, all);
  if (!others.ok()) return false;
  for (const PartitionKey& key : all) {
    const auto mine = stored_.find(key);
    const auto theirs = others->find(key);
    const std::int64_t stored = mine != stored_.end()     ? mine->second
                                : theirs != others->end() ? theirs->second
                                                          : staging::kNoOffset;
    std::int64_t low = -1;
    std::int64_t high = -1;
    if (!consumer_->QueryWatermarks(key.topic, key.partition, std::chrono::seconds(5), &low, &high)
             .ok()) {
      return false;
    }
    const bool done = stored == staging::kNoOffset ? high <= low : stored >= high;
    if (!done) {
      if (mine == stored_.end()) {
        spdlog::info("ingest: idle, but {}[{}] is not consumed yet (stored offset {}, high {}) "
                     "and not assigned here: waiting for the group to hand it over",
                     key.topic, key.partition, stored, high);
      }
      return false;
    }
  }
  return true;
}

Result<IngestStats> IngestLoop::Run() {
  SetHealth(true, "");
  Status status = Consume();
  // Finish the batch being filled (unless the store is down: then it is abandoned, unwritten).
  if (status.ok()) status = FlushBatch();
  if (!status.ok()) {
    // The job ends: only wait for the write in flight (no write outlives Run), without
    // applying it: that could mean re-reading offsets from a store that is down.
    if (in_flight_ != nullptr) {
      writer_.Wait();
      std::exchange(in_flight_, nullptr)->Clear();
      in_flight_next_.clear();
    }
    return status;
  }
  Result<bool> written = CollectWrite();
  if (!written.ok()) return written.status();
  Status closed = consumer_->Close();
  if (!closed.ok()) spdlog::warn("ingest: {}", closed.message());
  return stats_;
}

Status IngestLoop::Consume() {
  auto last_message = Clock::now();
  while (!stop_) {
    if (!fatal_.ok()) return fatal_;
    const auto now = Clock::now();
    std::chrono::milliseconds timeout(100);
    if (!pending_.empty()) {
      timeout = std::max(std::chrono::milliseconds(0),
                         std::chrono::duration_cast<std::chrono::milliseconds>(batch_deadline_ - now));
    }
    auto polled = consumer_->Poll(timeout);
    if (!polled.ok()) return polled.status();
    if (polled->has_value()) {
      kafka::Message message = std::move(**polled);
      last_message = Clock::now();
      // After a seek, librdkafka may still hand over a prefetched message of a partition we
      // no longer own; the store's offsets make it harmless, but skip it early.
      if (stored_.count(PartitionKey{std::string(message.topic()), message.partition()}) != 0) {
        if (pending_.empty()) batch_deadline_ = Clock::now() + options_.batch_max_wait;
        pending_bytes_ += message.payload().size();
        pending_.push_back(std::move(message));
      }
    } else if (!consumer_->healthy()) {
      SetHealth(false, "Kafka unreachable");
    }
    // The result of a finished write is applied now, not with the next batch: the stored
    // offsets, Kafka's committed ones and the metrics must not wait for more messages.
    if (in_flight_ != nullptr && writer_.Finished()) {
      POSFLOW_RETURN_IF_ERROR(CollectWrite().status());
    }
    const bool full = pending_.size() >= options_.batch_max_messages ||
                      pending_bytes_ >= options_.batch_max_bytes;
    if (full || (!pending_.empty() && Clock::now() >= batch_deadline_)) {
      POSFLOW_RETURN_IF_ERROR(FlushBatch());
    }
    if (options_.exit_when_idle.count() > 0 && pending_.empty() &&
        Clock::now() - last_message >= options_.exit_when_idle) {
      // CaughtUp reads the store (never beside a write) and judges by what was written.
      POSFLOW_RETURN_IF_ERROR(CollectWrite().status());
      if (CaughtUp()) {
        spdlog::info("ingest: caught up and idle for {} ms, exiting",
                     options_.exit_when_idle.count());
        return Status::Ok();
      }
      last_message = Clock::now();  // check again after another idle period
    }
  }
  return Status::Ok();
}

}  // namespace

Result<IngestStats> RunIngest(const Config& config, const IngestOptions& options,
                              const std::atomic<bool>& stop, ops::Metrics* metrics) {
  auto store = staging::OpenStagingStore(config);
  if (!store.ok()) return store.status();
  return RunIngestInto(config, options, stop, metrics, std::move(*store));
}

Result<IngestStats> RunIngestInto(const Config& config, const IngestOptions& given_options,
                                  const std::atomic<bool>& stop, ops::Metrics* metrics,
                                  std::unique_ptr<staging::StagingStore> store) {
  IngestOptions options = given_options;
  if (options.topics.empty()) options.topics = config.Topics();
  if (options.batch_max_messages == 0 || options.batch_max_bytes == 0) {
    return Status::InvalidArgument("batch limits must be positive");
  }
  IngestLoop loop(config, options, stop, metrics, std::move(store));
  kafka::ConsumerOptions consumer_options;
  consumer_options.failing_seeks_for_testing = options.failing_seeks_for_testing;
  consumer_options.max_message_bytes =
      static_cast<int>(std::max<std::size_t>(options.max_message_bytes * 2, 1u << 20));
  auto consumer = kafka::Consumer::Create(config, consumer_options, &loop);
  if (!consumer.ok()) return consumer.status();
  std::optional<kafka::Producer> dead_letter_producer;
  if (options.publish_dead_letters) {
    auto producer = kafka::Producer::Create(config, DeadLetterProducerOptions());
    if (!producer.ok()) return producer.status();
    dead_letter_producer.emplace(std::move(producer).value());
  }
  POSFLOW_RETURN_IF_ERROR(loop.Start(std::move(consumer).value(), std::move(dead_letter_producer)));
  return loop.Run();
}

}  // namespace posflow::pipeline
