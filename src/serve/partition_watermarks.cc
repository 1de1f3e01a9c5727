#include "serve/partition_watermarks.h"

#include <mutex>
#include <optional>
#include <vector>

#include "kafka/consumer.h"

namespace posflow::serve {
namespace {

// The consumer only asks for metadata and watermarks: it is never assigned anything.
class NoRebalance : public kafka::RebalanceListener {
 public:
  void OnAssign(std::vector<kafka::TopicPartitionOffset>*) override {}
  void OnRevoke(const std::vector<kafka::TopicPartitionOffset>&, bool) override {}
};

class Kafka final : public PartitionWatermarks {
 public:
  Kafka(const Config& config, std::chrono::milliseconds timeout, std::chrono::seconds retry_after)
      : config_(config), timeout_(timeout), retry_after_(retry_after) {
    config_.group = config.group + ".serve";
  }

  Result<std::int32_t> PartitionCount(const std::string& topic) override {
    std::lock_guard<std::mutex> lock(mutex_);
    POSFLOW_RETURN_IF_ERROR(Ready());
    auto count = consumer_->PartitionCount(topic, timeout_);
    if (!count.ok()) NoteFailure(count.status());
    return count;
  }

  Result<std::int64_t> HighWatermark(const std::string& topic, std::int32_t partition) override {
    std::lock_guard<std::mutex> lock(mutex_);
    POSFLOW_RETURN_IF_ERROR(Ready());
    std::int64_t low = -1;
    std::int64_t high = -1;
    Status status = consumer_->QueryWatermarks(topic, partition, timeout_, &low, &high);
    if (!status.ok()) {
      NoteFailure(status);
      return status;
    }
    return high;
  }

 private:
  // REQUIRES: mutex_ held.
  Status Ready() {
    if (failed_at_ && std::chrono::steady_clock::now() - *failed_at_ < retry_after_) {
      const auto ago = std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::steady_clock::now() - *failed_at_);
      return Status::Unavailable(last_failure_ + " (" + std::to_string(ago.count()) +
                                 " s ago; asked again after " +
                                 std::to_string(retry_after_.count()) + " s)");
    }
    if (consumer_ == nullptr) {
      auto created = kafka::Consumer::Create(config_, kafka::ConsumerOptions{}, &no_rebalance_);
      if (!created.ok()) return created.status();
      consumer_ = std::move(*created);
    }
    return Status::Ok();
  }

  // REQUIRES: mutex_ held. A missing topic is an answer, not a broker failure.
  void NoteFailure(const Status& status) {
    if (status.code() != Status::Code::kUnavailable) return;
    failed_at_ = std::chrono::steady_clock::now();
    last_failure_ = status.message();
  }

  Config config_;
  const std::chrono::milliseconds timeout_;
  const std::chrono::seconds retry_after_;
  NoRebalance no_rebalance_;
  std::mutex mutex_;
  std::unique_ptr<kafka::Consumer> consumer_;                       // guarded by mutex_
  std::optional<std::chrono::steady_clock::time_point> failed_at_;  // guarded by mutex_
  std::string last_failure_;                                        // guarded by mutex_
};

}  // namespace

std::unique_ptr<PartitionWatermarks> KafkaWatermarks(const Config& config,
                                                     std::chrono::milliseconds timeout,
                                                     std::chrono::seconds retry_after) {
  return std::make_unique<Kafka>(config, timeout, retry_after);
}

}  // namespace posflow::serve
