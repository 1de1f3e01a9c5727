#include "sim/generator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <string>

#include "common/civil_time.h"

namespace posflow::sim {
namespace {

std::string Generate(const GeneratorOptions& options, int count) {
  Generator generator(DefaultReferenceData(), options);
  event::Transaction transaction;
  std::string all;
  for (int i = 0; i < count && generator.Next(&transaction); ++i) {
    event::AppendSeedJson(transaction, &all);
    all.push_back('\n');
  }
  return all;
}

// 100 000 transactions from the default options, shared by the distribution tests.
const std::vector<event::Transaction>& Sample() {
  static const std::vector<event::Transaction> sample = [] {
    Generator generator(DefaultReferenceData(), GeneratorOptions{});
    std::vector<event::Transaction> transactions(100000);
    for (event::Transaction& transaction : transactions) generator.Next(&transaction);
    return transactions;
  }();
  return sample;
}

TEST(Generator, SameSeedGivesIdenticalBytes) {
  GeneratorOptions options;
  options.seed = 11;
  EXPECT_EQ(Generate(options, 5000), Generate(options, 5000));
}

TEST(Generator, DifferentSeedsGiveDifferentTransactions) {
  GeneratorOptions first;
  first.seed = 1;
  GeneratorOptions second;
  second.seed = 2;
  EXPECT_NE(Generate(first, 100), Generate(second, 100));
}

TEST(Generator, MoneyIsExact) {
  const ReferenceData& data = DefaultReferenceData();
  for (const event::Transaction& transaction : Sample()) {
    Cents subtotal = 0;
    ASSERT_FALSE(transaction.lines.empty());
    for (const event::Line& line : transaction.lines) {
      ASSERT_EQ(line.line_total_cents, line.unit_price_cents * line.quantity);
      ASSERT_GT(line.unit_price_cents, 0);
      ASSERT_GE(line.quantity, 1);
      subtotal += line.line_total_cents;
    }
    ASSERT_EQ(transaction.subtotal_cents, subtotal);
    const StoreInfo& store = data.stores[*data.FindStore(transaction.store.store_id)];
    ASSERT_EQ(transaction.tax_cents, SalesTaxCents(subtotal, store.sales_tax_millionths));
    ASSERT_EQ(transaction.total_cents, transaction.subtotal_cents + transaction.tax_cents);
  }
}

TEST(Generator, ReceiptsHaveDistinctProductsAndAtMostFortyLines) {
  for (const event::Transaction& transaction : Sample()) {
    std::set<std::string> products;
    for (const event::Line& line : transaction.lines) {
      ASSERT_TRUE(products.insert(line.product_id).second) << transaction.transaction_id;
    }
    ASSERT_LE(transaction.lines.size(), 40u);
  }
}

TEST(Generator, TransactionIdsLookLikeUuidV4AndAreUnique) {
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> ids;
  for (const event::Transaction& transaction : Sample()) {
    ASSERT_TRUE(std::regex_match(transaction.transaction_id, uuid)) << transaction.transaction_id;
    ASSERT_TRUE(ids.insert(transaction.transaction_id).second);
  }
}

TEST(Generator, MeanBasketIsBetweenFourAndSixWithALongTail) {
  double lines = 0;
  std::size_t longest = 0;
  std::size_t single = 0;
  for (const event::Transaction& transaction : Sample()) {
    lines += static_cast<double>(transaction.lines.size());
    longest = std::max(longest, transaction.lines.size());
    single += transaction.lines.size() == 1 ? 1u : 0u;
  }
  const double mean = lines / static_cast<double>(Sample().size());
  EXPECT_GE(mean, 4.0);
  EXPECT_LE(mean, 6.0);
  EXPECT_GE(longest, 25u);
  EXPECT_GT(single, Sample().size() / 10);  // quick trips exist
}

TEST(Generator, AnonymousShareIsNearTarget) {
  std::size_t anonymous = 0;
  for (const event::Transaction& transaction : Sample()) {
    anonymous += transaction.customer.anonymous() ? 1u : 0u;
  }
  EXPECT_NEAR(static_cast<double>(anonymous) / static_cast<double>(Sample().size()), 0.25, 0.01);
}

TEST(Generator, SomeCustomersComeBackOften) {
  std::map<std::string, int> visits;
  for (const event::Transaction& transaction : Sample()) {
    if (!transaction.customer.anonymous()) ++visits[transaction.customer.customer_id];
  }
  int most = 0;
  for (const auto& [id, count] : visits) most = std::max(most, count);
  const double mean = 75000.0 / static_cast<double>(visits.size());
  EXPECT_GT(most, mean * 4);
}

TEST(Generator, TopProductIsFarMorePopularThanTheMedian) {
  std::map<std::string, int> lines_by_product;
  for (const event::Transaction& transaction : Sample()) {
    for (const event::Line& line : transaction.lines) ++lines_by_product[line.product_id];
  }
  std::vector<int> counts;
  for (const auto& [id, count] : lines_by_product) counts.push_back(count);
  std::sort(counts.rbegin(), counts.rend());
  EXPECT_EQ(counts.size(), DefaultReferenceData().products.size());
  EXPECT_GT(counts.front(), counts[counts.size() / 2] * 8);
}

TEST(Generator, QuantitiesAreMostlySmallWithSomeBulk) {
  std::map<int, int> by_quantity;
  int lines = 0;
  for (const event::Transaction& transaction : Sample()) {
    for (const event::Line& line : transaction.lines) {
      ++by_quantity[line.quantity];
      ++lines;
    }
  }
  EXPECT_GT(by_quantity[1] + by_quantity[2] + by_quantity[3], lines * 85 / 100);
  EXPECT_GT(by_quantity[12] + by_quantity[24], 0);
}

TEST(Generator, PaymentMixFollowsShares) {
  std::map<std::string, int> by_type;
  for (const event::Transaction& transaction : Sample()) ++by_type[transaction.payment_type];
  EXPECT_EQ(by_type.size(), 5u);
  EXPECT_GT(by_type["Credit Card"], by_type["Cash"]);
  EXPECT_GT(by_type["Cash"], by_type["Gift Card"]);
}

TEST(Generator, TrafficFollowsWeekdayAndHourCurves) {
  GeneratorOptions options;
  options.start_day = DaysFromCivil(2026, 10, 5);  // a Monday
  options.days = 14;
  Generator generator(DefaultReferenceData(), options);
  event::Transaction transaction;
  std::map<int, int> by_weekday;
  int weekday_evening = 0;
  int weekday_morning = 0;
  int weekend_midday = 0;
  int weekend_evening = 0;
  const ReferenceData& data = DefaultReferenceData();
  while (generator.Next(&transaction)) {
    const CivilDateTime& time = transaction.transaction_time;
    const int weekday = Weekday(time.year, time.month, time.day);
    ++by_weekday[weekday];
    const StoreInfo& store = data.stores[*data.FindStore(transaction.store.store_id)];
    ASSERT_GE(time.hour, store.open_hour);
    ASSERT_LT(time.hour, store.close_hour);
    if (weekday < 5) {
      if (time.hour >= 17 && time.hour < 19) ++weekday_evening;
      if (time.hour >= 9 && time.hour < 11) ++weekday_morning;
    } else {
      if (time.hour >= 11 && time.hour < 13) ++weekend_midday;
      if (time.hour >= 19 && time.hour < 21) ++weekend_evening;
    }
  }
  EXPECT_GT(by_weekday[5], by_weekday[1] * 14 / 10);  // Saturday vs Tuesday
  EXPECT_GT(weekday_evening, weekday_morning * 2);
  EXPECT_GT(weekend_midday, weekend_evening * 2);
}

TEST(Generator, BackfillStaysInsideTheDaysInTimeOrder) {
  GeneratorOptions options;
  options.start_day = DaysFromCivil(2026, 10, 1);
  options.days = 3;
  Generator generator(DefaultReferenceData(), options);
  event::Transaction transaction;
  std::int64_t previous = 0;
  int count = 0;
  while (generator.Next(&transaction)) {
    const CivilDateTime& time = transaction.transaction_time;
    const std::int64_t day = DaysFromCivil(time.year, time.month, time.day);
    ASSERT_GE(day, options.start_day);
    ASSERT_LT(day, options.start_day + 3);
    ASSERT_GE(generator.last_utc_seconds(), previous);
    previous = generator.last_utc_seconds();
    ++count;
  }
  // About three days of the chain's natural volume (~24 000 receipts a day).
  EXPECT_GT(count, 3 * 18000);
  EXPECT_LT(count, 3 * 30000);
}

TEST(Generator, SpreadCountGivesExactlyThatManyOverTheWindow) {
  GeneratorOptions options;
  options.start_day = DaysFromCivil(2026, 10, 1);
  options.days = 10;
  options.spread_count = 5000;
  Generator generator(DefaultReferenceData(), options);
  event::Transaction transaction;
  std::set<int> days;
  int count = 0;
  while (generator.Next(&transaction)) {
    days.insert(transaction.transaction_time.day);
    ++count;
  }
  EXPECT_EQ(count, 5000);
  EXPECT_EQ(days.size(), 10u);
}

TEST(Generator, PricesChangeDuringABackfillAndTransactionsFollowThem) {
  GeneratorOptions options;
  options.start_day = DaysFromCivil(2026, 10, 1);
  options.days = 30;
  options.spread_count = 60000;
  Generator generator(DefaultReferenceData(), options);
  event::Transaction transaction;
  std::map<std::string, std::set<Cents>> prices;
  while (generator.Next(&transaction)) {
    for (const event::Line& line : transaction.lines) {
      prices[line.product_id].insert(line.unit_price_cents);
    }
  }
  const std::vector<PriceChange>& changes = generator.price_changes();
  EXPECT_GE(changes.size(), 29u * 2);
  int products_with_several_prices = 0;
  for (const auto& [id, seen] : prices) products_with_several_prices += seen.size() > 1 ? 1 : 0;
  EXPECT_GE(products_with_several_prices, 20);
  for (const PriceChange& change : changes) {
    EXPECT_NE(change.new_price_cents, change.old_price_cents);
    EXPECT_EQ(change.new_price_cents % 10, 9);
    const double ratio = static_cast<double>(change.new_price_cents) /
                         static_cast<double>(change.old_price_cents);
    // 5-15 %, then moved to the next price ending in 9: a few cents more on cheap items.
    EXPECT_GT(ratio, 0.75);
    EXPECT_LT(ratio, 1.25);
  }
  // The first day sells at list prices.
  EXPECT_GE(changes.front().effective_utc_seconds, (options.start_day + 1) * 86400);
}

TEST(Generator, StoreSubsetUsesOnlyTheFirstStores) {
  GeneratorOptions options;
  options.store_count = 3;
  Generator generator(DefaultReferenceData(), options);
  event::Transaction transaction;
  std::set<std::string> stores;
  for (int i = 0; i < 5000; ++i) {
    ASSERT_TRUE(generator.Next(&transaction));
    stores.insert(transaction.store.store_id);
  }
  EXPECT_EQ(stores, (std::set<std::string>{"S001", "S002", "S003"}));
}

TEST(Generator, WallClockUsesTheStoresLocalTime) {
  Generator generator(DefaultReferenceData(), GeneratorOptions{});
  event::Transaction transaction;
  // 2026-07-15 16:30:00 UTC: 12:30 in Toronto (EDT), 09:30 in Vancouver (PDT), 10:30 in
  // Saskatoon (CST all year), 14:00 in St. John's (NDT).
  const std::int64_t utc = DaysFromCivil(2026, 7, 15) * 86400 + 16 * 3600 + 30 * 60;
  const std::map<std::string, std::pair<int, int>> expected = {
      {"S001", {12, 30}}, {"S007", {9, 30}}, {"S012", {10, 30}}, {"S014", {14, 0}}};
  std::set<std::string> checked;
  for (int i = 0; i < 3000 && checked.size() < expected.size(); ++i) {
    generator.NextAt(utc, &transaction);
    auto found = expected.find(transaction.store.store_id);
    if (found == expected.end()) continue;
    EXPECT_EQ(transaction.transaction_time.hour, found->second.first);
    EXPECT_EQ(transaction.transaction_time.minute, found->second.second);
    checked.insert(found->first);
  }
  EXPECT_EQ(checked.size(), expected.size());
}

TEST(Generator, UtcOffsetFollowsCanadianDaylightTime) {
  const ReferenceData& data = DefaultReferenceData();
  const StoreInfo& toronto = data.stores[0];
  const StoreInfo& saskatoon = data.stores[*data.FindStore("S012")];
  auto minute = [](int y, int m, int d, int h, int min) {
    return DaysFromCivil(y, m, d) * 1440 + h * 60 + min;
  };
  EXPECT_EQ(Generator::UtcOffsetMinutes(toronto, minute(2026, 1, 15, 12, 0)), -300);
  EXPECT_EQ(Generator::UtcOffsetMinutes(toronto, minute(2026, 7, 15, 12, 0)), -240);
  // 2026-03-08 02:00 EST = 07:00 UTC: daylight time begins.
  EXPECT_EQ(Generator::UtcOffsetMinutes(toronto, minute(2026, 3, 8, 6, 59)), -300);
  EXPECT_EQ(Generator::UtcOffsetMinutes(toronto, minute(2026, 3, 8, 7, 0)), -240);
  // 2026-11-01 02:00 EDT = 06:00 UTC: it ends.
  EXPECT_EQ(Generator::UtcOffsetMinutes(toronto, minute(2026, 11, 1, 5, 59)), -240);
  EXPECT_EQ(Generator::UtcOffsetMinutes(toronto, minute(2026, 11, 1, 6, 0)), -300);
  EXPECT_EQ(Generator::UtcOffsetMinutes(saskatoon, minute(2026, 7, 15, 12, 0)), -360);
}

}  // namespace
}  // namespace posflow::sim
