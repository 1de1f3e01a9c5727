// End-to-end freshness (issue 5): how long after a sale its receipt is visible in the warehouse
// while `posflow run` (ingest + ETL) runs, measured per transaction:
//   - one thread produces simulator receipts (wall clock, like `posflow produce --rate`) into
//     the topic at a steady rate, recording each transaction_id's send time (system clock, the
//     moment it is handed to the producer: the sale);
//   - another polls ops.etl_watermark (a few rows, advanced by every load batch) every
//     --poll-ms and, when it moved, dw.fact_transaction for rows loaded after the newest batch
//     it has seen, recording clock_timestamp() of the query that first returns each id (the
//     server's clock: same host, same clock as the sender's).
// Freshness = visible - sent. Resolution: the poll interval plus the poll's own run time. The
// first --warmup seconds are sent but not counted (group join, first partitions, caches).
//
// It needs an index on dw.fact_transaction (loaded_at) so that polling every 10 ms does not
// scan the facts; it creates it (if missing) on the bench database, which costs the ETL one
// index entry per receipt. It needs `posflow run` (or ingest + etl --follow) running on the same
// topic and database: bench/freshness_bench.sh sets all of that up.
//
// Usage: posflow_freshness_bench --db URL --topic T [--brokers B] [--rate 2000] [--duration 60]
//          [--warmup 5] [--poll-ms 10] [--drain-seconds 30] [--seed 7]
// Prints a Markdown table row and a JSON summary; exit 1 when a receipt never became visible.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/config.h"
#include "kafka/producer.h"
#include "pg/connection.h"
#include "sim/message_stream.h"
#include "sim/reference_data.h"

