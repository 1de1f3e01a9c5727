#include "sim/reference_data.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace posflow::sim {
namespace {

// `text` has the shape of `pattern`: 'A' an upper-case letter, '9' a digit, else itself.
bool HasShape(const std::string& text, std::string_view pattern) {
  if (text.size() != pattern.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool ok = pattern[i] == 'A'   ? (c >= 'A' && c <= 'Z')
                    : pattern[i] == '9' ? (c >= '0' && c <= '9')
                                        : c == pattern[i];
    if (!ok) return false;
  }
  return true;
}

TEST(ReferenceData, HasEnoughStoresProvincesProductsAndCategories) {
  const ReferenceData& data = DefaultReferenceData();
  EXPECT_GE(data.stores.size(), 12u);
  std::set<std::string> store_provinces;
  for (const StoreInfo& store : data.stores) store_provinces.insert(store.province_code);
  EXPECT_GE(store_provinces.size(), 5u);
  EXPECT_GE(data.products.size(), 120u);
  EXPECT_GE(data.categories.size(), 8u);
  EXPECT_EQ(data.provinces.size(), 13u);  // ten provinces and three territories
  EXPECT_EQ(data.payment_types.size(), 5u);
  EXPECT_EQ(data.customers.size(), 50000u);
  EXPECT_EQ(data.inventory.size(), data.stores.size() * data.products.size());
}

TEST(ReferenceData, IdsAreUniqueAndWellFormed) {
  const ReferenceData& data = DefaultReferenceData();
  std::set<std::string> ids;
  for (const StoreInfo& store : data.stores) {
    EXPECT_TRUE(HasShape(store.store.store_id, "S999"));
    EXPECT_TRUE(ids.insert(store.store.store_id).second);
  }
  for (const ProductInfo& product : data.products) {
    EXPECT_TRUE(HasShape(product.product_id, "P9999"));
    EXPECT_TRUE(ids.insert(product.product_id).second);
  }
  std::set<std::string> emails;
  for (const CustomerInfo& customer : data.customers) {
    EXPECT_TRUE(HasShape(customer.customer.customer_id, "C99999"));
    EXPECT_TRUE(ids.insert(customer.customer.customer_id).second);
    EXPECT_TRUE(emails.insert(customer.customer.email).second) << customer.customer.email;
    EXPECT_TRUE(HasShape(customer.customer.postal_code, "A9A 9A9")) << customer.customer.postal_code;
  }
}

TEST(ReferenceData, StoresHaveTaxZoneAndHours) {
  const ReferenceData& data = DefaultReferenceData();
  for (const StoreInfo& store : data.stores) {
    const Province* province = data.FindProvince(store.store.province);
    ASSERT_NE(province, nullptr) << store.store.store_id;
    EXPECT_EQ(province->code, store.province_code);
    EXPECT_EQ(store.sales_tax_millionths, province->sales_tax_millionths);
    EXPECT_EQ(store.time_zone.rfind("America/", 0), 0u);
    EXPECT_GT(store.daily_transactions, 0);
    EXPECT_LT(store.open_hour, store.close_hour);
  }
  EXPECT_EQ(data.FindProvince("Quebec")->sales_tax_millionths, 149750);
  EXPECT_EQ(data.FindProvince("Ontario")->sales_tax_millionths, 130000);
  EXPECT_EQ(data.FindProvince("Alberta")->sales_tax_millionths, 50000);
}

TEST(ReferenceData, PopularityRanksArePermutationAndPricesPositive) {
  const ReferenceData& data = DefaultReferenceData();
  std::vector<int> ranks;
  std::set<std::string> categories(data.categories.begin(), data.categories.end());
  for (const ProductInfo& product : data.products) {
    ranks.push_back(product.popularity_rank);
    EXPECT_GT(product.unit_price_cents, 0);
    EXPECT_TRUE(categories.count(product.category)) << product.category;
  }
  std::sort(ranks.begin(), ranks.end());
  for (std::size_t i = 0; i < ranks.size(); ++i) EXPECT_EQ(ranks[i], static_cast<int>(i + 1));
}

TEST(ReferenceData, InventoryStocksPopularProductsMore) {
  const ReferenceData& data = DefaultReferenceData();
  for (const InventoryRecord& record : data.inventory) {
    EXPECT_GT(record.on_hand, record.reorder_point);
    EXPECT_GT(record.reorder_point, 0);
  }
  auto by_rank = [&](int rank) {
    for (std::size_t i = 0; i < data.products.size(); ++i) {
      if (data.products[i].popularity_rank == rank) return i;
    }
    return std::size_t{0};
  };
  const InventoryRecord& top = data.inventory[by_rank(1)];  // store 0
  const InventoryRecord& tail = data.inventory[by_rank(static_cast<int>(data.products.size()))];
  EXPECT_GT(top.on_hand, tail.on_hand * 5);
}

TEST(ReferenceData, CustomersLiveNearTheirHomeStore) {
  const ReferenceData& data = DefaultReferenceData();
  for (const CustomerInfo& customer : data.customers) {
    const StoreInfo& store = data.stores[customer.home_store];
    EXPECT_EQ(customer.customer.city, store.store.city);
    EXPECT_EQ(customer.customer.postal_code.substr(0, 3), store.store.postal_code.substr(0, 3));
  }
}

TEST(SalesTax, RoundsHalfUpToTheCent) {
  EXPECT_EQ(SalesTaxCents(10000, 130000), 1300);
  EXPECT_EQ(SalesTaxCents(10435, 120000), 1252);  // 1252.2
  EXPECT_EQ(SalesTaxCents(100, 149750), 15);      // 14.975 -> 15
  EXPECT_EQ(SalesTaxCents(10, 50000), 1);         // 0.5 -> 1 (half up)
  EXPECT_EQ(SalesTaxCents(9, 50000), 0);          // 0.45
  EXPECT_EQ(SalesTaxCents(-10, 50000), -1);       // half away from zero
  EXPECT_EQ(SalesTaxCents(0, 149750), 0);
}

}  // namespace
}  // namespace posflow::sim
