#include "pipeline/ingest_job.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <memory>
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

  // Leaves the group while the members the rebalance callback touches are still alive.
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
  // Writes the pending batch. Returns a failure only when the job must end.
  Status FlushBatch();
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
  // Re-reads the store's offsets of the batch's partitions and moves the consumer there.
  void Refence(const staging::Batch& batch);
  // Waits `delay` unless stopped first. Returns false when stopped.
  bool Backoff(std::chrono::milliseconds delay);
  void SetHealth(bool healthy, const std::string& reason) {
    if (metrics_ != nullptr) metrics_->SetHealth(kHealthComponent, healthy, reason);
  }
  // Whether every assigned partition is staged up to its high watermark (asks the broker).
  bool CaughtUp();
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

  // The store's next offset of every assigned partition (staging::kNoOffset: none stored yet).
  std::map<PartitionKey, std::int64_t> stored_;
  std::vector<kafka::Message> pending_;
  std::size_t pending_bytes_ = 0;
  Clock::time_point batch_deadline_;
  std::vector<event::Transaction> transactions_;  // parsed batch, reused
  // Per partition, the first offset of a gap this member moved back from once (see
  // AlignBatchWithStoredOffsets); the same gap again is accepted.
  std::map<PartitionKey, std::int64_t> gap_moved_back_;
  IngestStats stats_;
  Status fatal_;  // set by a callback that cannot return a Status
};

Result<std::map<PartitionKey, std::int64_t>> IngestLoop::LoadOffsetsWithRetry(
    const std::vector<PartitionKey>& keys) {
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

void IngestLoop::Refence(const staging::Batch& batch) {
  std::vector<PartitionKey> keys;
  for (const auto& progress : batch.progress) keys.push_back(progress.partition);
  auto offsets = LoadOffsetsWithRetry(keys);
  if (!offsets.ok()) return;
  for (const PartitionKey& key : keys) {
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
    const std::int64_t stored = stored_.at(key);
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
  if (pending_.empty()) return Status::Ok();
  POSFLOW_RETURN_IF_ERROR(AlignBatchWithStoredOffsets());
  if (pending_.empty()) return Status::Ok();
  const auto started = Clock::now();
  staging::Batch batch;
  batch.consumer_group = config_.group;
  if (transactions_.size() < pending_.size()) transactions_.resize(pending_.size());
  std::map<PartitionKey, std::int64_t> next_offsets;
  std::vector<event::Problem> problems;
  for (size_t index = 0; index < pending_.size(); ++index) {
    const kafka::Message& message = pending_[index];
    const staging::KafkaCoordinates source{message.topic(), message.partition(), message.offset()};
    if (parser_.Parse(message.payload(), &transactions_[index], &problems)) {
      batch.valid.push_back({source, message.key(), message.payload(), &transactions_[index]});
    } else {
      batch.dead.push_back({source, message.key(), message.payload(), problems});
    }
    std::int64_t& next = next_offsets[PartitionKey{std::string(message.topic()), message.partition()}];
    next = std::max(next, message.offset() + 1);
  }
  for (const auto& [key, next] : next_offsets) {
    batch.progress.push_back({key, stored_.at(key), next});
  }

  // Dead letters reach their topic before the batch commits: a crash in between publishes them
  // again when the batch is consumed again (at-least-once there; ops.dead_letter is exactly
  // once). Those PostgreSQL refuses are known only after the write, and follow it.
  Status published = PublishDeadLetters(batch.dead);
  if (!published.ok()) spdlog::error("ingest: publishing dead letters: {}", published.message());

  std::chrono::milliseconds delay = options_.retry_initial;
  Result<staging::BatchResult> result = Status::Internal("not written");
  while (true) {
    result = store_->WriteBatch(batch);
    if (result.ok()) break;
    if (result.status().code() == Status::Code::kAborted) {
      spdlog::warn("ingest: {}", result.status().message());
      ++stats_.fenced_batches;
      Refence(batch);
      pending_.clear();
      pending_bytes_ = 0;
      return Status::Ok();
    }
    if (result.status().code() != Status::Code::kUnavailable) {
      return result.status().WithContext("staging a batch (is the schema up to date? run posflow init)");
    }
    spdlog::error("ingest: {} (retrying in {} ms)", result.status().message(), delay.count());
    SetHealth(false, result.status().message());
    if (!Backoff(delay)) {
      spdlog::warn("ingest: stopped while the store was down; the batch of {} messages was not "
                   "written and will be consumed again",
                   pending_.size());
      pending_.clear();
      pending_bytes_ = 0;
      return Status::Ok();
    }
    delay = std::min(delay * 2, options_.retry_max);
  }
  published = PublishDeadLetters(result->refused);
  if (!published.ok()) spdlog::error("ingest: publishing dead letters: {}", published.message());

  std::vector<kafka::TopicPartitionOffset> commits;
  for (const auto& progress : batch.progress) {
    stored_[progress.partition] = progress.next;
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

  stats_.consumed += pending_.size();
  stats_.staged += result->staged;
  stats_.duplicates += result->duplicates;
  stats_.dead_lettered += result->dead_lettered;
  ++stats_.batches;
  if (metrics_ != nullptr) {
    metrics_->RecordCommit(kHealthComponent);
    metrics_->AddConsumed(pending_.size());
    metrics_->AddStaged(result->staged);
    metrics_->AddDuplicates(result->duplicates);
    for (const auto& letter : batch.dead) {
      for (const auto& problem : letter.problems) metrics_->AddDeadLettered(problem.code, 1);
    }
    for (const auto& letter : result->refused) {
      metrics_->AddDeadLettered(letter.problems.front().code, 1);
    }
    const std::chrono::duration<double> seconds = Clock::now() - started;
    metrics_->ObserveBatch(pending_.size(), seconds.count());
  }
  SetHealth(consumer_->healthy(), consumer_->healthy() ? "" : "Kafka unreachable");
  spdlog::debug("ingest: batch of {} messages: {} staged, {} duplicates, {} dead letters",
                pending_.size(), result->staged, result->duplicates, result->dead_lettered);
  pending_.clear();
  pending_bytes_ = 0;
  return Status::Ok();
}

// Caught up = every partition of every subscribed topic, not only the assigned ones, is
// consumed to its high watermark: right after a member died, its partitions stay unassigned
// until the broker notices (session timeout), and exiting then would leave them unconsumed.
// Partitions of other members are judged by the offsets they stored.
bool IngestLoop::CaughtUp() {
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
    const bool full = pending_.size() >= options_.batch_max_messages ||
                      pending_bytes_ >= options_.batch_max_bytes;
    if (full || (!pending_.empty() && Clock::now() >= batch_deadline_)) {
      POSFLOW_RETURN_IF_ERROR(FlushBatch());
    }
    if (options_.exit_when_idle.count() > 0 && pending_.empty() &&
        Clock::now() - last_message >= options_.exit_when_idle) {
      if (CaughtUp()) {
        spdlog::info("ingest: caught up and idle for {} ms, exiting",
                     options_.exit_when_idle.count());
        break;
      }
      last_message = Clock::now();  // check again after another idle period
    }
  }
  // Finish the batch in flight (unless the store is down: then it is abandoned, unwritten).
  POSFLOW_RETURN_IF_ERROR(FlushBatch());
  Status closed = consumer_->Close();
  if (!closed.ok()) spdlog::warn("ingest: {}", closed.message());
  return stats_;
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
