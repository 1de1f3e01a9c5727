#pragma once

// The simulator's output as Kafka messages: generated transactions serialized in the seed
// producer's shape (one JSON object, no newline), mixed with malformed messages
// (bad_messages.h) and re-sent duplicates, each message tagged with what it is.
//
// Mixing: message 0 is always valid. When the total number of messages is known
// (StreamOptions::total_messages), exactly round(total x bad_ratio) messages are bad and
// round(total x duplicate_ratio) are duplicates, at random positions (selection sampling);
// otherwise each message is bad or a duplicate with those probabilities. A duplicate is the
// exact bytes (and key) of one of the last `duplicate_window` valid messages; it does not
// advance the simulated clock. A bad message replaces one generated transaction (it takes
// its slot in time and its fresh transaction_id); its kind is drawn among `bad_kinds` by
// weight (message.too_large, 1 MiB each, a tenth as often as the others).
//
// Reproducible like the generator. Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "event/transaction.h"
#include "sim/bad_messages.h"
#include "sim/generator.h"
#include "sim/random.h"
#include "sim/reference_data.h"

namespace posflow::sim {

struct StreamOptions {
  GeneratorOptions generator;
  // Total messages the caller will take, when known (e.g. --count); 0 = unknown. With a known
  // total the bad and duplicate counts are exact, and with generator.days > 0 the
  // transactions are spread over the window (GeneratorOptions::spread_count is set here).
  std::int64_t total_messages = 0;
  // Share of malformed messages, 0..1. Default 0.
  double bad_ratio = 0;
  // Share of duplicates (re-sent valid messages), 0..1; bad_ratio + duplicate_ratio <= 1.
  double duplicate_ratio = 0;
  // Which kinds to inject; empty = every kind.
  std::vector<BadKind> bad_kinds;
  BadMessageOptions bad;
  // Duplicates re-send one of the last this many valid messages. Default 4096.
  std::size_t duplicate_window = 4096;
};

enum class MessageKind { kValid, kDuplicate, kBad };

struct Message {
  MessageKind kind = MessageKind::kValid;
  std::string key;    // the Kafka key: the store_id
  std::string value;  // the message bytes
  std::string code;   // kBad: the problem code the validator reports
  // kValid: the transaction `value` serializes; otherwise unspecified.
  event::Transaction transaction;
};

class MessageStream {
 public:
  // REQUIRES: `data` outlives the stream; 0 <= bad_ratio, duplicate_ratio and their sum <= 1.
  MessageStream(const ReferenceData& data, const StreamOptions& options);

  // Simulated clock: the next message. False when the generator's window is over.
  bool Next(Message* message);
  // Wall clock: the next message; a transaction in it happens at `utc_seconds`.
  void NextAt(std::int64_t utc_seconds, Message* message);

  const Generator& generator() const { return generator_; }

 private:
  MessageKind DecideKind();
  // Turns the transaction in `message` (just generated) into the decided kind of message.
  void Finish(MessageKind kind, Message* message);

  const ReferenceData& data_;
  StreamOptions options_;
  Generator generator_;
  Rng decision_rng_;
  Rng bad_rng_;
  WeightedChoice bad_kind_choice_;
  std::vector<BadKind> bad_kinds_;
  // Known total: what is left to place.
  std::int64_t index_ = 0;
  std::int64_t bad_left_ = 0;
  std::int64_t duplicates_left_ = 0;
  // The last valid messages, as (key, value), a ring.
  std::vector<std::pair<std::string, std::string>> recent_;
  std::size_t recent_next_ = 0;
};

}  // namespace posflow::sim
