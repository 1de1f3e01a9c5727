#include "sim/generator.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "common/civil_time.h"

namespace posflow::sim {
namespace {

constexpr std::int64_t kMinutesPerDay = 1440;
// Price changes take effect at 08:00 UTC: between 00:00 (Pacific) and 04:30 (Newfoundland)
// local time, when every store is closed.
constexpr std::int64_t kPriceChangeMinuteOfDay = 8 * 60;
constexpr int kMaxBasketLines = 40;
// Each further line is added with this probability: 1 + geometric, mean 1 / (1 - p) = 5.
constexpr double kAnotherLine = 0.8;

// Sales by day of week, Monday first (mean 1).
constexpr double kDayOfWeekFactor[7] = {0.88, 0.82, 0.90, 0.98, 1.14, 1.30, 0.98};
// Relative traffic by local hour: weekdays peak after work, weekends around midday.
constexpr double kWeekdayHourWeight[24] = {0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.6,
                                           1.0, 1.2, 1.4, 1.8, 2.2, 1.8, 1.4, 1.6,
                                           2.2, 3.0, 3.0, 2.2, 1.5, 0.9, 0.5, 0.3};
constexpr double kWeekendHourWeight[24] = {0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4,
                                           0.9, 1.6, 2.4, 2.8, 2.8, 2.6, 2.4, 2.2,
                                           2.0, 1.9, 1.6, 1.2, 0.8, 0.5, 0.3, 0.2};
// Quantities on a line: mostly 1-3, sometimes a case of 12 or 24.
constexpr std::int32_t kQuantities[] = {1, 2, 3, 4, 5, 6, 12, 24};
constexpr double kQuantityWeights[] = {58, 22, 10, 4, 2, 2, 1.2, 0.8};
// Share of named customers shopping at their own store (the others are visiting).
constexpr double kHomeStoreShare = 0.9;
// Zipf exponent (sixteenths) over a store's customers: 0.25, a mild skew; the most loyal
// shoppers come several times as often as the average one, about daily.
constexpr int kRepeatCustomerExponent = 4;

// Random stream numbers (see Rng::Stream).
enum Stream : std::uint64_t { kArrivals = 1, kContent = 2, kIds = 3, kPrices = 4 };

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t quotient = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --quotient;
  return quotient;
}

// Day number of the n-th (1-based) Sunday of a month.
std::int64_t NthSunday(int year, int month, int n) {
  const std::int64_t first = DaysFromCivil(year, month, 1);
  const int weekday = Weekday(year, month, 1);  // 0 = Monday
  return first + (6 - weekday) + 7 * (n - 1);
}

int WeekdayOfDay(std::int64_t day) {
  // 1970-01-01 was a Thursday (3 with Monday = 0).
  return static_cast<int>(((day % 7) + 7 + 3) % 7);
}

CivilDateTime CivilFromSeconds(std::int64_t local_seconds) {
  CivilDateTime time;
  const std::int64_t day = FloorDiv(local_seconds, 86400);
  CivilFromDays(day, &time.year, &time.month, &time.day);
  const auto second_of_day = static_cast<int>(local_seconds - day * 86400);
  time.hour = second_of_day / 3600;
  time.minute = second_of_day / 60 % 60;
  time.second = second_of_day % 60;
  return time;
}

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

int Generator::UtcOffsetMinutes(const StoreInfo& store, std::int64_t utc_minute) {
  const int standard = store.standard_utc_offset_minutes;
  if (!store.observes_dst) return standard;
  // Canada: daylight time from the second Sunday of March, 02:00 local standard time, to the
  // first Sunday of November, 02:00 local daylight time (01:00 standard).
  const std::int64_t local_standard = utc_minute + standard;
  int year, month, day;
  CivilFromDays(FloorDiv(local_standard, kMinutesPerDay), &year, &month, &day);
  const std::int64_t begin = NthSunday(year, 3, 2) * kMinutesPerDay + 120;
  const std::int64_t end = NthSunday(year, 11, 1) * kMinutesPerDay + 60;
  return local_standard >= begin && local_standard < end ? standard + 60 : standard;
}

Generator::Generator(const ReferenceData& data, const GeneratorOptions& options)
    : data_(data),
      options_(options),
      store_count_(options.store_count == 0 ? data.stores.size()
                                            : std::min(options.store_count, data.stores.size())),
      arrival_rng_(Rng::Stream(options.seed, kArrivals)),
      content_rng_(Rng::Stream(options.seed, kContent)),
      id_rng_(Rng::Stream(options.seed, kIds)),
      price_rng_(Rng::Stream(options.seed, kPrices)) {
  assert(store_count_ > 0 && "the generator needs at least one store");
  // Rates per store, weekday and hour (transactions per minute).
  rate_table_.resize(store_count_);
  for (std::size_t store = 0; store < store_count_; ++store) {
    const StoreInfo& info = data_.stores[store];
    std::vector<double>& table = rate_table_[store];
    table.assign(7 * 24, 0.0);
    for (int weekday = 0; weekday < 7; ++weekday) {
      const double* hours = weekday >= 5 ? kWeekendHourWeight : kWeekdayHourWeight;
      double open_weight = 0;
      for (int hour = info.open_hour; hour < info.close_hour; ++hour) open_weight += hours[hour];
      const double daily = info.daily_transactions * kDayOfWeekFactor[weekday];
      for (int hour = info.open_hour; hour < info.close_hour; ++hour) {
        table[static_cast<std::size_t>(weekday * 24 + hour)] =
            daily * hours[hour] / open_weight / 60.0;
      }
    }
  }

  product_popularity_ = MakeZipf(data_.products.size(), kProductPopularityExponent);
  product_by_rank_.resize(data_.products.size());
  for (std::size_t i = 0; i < data_.products.size(); ++i) {
    product_by_rank_[static_cast<std::size_t>(data_.products[i].popularity_rank - 1)] = i;
  }
  current_price_.reserve(data_.products.size());
  for (const ProductInfo& product : data_.products) {
    current_price_.push_back(product.unit_price_cents);
  }
  in_basket_.assign(data_.products.size(), 0);

  customer_pool_.resize(store_count_);
  for (std::size_t i = 0; i < data_.customers.size(); ++i) {
    const std::size_t home = data_.customers[i].home_store;
    if (home < store_count_) customer_pool_[home].push_back(i);
  }
  for (std::size_t store = 0; store < store_count_; ++store) {
    customer_choice_.push_back(customer_pool_[store].empty()
                                   ? WeightedChoice()
                                   : MakeZipf(customer_pool_[store].size(),
                                              kRepeatCustomerExponent));
  }
  std::vector<double> payment_shares;
  for (const PaymentType& payment : data_.payment_types) payment_shares.push_back(payment.share);
  payment_choice_ = WeightedChoice(payment_shares);
  extra_json_ = "{\"schema_version\":" + std::to_string(options_.schema_version) + "}";

  // The simulated window, in UTC minutes: from the earliest local midnight of the start day to
  // the latest local midnight after the last day. Offsets are taken at the start of the window
  // (the exact per-minute offset decides whether a minute is inside a store's window).
  std::int64_t earliest = INT64_MAX;
  std::int64_t latest = INT64_MIN;
  const std::int64_t start_minute = options_.start_day * kMinutesPerDay;
  for (std::size_t store = 0; store < store_count_; ++store) {
    // The daylight offset is at most 60 minutes more than the standard one.
    const int standard = data_.stores[store].standard_utc_offset_minutes;
    earliest = std::min(earliest, start_minute - standard - 60);
    latest = std::max(latest, start_minute + options_.days * kMinutesPerDay - standard);
  }
  window_begin_minute_ = earliest;
  window_end_minute_ = options_.days > 0 ? latest : INT64_MAX;
  minute_ = window_begin_minute_;
  // The first change comes on the second morning: the first day sells at list prices.
  price_day_ = options_.start_day;
  store_rates_.assign(store_count_, 0.0);

  if (options_.days > 0 && options_.spread_count > 0) {
    // Expected arrivals over the window at natural volume, summed in the same order as the
    // cursor will, so that the last target falls inside the window.
    double total = 0;
    for (std::int64_t minute = window_begin_minute_; minute < window_end_minute_; ++minute) {
      double rate = 0;
      for (std::size_t store = 0; store < store_count_; ++store) {
        rate += StoreRate(store, minute, /*window_only=*/true);
      }
      total += rate;
    }
    window_total_ = total;
    scale_ = total / static_cast<double>(options_.spread_count);
  }
  ComputeMinuteRates();
}

double Generator::StoreRate(std::size_t store, std::int64_t utc_minute, bool window_only) const {
  const StoreInfo& info = data_.stores[store];
  const std::int64_t local_minute = utc_minute + UtcOffsetMinutes(info, utc_minute);
  const std::int64_t local_day = FloorDiv(local_minute, kMinutesPerDay);
  if (window_only) {
    if (local_day < options_.start_day) return 0;
    if (options_.days > 0 && local_day >= options_.start_day + options_.days) return 0;
  }
  const int weekday = WeekdayOfDay(local_day);
  const auto hour = static_cast<int>((local_minute - local_day * kMinutesPerDay) / 60);
  return rate_table_[store][static_cast<std::size_t>(weekday * 24 + hour)];
}

void Generator::ComputeMinuteRates() {
  minute_rate_ = 0;
  for (std::size_t store = 0; store < store_count_; ++store) {
    store_rates_[store] = StoreRate(store, minute_, /*window_only=*/true);
    minute_rate_ += store_rates_[store];
  }
}

void Generator::AdvanceMinute() {
  cumulative_ += minute_rate_;
  ++minute_;
  ApplyPriceChangesUpTo(minute_);
  ComputeMinuteRates();
}

void Generator::ApplyPriceChangesUpTo(std::int64_t utc_minute) {
  const std::int64_t day = FloorDiv(utc_minute - kPriceChangeMinuteOfDay, kMinutesPerDay);
  while (price_day_ < day) {
    ++price_day_;
    ChangePrices(price_day_ * kMinutesPerDay + kPriceChangeMinuteOfDay);
  }
}

void Generator::ChangePrices(std::int64_t effective_utc_minute) {
  for (int i = 0; i < options_.price_changes_per_day; ++i) {
    const auto product = static_cast<std::size_t>(price_rng_.Below(data_.products.size()));
    const Cents old_price = current_price_[product];
    // 5-15 % up or down, landing on a price that ends in 9 cents like the shelf prices.
    const std::int64_t basis_points = price_rng_.Between(500, 1500);
    const bool up = price_rng_.Chance(0.5);
    const Cents delta = old_price * basis_points / 10000;
    Cents new_price = up ? old_price + delta : old_price - delta;
    new_price = new_price / 10 * 10 + 9;
    if (new_price == old_price) new_price += up ? 10 : -10;
    if (new_price < 49) new_price = 49;
    if (new_price == old_price) continue;
    current_price_[product] = new_price;
    price_changes_.push_back({effective_utc_minute * 60, product, old_price, new_price});
  }
}

bool Generator::Next(event::Transaction* transaction) {
  const bool spread = options_.days > 0 && options_.spread_count > 0;
  if (spread && generated_ >= options_.spread_count) return false;
  // The k-th transaction lands at a uniformly jittered point of the k-th unit of expected
  // arrivals: exactly in time order, following the traffic curves, without libm.
  double target = (static_cast<double>(generated_) + arrival_rng_.UniformDouble()) * scale_;
  if (spread && target >= window_total_) target = std::nextafter(window_total_, 0.0);
  while (cumulative_ + minute_rate_ <= target) {
    if (minute_ + 1 >= window_end_minute_) return false;
    AdvanceMinute();
  }
  // Where in the minute, and which store: each store in proportion to its rate.
  const double into_minute = (target - cumulative_) / minute_rate_;
  auto second = static_cast<std::int64_t>(into_minute * 60.0);
  second = std::clamp<std::int64_t>(second, 0, 59);
  double pick = arrival_rng_.UniformDouble() * minute_rate_;
  std::size_t store = 0;
  for (; store + 1 < store_count_; ++store) {
    if (pick < store_rates_[store]) break;
    pick -= store_rates_[store];
  }
  while (store_rates_[store] == 0 && store > 0) --store;  // rounding landed past the last open
  ++generated_;
  Fill(store, minute_ * 60 + second, transaction);
  return true;
}

void Generator::NextAt(std::int64_t utc_seconds, event::Transaction* transaction) {
  const std::int64_t minute = FloorDiv(utc_seconds, 60);
  if (generated_ == 0) price_day_ = FloorDiv(minute - kPriceChangeMinuteOfDay, kMinutesPerDay);
  ApplyPriceChangesUpTo(minute);
  double total = 0;
  for (std::size_t store = 0; store < store_count_; ++store) {
    store_rates_[store] = StoreRate(store, minute, /*window_only=*/false);
    total += store_rates_[store];
  }
  if (total == 0) {
    // Every store is closed (a test at 3 a.m.): draw by daily volume instead.
    for (std::size_t store = 0; store < store_count_; ++store) {
      store_rates_[store] = data_.stores[store].daily_transactions;
      total += store_rates_[store];
    }
  }
  double pick = arrival_rng_.UniformDouble() * total;
  std::size_t store = 0;
  for (; store + 1 < store_count_; ++store) {
    if (pick < store_rates_[store]) break;
    pick -= store_rates_[store];
  }
  while (store_rates_[store] == 0 && store > 0) --store;
  ++generated_;
  Fill(store, utc_seconds, transaction);
}

void Generator::Fill(std::size_t store, std::int64_t utc_seconds, event::Transaction* transaction) {
  const StoreInfo& info = data_.stores[store];
  last_utc_seconds_ = utc_seconds;
  transaction->transaction_id.clear();
  AppendTransactionId(&transaction->transaction_id);
  const int offset = UtcOffsetMinutes(info, FloorDiv(utc_seconds, 60));
  transaction->transaction_time = CivilFromSeconds(utc_seconds + offset * 60);
  transaction->store = info.store;
  FillCustomer(store, &transaction->customer);

  const int line_count =
      std::min(DrawBasketSize(), static_cast<int>(data_.products.size()));
  transaction->lines.resize(static_cast<std::size_t>(line_count));
  Cents subtotal = 0;
  basket_.clear();
  for (event::Line& line : transaction->lines) {
    // Distinct products: redraw a product already on the receipt, and after a few misses
    // (a long basket of best sellers) take the next product not yet on it.
    std::size_t product = product_by_rank_[product_popularity_.Draw(content_rng_)];
    for (int attempt = 0; in_basket_[product] != 0 && attempt < 8; ++attempt) {
      product = product_by_rank_[product_popularity_.Draw(content_rng_)];
    }
    while (in_basket_[product] != 0) product = (product + 1) % data_.products.size();
    in_basket_[product] = 1;
    basket_.push_back(product);
    const ProductInfo& product_info = data_.products[product];
    line.product_id = product_info.product_id;
    line.item = product_info.name;
    line.unit_price_cents = current_price_[product];
    line.quantity = DrawQuantity();
    line.line_total_cents = line.unit_price_cents * line.quantity;
    subtotal += line.line_total_cents;
  }
  for (std::size_t product : basket_) in_basket_[product] = 0;
  transaction->subtotal_cents = subtotal;
  transaction->tax_cents = SalesTaxCents(subtotal, info.sales_tax_millionths);
  transaction->total_cents = subtotal + transaction->tax_cents;
  transaction->payment_type = data_.payment_types[payment_choice_.Draw(content_rng_)].name;
  transaction->extra_json = extra_json_;
  transaction->shape = event::Shape::kSeedProducer;
}

void Generator::FillCustomer(std::size_t store, event::Customer* customer) {
  if (content_rng_.Chance(options_.anonymous_share)) {
    customer->customer_id.clear();
    customer->first_name.clear();
    customer->last_name.clear();
    customer->email.clear();
    customer->street.clear();
    customer->city.clear();
    customer->province.clear();
    customer->postal_code.clear();
    return;
  }
  std::size_t index;
  if (!customer_pool_[store].empty() && content_rng_.Chance(kHomeStoreShare)) {
    index = customer_pool_[store][customer_choice_[store].Draw(content_rng_)];
  } else {
    index = static_cast<std::size_t>(content_rng_.Below(data_.customers.size()));
  }
  *customer = data_.customers[index].customer;
}

int Generator::DrawBasketSize() {
  int lines = 1;
  while (lines < kMaxBasketLines && content_rng_.Chance(kAnotherLine)) ++lines;
  return lines;
}

std::int32_t Generator::DrawQuantity() {
  static const WeightedChoice kChoice(
      std::vector<double>(std::begin(kQuantityWeights), std::end(kQuantityWeights)));
  return kQuantities[kChoice.Draw(content_rng_)];
}

void Generator::AppendTransactionId(std::string* out) {
  // 122 random bits in the layout of a version 4 UUID: xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx.
  std::uint64_t high = id_rng_.Next();
  std::uint64_t low = id_rng_.Next();
  high = (high & ~0xf000ULL) | 0x4000ULL;                           // version 4
  low = (low & ~(0xcULL << 60)) | (0x8ULL << 60);                   // variant 10xx
  char text[36];
  int pos = 0;
  auto put = [&](std::uint64_t word, int nibbles, int first_shift) {
    for (int i = 0; i < nibbles; ++i) {
      text[pos++] = kHex[(word >> (first_shift - 4 * i)) & 0xf];
    }
  };
  put(high, 8, 60);
  text[pos++] = '-';
  put(high, 4, 28);
  text[pos++] = '-';
  put(high, 4, 12);
  text[pos++] = '-';
  put(low, 4, 60);
  text[pos++] = '-';
  put(low, 12, 44);
  out->append(text, sizeof(text));
}

}  // namespace posflow::sim