namespace {

using SteadyClock = std::chrono::steady_clock;

struct BenchOptions {
  std::string db;
  std::string topic;
  std::string brokers = "127.0.0.1:9092";
  double rate = 2000;           // receipts per second
  double duration_seconds = 60;  // measured sending time, after the warm-up
  double warmup_seconds = 5;
  int poll_ms = 10;
  double drain_seconds = 30;  // how long to wait for the last receipts to become visible
  std::uint64_t seed = 7;
};

std::int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool ParseArgs(int argc, char** argv, BenchOptions* options) {
  for (int index = 1; index < argc; ++index) {
    const std::string flag = argv[index];
    if (index + 1 >= argc) return false;
    const std::string value = argv[++index];
    if (flag == "--db") {
      options->db = value;
    } else if (flag == "--topic") {
      options->topic = value;
    } else if (flag == "--brokers") {
      options->brokers = value;
    } else if (flag == "--rate") {
      options->rate = std::stod(value);
    } else if (flag == "--duration") {
      options->duration_seconds = std::stod(value);
    } else if (flag == "--warmup") {
      options->warmup_seconds = std::stod(value);
    } else if (flag == "--poll-ms") {
      options->poll_ms = std::stoi(value);
    } else if (flag == "--drain-seconds") {
      options->drain_seconds = std::stod(value);
    } else if (flag == "--seed") {
      options->seed = std::stoull(value);
    } else {
      return false;
    }
  }
  return !options->db.empty() && !options->topic.empty() && options->rate > 0 &&
         options->duration_seconds > 0 && options->warmup_seconds >= 0 && options->poll_ms > 0;
}

// What the sender did: every valid receipt's id and send time, and whether it is measured.
struct Sent {
  std::string transaction_id;
  std::int64_t sent_us = 0;
  bool measured = false;
};

struct SendResult {
  std::vector<Sent> sent;
  double measured_seconds = 0;
  std::string error;
};

// Produces at `rate` on an absolute schedule (receipt k due at start + k / rate: no drift).
SendResult Send(const BenchOptions& options, std::atomic<std::int64_t>* sent_count) {
  SendResult result;
  posflow::Config config;
  config.brokers = options.brokers;
  posflow::kafka::ProducerOptions producer_options;
  producer_options.linger_ms = 5;  // as `posflow produce --rate`
  auto producer = posflow::kafka::Producer::Create(config, producer_options);
  if (!producer.ok()) {
    result.error = producer.status().ToString();
    return result;
  }
  posflow::sim::StreamOptions stream_options;
  stream_options.generator.seed = options.seed;
  posflow::sim::MessageStream stream(posflow::sim::DefaultReferenceData(), stream_options);
  posflow::sim::Message message;

  const auto total = static_cast<std::int64_t>(
      std::llround((options.warmup_seconds + options.duration_seconds) * options.rate));
  const auto warmup = static_cast<std::int64_t>(std::llround(options.warmup_seconds * options.rate));
  result.sent.reserve(static_cast<std::size_t>(total));
  const SteadyClock::time_point start = SteadyClock::now();
  SteadyClock::time_point measured_start = start;
  for (std::int64_t index = 0; index < total; ++index) {
    const auto due = start + std::chrono::duration_cast<SteadyClock::duration>(
                                 std::chrono::duration<double>(static_cast<double>(index) /
                                                               options.rate));
    if (SteadyClock::now() < due) std::this_thread::sleep_until(due);
    if (index == warmup) measured_start = SteadyClock::now();
    stream.NextAt(NowMicros() / 1000000, &message);
    const std::int64_t sent_us = NowMicros();
    posflow::Status status = producer->Produce(options.topic, message.key, message.value);
    if (!status.ok()) {
      result.error = status.ToString();
      return result;
    }
    producer->Poll();
    result.sent.push_back({message.transaction.transaction_id, sent_us, index >= warmup});
    sent_count->store(index + 1, std::memory_order_release);
  }
  result.measured_seconds = std::chrono::duration<double>(SteadyClock::now() - measured_start).count();
  posflow::Status flushed = producer->Flush(std::chrono::seconds(30));
  if (!flushed.ok()) result.error = flushed.ToString();
  return result;
}

struct PollResult {
  std::unordered_map<std::string, std::int64_t> visible_us;  // transaction_id -> first seen
  std::int64_t polls = 0;
  double poll_seconds_total = 0;  // Σ of the polls' round trips
  std::string error;
};

// Polls until every sent receipt is visible (once the sender is done), or the drain deadline.
void Poll(const BenchOptions& options, const std::atomic<std::int64_t>& sent_count,
          const std::atomic<bool>& sender_done, PollResult* result) {
  posflow::pg::ConnectionOptions connection_options;
  connection_options.url = options.db;
  connection_options.application_name = "posflow_freshness_bench";
  auto connection = posflow::pg::Connection::Open(connection_options);
  if (!connection.ok()) {
    result->error = connection.status().ToString();
    return;
  }
  // sale_date is the store-local day of a receipt sold now: today or yesterday in UTC terms.
  // Both bounds, as literals, let the planner drop every other month's partition at plan time
  // (with current_date it plans all ~130 partitions at every poll: ~6 ms of CPU each time).
  auto today = connection->Query("select (current_date - 2)::text, (current_date + 2)::text");
  if (!today.ok()) {
    result->error = today.status().ToString();
    return;
  }
  const std::string poll_sql =
      "select transaction_id, (extract(epoch from clock_timestamp()) * 1000000)::bigint, "
      "loaded_at::text, (extract(epoch from loaded_at) * 1000000)::bigint "
      "from dw.fact_transaction "
      "where loaded_at > $1::timestamptz and sale_date between '" +
      std::string(today->Get(0, 0)) + "' and '" + std::string(today->Get(0, 1)) + "'";
  std::string newest = "-infinity";  // as text for the server, exact
  std::int64_t newest_us = INT64_MIN;
  SteadyClock::time_point drain_deadline = SteadyClock::time_point::max();
  // Every load batch advances a row of ops.etl_watermark in its own transaction: a few rows,
  // cheap to read at every poll. The facts are read only when it moved, so that polling costs
  // the server (which the measured pipeline shares) next to nothing between commits. A batch
  // is stamped with the fact query's clock, a few ms after the commit was seen: conservative.
  constexpr const char* kLoadedSql =
      "select coalesce(sum(loaded_transactions), 0)::text from ops.etl_watermark";
  std::string last_loaded;
  while (true) {
    const SteadyClock::time_point started = SteadyClock::now();
    auto loaded = connection->Query(kLoadedSql);
    if (!loaded.ok()) {
      result->error = loaded.status().ToString();
      return;
    }
    if (std::string(loaded->Get(0, 0)) != last_loaded) {
      last_loaded = std::string(loaded->Get(0, 0));
      auto rows = connection->Query(poll_sql, {newest});
      if (!rows.ok()) {
        result->error = rows.status().ToString();
        return;
      }
      for (int row = 0; row < rows->rows(); ++row) {
        result->visible_us.try_emplace(std::string(rows->Get(row, 0)),
                                       std::atoll(std::string(rows->Get(row, 1)).c_str()));
        // Only rows after the newest batch seen are asked for next time: batches are committed
        // one after another, in loaded_at (= transaction start) order, and each batch's rows
        // become visible together.
        const std::int64_t loaded_us = std::atoll(std::string(rows->Get(row, 3)).c_str());
        if (loaded_us > newest_us) {
          newest_us = loaded_us;
          newest = std::string(rows->Get(row, 2));
        }
      }
    }
    result->poll_seconds_total += std::chrono::duration<double>(SteadyClock::now() - started).count();
    ++result->polls;
    if (sender_done.load(std::memory_order_acquire)) {
      if (static_cast<std::int64_t>(result->visible_us.size()) >=
          sent_count.load(std::memory_order_acquire)) {
        return;
      }
      if (drain_deadline == SteadyClock::time_point::max()) {
        drain_deadline = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                                  std::chrono::duration<double>(options.drain_seconds));
      }
      if (SteadyClock::now() >= drain_deadline) return;
    }
    std::this_thread::sleep_until(started + std::chrono::milliseconds(options.poll_ms));
  }
}

