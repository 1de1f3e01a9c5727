#include "pipeline/produce_job.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <cstring>
#include <memory>
#include <thread>

#include "common/civil_time.h"
#include "kafka/admin_client.h"
#include "kafka/producer.h"
#include "sim/message_stream.h"
#include "sim/reference_data.h"

namespace posflow::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::int64_t kDefaultCount = 1000;
constexpr std::string_view kCompressions[] = {"none", "gzip", "snappy", "lz4", "zstd"};

// Where messages go.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual Status Send(std::string_view key, std::string_view value) = 0;
  virtual Status Flush() = 0;
  virtual std::int64_t delivery_errors() const { return 0; }
  virtual std::string Describe() const = 0;
};

// NDJSON: one message per line. The producing thread fills one 1 MiB buffer while a writer
// thread writes the other, so that the kernel's copying (a third of the time at 1 GB a run)
// runs on the second core.
class FileSink : public Sink {
 public:
  static Result<std::unique_ptr<FileSink>> Open(const std::string& path) {
    if (path == "-") return std::make_unique<FileSink>(STDOUT_FILENO, "stdout", false);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      return Status::IoError("cannot open " + path + " for writing: " + std::strerror(errno));
    }
    return std::make_unique<FileSink>(fd, path, true);
  }

  FileSink(int fd, std::string name, bool owned)
      : fd_(fd), name_(std::move(name)), owned_(owned), writer_([this] { WriteLoop(); }) {
    filling_.reserve(kBufferBytes + 4096);
    writing_.reserve(kBufferBytes + 4096);
  }
  ~FileSink() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closing_ = true;
    }
    wake_writer_.notify_one();
    writer_.join();
    if (owned_) ::close(fd_);
  }

  Status Send(std::string_view /*key*/, std::string_view value) override {
    filling_.append(value);
    filling_.push_back('\n');
    if (filling_.size() >= kBufferBytes) return HandOver();
    return Status::Ok();
  }

  // Hands everything to the kernel (no fsync: a simulator's output is cheap to regenerate, and
  // waiting for the disk would measure the disk).
  Status Flush() override {
    POSFLOW_RETURN_IF_ERROR(HandOver());
    std::unique_lock<std::mutex> lock(mutex_);
    writer_idle_.wait(lock, [this] { return !pending_; });
    return error_;
  }

  std::string Describe() const override { return owned_ ? "file:" + name_ : "stdout"; }

 private:
  static constexpr std::size_t kBufferBytes = 1 << 20;

  // Waits for the writer to finish the previous buffer, then gives it the filled one.
  Status HandOver() {
    std::unique_lock<std::mutex> lock(mutex_);
    writer_idle_.wait(lock, [this] { return !pending_; });
    if (!error_.ok()) return error_;
    filling_.swap(writing_);
    filling_.clear();
    pending_ = true;
    lock.unlock();
    wake_writer_.notify_one();
    return Status::Ok();
  }

  void WriteLoop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      wake_writer_.wait(lock, [this] { return pending_ || closing_; });
      if (!pending_) return;  // closing, nothing left
      lock.unlock();
      Status status = WriteAll(writing_);
      lock.lock();
      if (!status.ok() && error_.ok()) error_ = status;
      pending_ = false;
      writer_idle_.notify_one();
    }
  }

  Status WriteAll(const std::string& buffer) const {
    std::size_t written = 0;
    while (written < buffer.size()) {
      const ssize_t result = ::write(fd_, buffer.data() + written, buffer.size() - written);
      if (result < 0) {
        if (errno == EINTR) continue;
        return Status::IoError("writing " + name_ + ": " + std::strerror(errno));
      }
      written += static_cast<std::size_t>(result);
    }
    return Status::Ok();
  }

  int fd_;
  std::string name_;
  bool owned_;
  std::string filling_;  // producing thread only
  std::mutex mutex_;
  std::condition_variable wake_writer_;
  std::condition_variable writer_idle_;
  std::string writing_;     // GUARDED_BY(mutex_) while !pending_; the writer's while pending_
  bool pending_ = false;    // GUARDED_BY(mutex_)
  bool closing_ = false;    // GUARDED_BY(mutex_)
  Status error_;            // GUARDED_BY(mutex_): the first write failure
  std::thread writer_;      // last: starts once the members above exist
};

