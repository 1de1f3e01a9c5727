#pragma once

// A hostile-content corpus of our own (issue 11, "no message can stop the pipeline"): N receipts,
// each VALID JSON in the seed producer's shape, in which ONE field holds a hostile value, each
// followed by a valid sentinel receipt that must reach the facts whatever happened to the
// hostile one before it.
//
// The hostile values: for string fields, lengths around the boundaries that matter (127/128/129,
// 1023/1024/1025, the ~2700 bytes of a btree index row, 8000, 64 KiB, and a message filled to
// exactly the size limit and to one byte over it), NUL and every other control character as
// JSON escapes, lone and valid surrogate escapes, RTL and stacked combining marks, SQL-, CSV-,
// COPY- and format-string-looking text, long incompressible random text (in every string field
// of the seed shape, and in an unknown field "note" kept in staging's `extra`); for the money fields
// (price, total_price, subtotal, tax, total) and the quantity, the edge values of every type the
// pipeline puts them in (cents in int64, numeric(12,2), integer, double); for the date, the
// bounds of the calendar and of the parser, leap days and extreme UTC offsets; and receipts with
// 0, 1, 1000, 1001 and 5000 lines, keys given twice, unknown keys with hostile names, and the
// id of the sentinel before it on other content (a duplicate). Optionally (see the options),
// groups of receipts each valid alone whose sums the warehouse cannot hold.
//
// Which field and which value each message gets is chosen by the seed, first so that every
// value and every field appears at least once (in the first ~250 messages), then at random among
// the remaining (field, value) cases; no case is used twice. Money stays consistent when the
// hostile field is not money (so that a message is refused only for its hostile value); when it
// is money the other figures are derived from it, so that range limits, not arithmetic
// mismatches, are what is tested.
//
// Deterministic: a seed gives the same corpus, byte for byte, with every compiler (sim::Rng).
// Every loop is bounded by the requested count. Thread-safe (no shared mutable state).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace posflow::testing {

// Which kind of field the hostile value is in.
enum class HostileKind {
  kNone,          // a sentinel
  kText,          // a string field
  kMoney,         // items[k].price, items[k].total_price, subtotal, tax, total
  kQuantity,      // items[k].quantity
  kDate,          // transaction_date
  kItemCount,     // the number of receipt lines
  kDuplicateKey,  // a key given twice in one object
  kExtraKey,      // an unknown top-level key with a hostile name
  kReusedId,      // the id of the sentinel before it, with other content (a duplicate)
  kCumulative,    // valid alone; hostile together with others of its group (see below)
};

struct CorpusMessage {
  std::string payload;  // the message bytes as sent (valid JSON)
  // The Kafka key: the store id as written, or empty when the store id is longer than 1 KiB.
  std::string key;
  bool sentinel = false;  // a valid receipt that must become a fact
  // The receipt's id as the generator meant it: the sentinel's, or "hostile-<seed>-<i>" (which
  // the hostile value may replace).
  std::string transaction_id;
  HostileKind kind = HostileKind::kNone;
  // Where the hostile value is, as the parser names fields: "location.name", "items[1].price",
  // "transaction_date", "items" (line count), "extra" (unknown key); empty for sentinels.
  std::string field;
  // What the hostile value is, short and printable: "len 1024 ascii", "\\u0000", "1e300".
  std::string value_name;
  // For text values JSON defines the decoding of: the bytes the field must decode to.
  bool has_decoded = false;
  std::string decoded;
  int index = 0;  // position in the corpus

  // "#17 location.name = \u0000 (312 bytes)", for failure messages.
  std::string Describe() const;
};

struct HostileCorpusOptions {
  std::uint64_t seed = 1;
  // Hostile messages; each is followed by one sentinel, so the corpus holds twice as many.
  // Default 300. At most the number of distinct cases (HostileCaseCount()).
  int hostile_count = 300;
  // The message size limit of the consumer (event::ParserOptions::max_message_bytes): the
  // longest strings fill a message to exactly this, and to one byte more. Default 1 MiB.
  std::size_t max_message_bytes = 1 << 20;
  // Also append the cumulative groups, receipts each valid alone whose sums the warehouse
  // cannot hold: 101 receipts of 9 999 999 999.99 on one store-day (the daily aggregates are
  // numeric(14,2)); and a receipt whose lines +9 999 999 999.99 and -9 999 999 999.98 leave a
  // subtotal of 0.01 under a tax of 1 000 000.00 (a line's tax share, tax x running total /
  // subtotal, is far beyond numeric(12,2)). Each is followed by a sentinel. Cost: 204 small
  // messages. Default off.
  bool cumulative = false;
  // Also append 220 receipts of 1000 returned lines of 10 000 units of one product at one
  // store: their sum leaves inventory.on_hand's integer. Each is followed by a sentinel. Cost:
  // ~22 MB and 220 000 line rows (~30 s through `posflow run` on 2 cores). Default off.
  bool cumulative_inventory = false;
};

// The corpus: hostile, sentinel, hostile, sentinel, ...
std::vector<CorpusMessage> MakeHostileCorpus(const HostileCorpusOptions& options);

// How many distinct (field, value) cases there are.
int HostileCaseCount();

}  // namespace posflow::testing
