#include "pipeline/ingest_job.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

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

class IngestLoop : public kafka::RebalanceListener {
 public:
  IngestLoop(const Config& config, const IngestOptions& options, const std::atomic<bool>& stop,
             ops::Metrics* metrics, std::unique_ptr<staging::StagingStore> store)
      : config_(config),
        options_(options),
        stop_(stop),
        metrics_(metrics),
        store_(std::move(store)),
        parser_({.max_message_bytes = options.max_message_bytes}) {}

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
  // Publishes dead letters to "<topic>.dlq" and waits for the broker's acknowledgement.
  Status PublishDeadLetters(const std::vector<staging::DeadLetter>& letters);
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
    Status status = consumer_->Seek({key.topic, key.partition, next});
    if (!status.ok()) spdlog::error("ingest: {}", status.message());
  }
}

Status IngestLoop::PublishDeadLetters(const std::vector<staging::DeadLetter>& letters) {
  if (!dead_letter_producer_ || letters.empty()) return Status::Ok();
  auto publish = [&](const staging::DeadLetter& letter) -> Status {
    std::string reasons;
    std::string details;
    for (const event::Problem& problem : letter.problems) {
      if (!reasons.empty()) reasons += ',';
      reasons += problem.code;
      if (!details.empty()) details += '\n';
      details += problem.message;
    }
    const std::string source = std::string(letter.source.topic) + "/" +
                               std::to_string(letter.source.partition) + "/" +
                               std::to_string(letter.source.offset);
    return dead_letter_producer_->Produce(std::string(letter.source.topic) + ".dlq", letter.key,
                                          letter.payload,
                                          {{"posflow.reasons", reasons},
                                           {"posflow.details", details},
                                           {"posflow.source", source}});
  };
  for (const auto& letter : letters) POSFLOW_RETURN_IF_ERROR(publish(letter));
  return dead_letter_producer_->Flush(std::chrono::seconds(30));
}

Status IngestLoop::FlushBatch() {
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

Result<IngestStats> RunIngest(const Config& config, const IngestOptions& given_options,
                              const std::atomic<bool>& stop, ops::Metrics* metrics) {
  IngestOptions options = given_options;
  if (options.topics.empty()) options.topics = config.Topics();
  if (options.batch_max_messages == 0 || options.batch_max_bytes == 0) {
    return Status::InvalidArgument("batch limits must be positive");
  }
  auto store = staging::OpenStagingStore(config);
  if (!store.ok()) return store.status();
  IngestLoop loop(config, options, stop, metrics, std::move(*store));
  kafka::ConsumerOptions consumer_options;
  consumer_options.max_message_bytes =
      static_cast<int>(std::max<std::size_t>(options.max_message_bytes * 2, 1u << 20));
  auto consumer = kafka::Consumer::Create(config, consumer_options, &loop);
  if (!consumer.ok()) return consumer.status();
  std::optional<kafka::Producer> dead_letter_producer;
  if (options.publish_dead_letters) {
    kafka::ProducerOptions producer_options;
    producer_options.linger_ms = 5;
    auto producer = kafka::Producer::Create(config, producer_options);
    if (!producer.ok()) return producer.status();
    dead_letter_producer.emplace(std::move(producer).value());
  }
  POSFLOW_RETURN_IF_ERROR(loop.Start(std::move(consumer).value(), std::move(dead_letter_producer)));
  return loop.Run();
}

}  // namespace posflow::pipeline