class KafkaSink : public Sink {
 public:
  KafkaSink(kafka::Producer producer, std::string topic, std::chrono::milliseconds flush_timeout)
      : producer_(std::move(producer)), topic_(std::move(topic)), flush_timeout_(flush_timeout) {}

  Status Send(std::string_view key, std::string_view value) override {
    return producer_.Produce(topic_, key, value);
  }
  Status Flush() override { return producer_.Flush(flush_timeout_); }
  std::int64_t delivery_errors() const override { return producer_.stats().failed; }
  std::string Describe() const override { return "kafka:" + topic_; }

 private:
  kafka::Producer producer_;
  std::string topic_;
  std::chrono::milliseconds flush_timeout_;
};

bool ParseDate(const std::string& text, std::int64_t* day) {
  const std::optional<CivilDateTime> time = ParseDateTime(text + " 00:00:00");
  if (!time || text.size() != 10) return false;
  *day = DaysFromCivil(time->year, time->month, time->day);
  return true;
}

bool WallClock(const ProduceOptions& options) {
  return options.start_date.empty() && options.days == 0 &&
         (options.rate > 0 || options.duration_seconds > 0);
}

std::string FormatUtc(std::int64_t utc_seconds) {
  const std::int64_t day = utc_seconds >= 0 ? utc_seconds / 86400 : (utc_seconds - 86399) / 86400;
  CivilDateTime time;
  CivilFromDays(day, &time.year, &time.month, &time.day);
  const auto second_of_day = static_cast<int>(utc_seconds - day * 86400);
  time.hour = second_of_day / 3600;
  time.minute = second_of_day / 60 % 60;
  time.second = second_of_day % 60;
  time.utc_offset_minutes = 0;
  return FormatIsoDateTime(time);
}

// The stream's options from the job's; resolves the bad kinds.
Result<sim::StreamOptions> MakeStreamOptions(const ProduceOptions& options, bool to_kafka) {
  sim::StreamOptions stream;
  stream.generator.seed = options.seed;
  stream.generator.store_count = static_cast<std::size_t>(options.stores);
  if (!options.start_date.empty() && !ParseDate(options.start_date, &stream.generator.start_day)) {
    return Status::InvalidArgument("--start-date " + options.start_date +
                                   " is not a date YYYY-MM-DD");
  }
  stream.generator.days = options.days;
  stream.total_messages = options.count;
  stream.bad_ratio = options.bad_ratio;
  stream.duplicate_ratio = options.duplicate_ratio;
  const bool oversize_refused = to_kafka && options.compression == "none";
  for (const std::string& name : options.bad_kinds) {
    const std::optional<sim::BadKind> kind = sim::ParseBadKind(name);
    if (!kind) {
      std::string known;
      for (sim::BadKind each : sim::AllBadKinds()) {
        known += (known.empty() ? "" : ", ") + std::string(sim::BadKindName(each));
      }
      return Status::InvalidArgument("--bad-kinds: unknown kind '" + name + "' (known: " + known +
                                     ")");
    }
    if (*kind == sim::BadKind::kTooLarge && oversize_refused) {
      return Status::InvalidArgument(
          "--bad-kinds message.too_large into Kafka needs compression (the broker refuses a "
          "batch over 1 MiB): use --compression lz4");
    }
    stream.bad_kinds.push_back(*kind);
  }
  if (stream.bad_kinds.empty() && oversize_refused) {
    for (sim::BadKind kind : sim::AllBadKinds()) {
      if (kind != sim::BadKind::kTooLarge) stream.bad_kinds.push_back(kind);
    }
  }
  return stream;
}

}  // namespace

