#include "sim/message_stream.h"

#include <algorithm>
#include <cassert>

namespace posflow::sim {
namespace {

enum Stream : std::uint64_t { kDecisions = 5, kBadMessages = 6 };

// message.too_large costs 1 MiB per message: a tenth as often as the other kinds.
double KindWeight(BadKind kind) { return kind == BadKind::kTooLarge ? 0.1 : 1.0; }

std::int64_t RoundedShare(std::int64_t total, double ratio) {
  return static_cast<std::int64_t>(static_cast<double>(total) * ratio + 0.5);
}

GeneratorOptions WithSpread(const StreamOptions& options) {
  GeneratorOptions generator = options.generator;
  if (options.total_messages > 0 && generator.days > 0) {
    // Duplicates take no slot in time: spread only the messages that need a transaction.
    const std::int64_t duplicates = RoundedShare(options.total_messages, options.duplicate_ratio);
    generator.spread_count = std::max<std::int64_t>(1, options.total_messages - duplicates);
  }
  return generator;
}

}  // namespace

MessageStream::MessageStream(const ReferenceData& data, const StreamOptions& options)
    : data_(data),
      options_(options),
      generator_(data, WithSpread(options)),
      decision_rng_(Rng::Stream(options.generator.seed, kDecisions)),
      bad_rng_(Rng::Stream(options.generator.seed, kBadMessages)) {
  assert(options.bad_ratio >= 0 && options.duplicate_ratio >= 0 &&
         options.bad_ratio + options.duplicate_ratio <= 1 && "ratios out of range");
  bad_kinds_ = options.bad_kinds.empty() ? AllBadKinds() : options.bad_kinds;
  std::vector<double> weights;
  for (BadKind kind : bad_kinds_) weights.push_back(KindWeight(kind));
  bad_kind_choice_ = WeightedChoice(weights);
  if (options.total_messages > 0) {
    // Message 0 is valid (duplicates need something to repeat): place the rest among 1..n-1.
    const std::int64_t places = options.total_messages - 1;
    bad_left_ = std::min(RoundedShare(options.total_messages, options.bad_ratio), places);
    duplicates_left_ =
        std::min(RoundedShare(options.total_messages, options.duplicate_ratio), places - bad_left_);
  }
  if (options.duplicate_ratio > 0) recent_.reserve(options.duplicate_window);
}

MessageKind MessageStream::DecideKind() {
  const std::int64_t index = index_++;
  if (index == 0) return MessageKind::kValid;
  const double draw = decision_rng_.UniformDouble();
  if (options_.total_messages > 0) {
    // Selection sampling: with `left` of the remaining `remaining` positions to fill, take this
    // one with probability left / remaining. Exact counts, uniformly spread.
    const std::int64_t remaining = options_.total_messages - index;
    if (remaining <= 0) return MessageKind::kValid;
    const double scaled = draw * static_cast<double>(remaining);
    if (scaled < static_cast<double>(bad_left_)) {
      --bad_left_;
      return MessageKind::kBad;
    }
    if (scaled < static_cast<double>(bad_left_ + duplicates_left_)) {
      --duplicates_left_;
      return MessageKind::kDuplicate;
    }
    return MessageKind::kValid;
  }
  if (draw < options_.bad_ratio) return MessageKind::kBad;
  if (draw < options_.bad_ratio + options_.duplicate_ratio) return MessageKind::kDuplicate;
  return MessageKind::kValid;
}

bool MessageStream::Next(Message* message) {
  const MessageKind kind = DecideKind();
  if (kind != MessageKind::kDuplicate && !generator_.Next(&message->transaction)) return false;
  Finish(kind, message);
  return true;
}

void MessageStream::NextAt(std::int64_t utc_seconds, Message* message) {
  const MessageKind kind = DecideKind();
  if (kind != MessageKind::kDuplicate) generator_.NextAt(utc_seconds, &message->transaction);
  Finish(kind, message);
}

void MessageStream::Finish(MessageKind kind, Message* message) {
  message->kind = kind;
  message->code.clear();
  if (kind == MessageKind::kDuplicate) {
    assert(!recent_.empty() && "message 0 is valid, so there is something to repeat");
    const auto& [key, value] = recent_[static_cast<std::size_t>(decision_rng_.Below(recent_.size()))];
    message->key = key;
    message->value = value;
    return;
  }
  const event::Transaction& transaction = message->transaction;
  message->key = transaction.store.store_id;
  if (kind == MessageKind::kBad) {
    const BadKind bad_kind = bad_kinds_[bad_kind_choice_.Draw(bad_rng_)];
    const std::optional<std::size_t> store = data_.FindStore(transaction.store.store_id);
    const std::int64_t tax = store ? data_.stores[*store].sales_tax_millionths : 0;
    message->code = MakeBadMessage(transaction, tax, bad_kind, options_.bad, bad_rng_,
                                   &message->value);
    return;
  }
  message->value.clear();
  event::AppendSeedJson(transaction, &message->value);
  if (options_.duplicate_ratio > 0) {
    if (recent_.size() < options_.duplicate_window) {
      recent_.emplace_back(message->key, message->value);
    } else {
      // Assign in place: the slot's buffers are reused.
      recent_[recent_next_].first = message->key;
      recent_[recent_next_].second = message->value;
      recent_next_ = (recent_next_ + 1) % recent_.size();
    }
  }
}

}  // namespace posflow::sim