double Percentile(const std::vector<double>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(
      std::ceil(fraction * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  BenchOptions options;
  if (!ParseArgs(argc, argv, &options)) {
    std::fprintf(stderr,
                 "usage: %s --db URL --topic T [--brokers B] [--rate 2000] [--duration 60] "
                 "[--warmup 5] [--poll-ms 10] [--drain-seconds 30] [--seed 7]\n",
                 argv[0]);
    return 2;
  }
  {
    posflow::pg::ConnectionOptions connection_options;
    connection_options.url = options.db;
    auto connection = posflow::pg::Connection::Open(connection_options);
    posflow::Status status =
        connection.ok() ? connection->Execute(
                              "create index if not exists fact_transaction_loaded_at "
                              "on dw.fact_transaction (loaded_at)")
                        : connection.status();
    if (!status.ok()) {
      std::fprintf(stderr, "freshness_bench: %s\n", status.ToString().c_str());
      return 1;
    }
  }

  std::atomic<std::int64_t> sent_count{0};
  std::atomic<bool> sender_done{false};
  PollResult polled;
  std::thread poller([&] { Poll(options, sent_count, sender_done, &polled); });
  SendResult sent = Send(options, &sent_count);
  sender_done.store(true, std::memory_order_release);
  poller.join();
  if (!sent.error.empty() || !polled.error.empty()) {
    std::fprintf(stderr, "freshness_bench: %s%s\n", sent.error.c_str(), polled.error.c_str());
    return 1;
  }

  std::vector<double> freshness_ms;
  std::int64_t measured = 0;
  std::int64_t missing = 0;
  for (const Sent& each : sent.sent) {
    auto found = polled.visible_us.find(each.transaction_id);
    if (found == polled.visible_us.end()) {
      ++missing;
      continue;
    }
    if (!each.measured) continue;
    ++measured;
    freshness_ms.push_back(static_cast<double>(found->second - each.sent_us) / 1000.0);
  }
  std::sort(freshness_ms.begin(), freshness_ms.end());
  double sum = 0;
  for (double value : freshness_ms) sum += value;
  const double mean = freshness_ms.empty() ? 0 : sum / static_cast<double>(freshness_ms.size());
  const double achieved_rate = static_cast<double>(measured) / std::max(1e-9, sent.measured_seconds);
  const double mean_poll_ms =
      1000.0 * polled.poll_seconds_total / static_cast<double>(std::max<std::int64_t>(1, polled.polls));

  std::printf("| %.0f/s for %.0f s (%lld measured) | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |\n",
              achieved_rate, sent.measured_seconds, static_cast<long long>(measured),
              Percentile(freshness_ms, 0.50), Percentile(freshness_ms, 0.90),
              Percentile(freshness_ms, 0.99), Percentile(freshness_ms, 0.999),
              freshness_ms.empty() ? 0 : freshness_ms.back(), mean);
  std::printf(
      "{\"rate\":%.1f,\"seconds\":%.1f,\"sent\":%zu,\"measured\":%lld,\"missing\":%lld,"
      "\"p50_ms\":%.1f,\"p90_ms\":%.1f,\"p99_ms\":%.1f,\"p999_ms\":%.1f,\"max_ms\":%.1f,"
      "\"mean_ms\":%.1f,\"min_ms\":%.1f,\"polls\":%lld,\"mean_poll_ms\":%.2f,\"poll_every_ms\":%d}\n",
      achieved_rate, sent.measured_seconds, sent.sent.size(), static_cast<long long>(measured),
      static_cast<long long>(missing), Percentile(freshness_ms, 0.50),
      Percentile(freshness_ms, 0.90), Percentile(freshness_ms, 0.99),
      Percentile(freshness_ms, 0.999), freshness_ms.empty() ? 0 : freshness_ms.back(), mean,
      freshness_ms.empty() ? 0 : freshness_ms.front(), static_cast<long long>(polled.polls),
      mean_poll_ms, options.poll_ms);
  if (missing > 0) {
    std::fprintf(stderr, "freshness_bench: %lld receipts never became visible within %.0f s\n",
                 static_cast<long long>(missing), options.drain_seconds);
    return 1;
  }
  return 0;
}