Status ValidateProduceOptions(const ProduceOptions& options) {
  if (options.count < 0) return Status::InvalidArgument("--count must be >= 0");
  if (options.rate < 0) return Status::InvalidArgument("--rate must be > 0");
  if (options.duration_seconds < 0) return Status::InvalidArgument("--duration must be > 0");
  if (options.days < 0) return Status::InvalidArgument("--days must be >= 1");
  const auto store_total = static_cast<int>(sim::DefaultReferenceData().stores.size());
  if (options.stores < 0 || options.stores > store_total) {
    return Status::InvalidArgument("--stores must be between 1 and " + std::to_string(store_total));
  }
  if (!(options.bad_ratio >= 0 && options.bad_ratio <= 1)) {
    return Status::InvalidArgument("--bad-ratio must be between 0 and 1");
  }
  if (!(options.duplicate_ratio >= 0 && options.duplicate_ratio <= 1)) {
    return Status::InvalidArgument("--duplicate-ratio must be between 0 and 1");
  }
  if (options.bad_ratio + options.duplicate_ratio > 1) {
    return Status::InvalidArgument("--bad-ratio plus --duplicate-ratio must not exceed 1");
  }
  std::int64_t day = 0;
  if (!options.start_date.empty() && !ParseDate(options.start_date, &day)) {
    return Status::InvalidArgument("--start-date " + options.start_date +
                                   " is not a date YYYY-MM-DD");
  }
  bool known_compression = false;
  for (std::string_view name : kCompressions) known_compression |= options.compression == name;
  if (!known_compression) {
    return Status::InvalidArgument("--compression " + options.compression +
                                   ": use none, gzip, snappy, lz4 or zstd");
  }
  auto stream = MakeStreamOptions(options, options.out.empty());
  return stream.status();
}

