#pragma once

// The reference data of "Boreal Market", the fictional Canadian grocery chain posflow
// simulates: provinces with their sales-tax rates, stores, products, payment types, customers
// and each store's opening inventory. Written for posflow (names and addresses are invented);
// the simulator draws from it and `posflow init` loads the same tables into the warehouse
// dimensions and the inventory, so both always agree.
//
// Everything is deterministic: the customer base and the inventory come from a fixed seed,
// independent of the simulator's --seed. Immutable after construction; safe to share between
// threads.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/money.h"
#include "event/transaction.h"

namespace posflow::sim {

struct Province {
  std::string code;  // "ON"
  std::string name;  // "Ontario", as written in messages (location.province)
  // Combined sales tax on a receipt in millionths: 130000 = 13 %, 149750 = 14.975 %.
  std::int64_t sales_tax_millionths = 0;
  std::string tax_label;  // "HST", "GST + QST", ...
};

struct StoreInfo {
  event::Store store;          // store_id "S001"..., name, address, city, province, postal code
  std::string province_code;   // "ON"
  std::string time_zone;       // IANA name, e.g. "America/Toronto"
  int standard_utc_offset_minutes = 0;  // -300 for Toronto (EST)
  bool observes_dst = true;             // Canadian rule: 2nd Sunday of March to 1st of November
  std::int64_t sales_tax_millionths = 0;  // the province's rate
  // Receipts on an average day (the traffic weight).
  int daily_transactions = 0;
  // Opening hours, local time: open from open_hour:00 to close_hour:00.
  int open_hour = 8;
  int close_hour = 22;
};

struct ProductInfo {
  std::string product_id;  // "P0001"...
  std::string name;        // as printed on receipts
  std::string category;
  Cents unit_price_cents = 0;  // list price at the start of every simulation
  int popularity_rank = 0;     // 1 = best seller
};

struct PaymentType {
  std::string name;   // as written in messages: "Credit Card"
  double share = 0;   // share of receipts paid this way (the shares sum to 1)
};

struct CustomerInfo {
  event::Customer customer;  // customer_id "C00001"..., name, email, address
  std::size_t home_store = 0;  // index into ReferenceData::stores: where they usually shop
};

struct InventoryRecord {
  std::size_t store = 0;    // index into stores
  std::size_t product = 0;  // index into products
  std::int32_t on_hand = 0;        // units on the shelf when the simulation starts
  std::int32_t reorder_point = 0;  // restock when on_hand falls below this
};

struct ReferenceData {
  std::vector<Province> provinces;
  std::vector<StoreInfo> stores;
  std::vector<std::string> categories;
  std::vector<ProductInfo> products;  // products[i].popularity_rank is a permutation of 1..n
  std::vector<PaymentType> payment_types;
  std::vector<CustomerInfo> customers;
  std::vector<InventoryRecord> inventory;  // one per store x product, store-major

  // The province named as in messages ("Quebec"), or nullptr.
  const Province* FindProvince(std::string_view name) const;
  // Index of the store with this id, or nullopt.
  std::optional<std::size_t> FindStore(std::string_view store_id) const;
  // Index of the product with this id, or nullopt.
  std::optional<std::size_t> FindProduct(std::string_view product_id) const;
};

// Boreal Market: 15 stores in 9 provinces, 141 products in 10 categories, 5 payment types,
// 50 000 customers (for ~24 000 receipts a day: a named customer shops about 2.5 times a week).
// Built on first use (~30 ms).
const ReferenceData& DefaultReferenceData();

// Sales tax on a receipt: subtotal x rate, rounded half up to the cent (half away from zero
// for a negative subtotal). `rate_millionths` as in Province.
Cents SalesTaxCents(Cents subtotal_cents, std::int64_t rate_millionths);

// Zipf exponent of product popularity, in sixteenths (see random.h): 12 = 0.75.
inline constexpr int kProductPopularityExponent = 12;

}  // namespace posflow::sim
