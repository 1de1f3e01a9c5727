#pragma once

// The transaction generator: realistic, valid, exact POS transactions from the reference data.
//
// Realism (what makes the reports meaningful):
// - store traffic: each store's daily volume (StoreInfo::daily_transactions), times a
//   day-of-week factor (Saturday busiest, Tuesday quietest) and an hour-of-day curve (weekday
//   evening peak, weekend midday peak) over the store's opening hours, in its local time;
// - baskets: 1 + geometric lines (mean 5, long tail, at most 40), distinct products drawn by
//   Zipf popularity (exponent 0.75), quantities mostly 1-3 with occasional bulk (a case of 12
//   or 24);
// - customers: 25 % anonymous; the others mostly (90 %) from the store's own neighbourhood,
//   drawn with a mild Zipf skew (0.25) so that loyal customers come back several times as often
//   as the average one;
// - payment types by their shares; price changes: every simulated day at 08:00 UTC (night in
//   every store) a few products change price by 5-15 % up or down, from then on.
// Money is exact: line total = price x quantity, subtotal = sum of line totals,
// tax = round_half_up(subtotal x provincial rate), total = subtotal + tax.
//
// Two clocks:
// - simulated (Next): transactions come in UTC time order from local midnight of the start
//   date, as fast as the caller asks. With `days`, they stop at the end of that window; with
//   `days` and `spread_count`, exactly that many are spread over the window.
// - wall clock (NextAt): the caller gives the instant (e.g. now); the store is drawn by the
//   traffic at that instant.
// transaction_date is the store's local civil time (no offset), like the seed's producer;
// local time follows the Canadian daylight-saving rule where the store observes it.
//
// Reproducible: the same options give the same transactions, byte for byte, on every platform.
// Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "event/transaction.h"
#include "sim/random.h"
#include "sim/reference_data.h"

namespace posflow::sim {

struct GeneratorOptions {
  // Seed of everything random. Default 1.
  std::uint64_t seed = 1;
  // Use only the first `store_count` stores of the reference data; 0 = all of them.
  std::size_t store_count = 0;
  // Simulated clock: the first day, as days since 1970-01-01 (DaysFromCivil). Default
  // 2026-01-01. Transactions start at local midnight of that day in each store.
  std::int64_t start_day = 20454;
  // Simulated clock: number of days to cover; 0 = no end (the caller stops).
  int days = 0;
  // Simulated clock with `days` > 0: spread exactly this many transactions over the window,
  // following the same curves (the volume is scaled); 0 = the stores' natural volume.
  std::int64_t spread_count = 0;
  // Share of anonymous sales (customer null). Default 0.25.
  double anonymous_share = 0.25;
  // Products whose price changes each simulated day. Default 3.
  int price_changes_per_day = 3;
  // The schema_version field added to every transaction. Default 1.
  int schema_version = 1;
};

// One price change, in effect from `effective_utc_seconds` on.
struct PriceChange {
  std::int64_t effective_utc_seconds = 0;
  std::size_t product = 0;  // index into ReferenceData::products
  Cents old_price_cents = 0;
  Cents new_price_cents = 0;
};

class Generator {
 public:
  // REQUIRES: `data` outlives the generator; options.store_count <= data.stores.size();
  // options.days >= 0; spread_count >= 0.
  Generator(const ReferenceData& data, const GeneratorOptions& options);

  // Simulated clock: fills `transaction` with the next transaction in time order. False (and
  // `transaction` untouched) when the window of `days` is over, or when `spread_count`
  // transactions have been generated.
  bool Next(event::Transaction* transaction);

  // Wall clock: fills `transaction` with a transaction at `utc_seconds` (seconds since the
  // epoch). REQUIRES: instants do not go backwards between calls.
  void NextAt(std::int64_t utc_seconds, event::Transaction* transaction);

  // The price changes so far, in order.
  const std::vector<PriceChange>& price_changes() const { return price_changes_; }
  // The stores in play (the first store_count of the reference data).
  std::size_t store_count() const { return store_count_; }
  // UTC seconds of the last transaction generated (0 before the first).
  std::int64_t last_utc_seconds() const { return last_utc_seconds_; }
  // The reference data this generator draws from.
  const ReferenceData& data() const { return data_; }

  // A store's offset from UTC, in minutes, at the instant `utc_minute` (minutes since the
  // epoch): standard offset, plus 60 while Canadian daylight time is in effect.
  static int UtcOffsetMinutes(const StoreInfo& store, std::int64_t utc_minute);

 private:
  // Transactions per minute of one store at UTC minute `utc_minute` (0 when closed or outside
  // the window).
  double StoreRate(std::size_t store, std::int64_t utc_minute, bool window_only) const;
  // Moves the simulated cursor to the next minute, applying the day's price changes.
  void AdvanceMinute();
  void ComputeMinuteRates();
  // Applies price changes for every 08:00 UTC boundary crossed up to `utc_minute`.
  void ApplyPriceChangesUpTo(std::int64_t utc_minute);
  void ChangePrices(std::int64_t effective_utc_minute);
  // The transaction body: everything but the time; `store` chosen.
  void Fill(std::size_t store, std::int64_t utc_seconds, event::Transaction* transaction);
  void FillCustomer(std::size_t store, event::Customer* customer);
  int DrawBasketSize();
  std::int32_t DrawQuantity();
  void AppendTransactionId(std::string* out);

  const ReferenceData& data_;
  GeneratorOptions options_;
  std::size_t store_count_;

  // Independent random streams, so that e.g. the clock mode does not change the baskets.
  Rng arrival_rng_;   // arrival instants and the store of each arrival
  Rng content_rng_;   // customers, baskets, quantities, payment types
  Rng id_rng_;        // transaction ids
  Rng price_rng_;     // price changes

  // Per store: transactions per minute, by local weekday (0 = Monday) and hour.
  std::vector<std::vector<double>> rate_table_;  // [store][weekday * 24 + hour]
  WeightedChoice product_popularity_;            // over popularity ranks
  std::vector<std::size_t> product_by_rank_;     // rank - 1 -> product index
  std::vector<Cents> current_price_;             // per product
  std::vector<std::vector<std::size_t>> customer_pool_;  // per store: its local customers
  std::vector<WeightedChoice> customer_choice_;          // per store: Zipf over its pool
  WeightedChoice payment_choice_;
  std::vector<std::uint8_t> in_basket_;  // per product, scratch for distinct draws
  std::vector<std::size_t> basket_;      // products on the receipt being filled
  std::vector<PriceChange> price_changes_;
  std::string extra_json_;

  // Simulated clock cursor.
  std::int64_t window_begin_minute_ = 0;  // first UTC minute that can hold a transaction
  std::int64_t window_end_minute_ = 0;    // one past the last (bounded windows only)
  std::int64_t minute_ = 0;               // current UTC minute
  double minute_rate_ = 0;                // sum of the stores' rates in this minute
  std::vector<double> store_rates_;       // each store's rate in this minute
  double cumulative_ = 0;                 // expected arrivals before this minute
  double scale_ = 1;                      // expected arrivals per generated transaction
  double window_total_ = 0;               // expected arrivals in the whole window
  std::int64_t generated_ = 0;
  // Wall clock: the last day whose price changes were applied (08:00 UTC day number).
  std::int64_t price_day_ = 0;
  std::int64_t last_utc_seconds_ = 0;
};

}  // namespace posflow::sim