Result<ProduceReport> RunProduce(const Config& config, const ProduceOptions& given) {
  POSFLOW_RETURN_IF_ERROR(ValidateProduceOptions(given));
  ProduceOptions options = given;
  if (options.count == 0 && options.days == 0 && options.duration_seconds == 0) {
    options.count = kDefaultCount;
  }
  const bool to_kafka = options.out.empty();
  auto stream_options = MakeStreamOptions(options, to_kafka);
  if (!stream_options.ok()) return stream_options.status();
  if (to_kafka && options.compression == "none" && options.bad_ratio > 0 &&
      options.bad_kinds.empty()) {
    spdlog::info("produce: without compression, no message.too_large is injected");
  }

  std::unique_ptr<Sink> sink;
  if (to_kafka) {
    // Producing to a missing topic would auto-create it with the broker's defaults (one
    // partition): refuse instead, init creates it properly.
    auto admin = kafka::AdminClient::Create(config);
    if (!admin.ok()) return admin.status();
    auto topic = admin->DescribeTopic(config.topic, std::chrono::seconds(10));
    if (!topic.ok()) {
      if (topic.status().code() == Status::Code::kNotFound) {
        return Status::FailedPrecondition("topic " + config.topic + " does not exist on " +
                                          config.brokers +
                                          ": create it with 'posflow init' (or choose --topic)");
      }
      return topic.status();
    }
    kafka::ProducerOptions producer_options;
    producer_options.compression = options.compression;
    // Paced runs measure latency: short batches. Backfills want throughput: 25 ms measured best
    // on the local stack (1M messages: ~250k/s against ~190k/s at 10 ms).
    producer_options.linger_ms = options.rate > 0 ? 5 : 25;
    auto producer = kafka::Producer::Create(config, producer_options);
    if (!producer.ok()) return producer.status();
    sink = std::make_unique<KafkaSink>(std::move(producer).value(), config.topic,
                                       options.flush_timeout);
  } else {
    auto file = FileSink::Open(options.out);
    if (!file.ok()) return file.status();
    sink = std::move(file).value();
  }

  const bool wall_clock = WallClock(options);
  sim::MessageStream stream(sim::DefaultReferenceData(), *stream_options);
  sim::ManifestBuilder manifest;
  sim::Message message;
  std::string stopped_by;
  Status failure;

  const Clock::time_point start = Clock::now();
  const bool timed = options.rate > 0 || options.duration_seconds > 0;
  const Clock::time_point end =
      options.duration_seconds > 0
          ? start + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(options.duration_seconds))
          : Clock::time_point::max();
  Clock::time_point next_progress = start + std::chrono::milliseconds(500);
  auto progress = [&](Clock::time_point now) {
    ProduceProgress report;
    report.messages = manifest.messages();
    report.valid = manifest.valid();
    report.bad = manifest.bad_total();
    report.duplicates = manifest.duplicates();
    report.delivery_errors = sink->delivery_errors();
    report.seconds = std::chrono::duration<double>(now - start).count();
    options.on_progress(report);
  };

  while (true) {
    const std::int64_t sent = manifest.messages();
    if (options.count > 0 && sent >= options.count) {
      stopped_by = "count";
      break;
    }
    if (options.stop != nullptr && options.stop->load(std::memory_order_relaxed)) {
      stopped_by = "signal";
      break;
    }
    Clock::time_point now = timed || (sent & 255) == 0 ? Clock::now() : Clock::time_point();
    if (timed) {
      if (now >= end) {
        stopped_by = "duration";
        break;
      }
      if (options.rate > 0) {
        // Message k is due at start + k / rate: an absolute schedule, so no drift.
        const Clock::time_point due =
            start + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(static_cast<double>(sent) / options.rate));
        if (due > now) {
          // Sleep in slices so that SIGINT and the duration are noticed at low rates too.
          std::this_thread::sleep_until(std::min({due, end, now + std::chrono::milliseconds(200)}));
          continue;
        }
      }
    }
    if (options.on_progress && now != Clock::time_point() && now >= next_progress) {
      progress(now);
      next_progress = now + std::chrono::milliseconds(500);
    }
    if (wall_clock) {
      const auto utc = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      stream.NextAt(utc, &message);
    } else if (!stream.Next(&message)) {
      stopped_by = "days";
      break;
    }
    failure = sink->Send(message.key, message.value);
    if (!failure.ok()) {
      stopped_by = "error";
      break;
    }
    switch (message.kind) {
      case sim::MessageKind::kValid:
        manifest.AddValid(message.transaction);
        break;
      case sim::MessageKind::kDuplicate:
        manifest.AddDuplicate(message.key);
        break;
      case sim::MessageKind::kBad:
        manifest.AddBad(message.key, message.code);
        break;
    }
  }

  Status flushed = sink->Flush();
  if (failure.ok() && !flushed.ok()) {
    failure = flushed;
    stopped_by = "error";
  }
  if (options.on_progress) progress(Clock::now());

  ProduceReport report;
  report.manifest = manifest.Build();
  report.manifest.seed = options.seed;
  report.manifest.sink = sink->Describe();
  report.manifest.stopped_by = stopped_by;
  report.manifest.complete = stopped_by != "signal" && stopped_by != "error";
  const sim::Generator& generator = stream.generator();
  for (const sim::PriceChange& change : generator.price_changes()) {
    report.manifest.price_changes.push_back(
        {generator.data().products[change.product].product_id,
         FormatUtc(change.effective_utc_seconds), change.old_price_cents,
         change.new_price_cents});
  }
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!options.manifest_path.empty()) {
    Status written = sim::WriteManifest(report.manifest, options.manifest_path);
    if (!written.ok() && failure.ok()) failure = written;
  }
  if (!failure.ok()) return failure;
  return report;
}

}  // namespace posflow::pipeline
