#include "integration/reconcile.h"

#include <gtest/gtest.h>

#include <thread>

#include "pg/connection.h"
#include "sim/reference_data.h"

namespace posflow::testing {
namespace {

std::int64_t Number(pg::QueryResult& rows, int row, int column) {
  return rows.IsNull(row, column) ? 0 : std::stoll(std::string(rows.Get(row, column)));
}

// Quarantined (not replayed) dead letters per reason code.
std::map<std::string, std::int64_t> DeadLettersByCode(pg::Connection& connection) {
  std::map<std::string, std::int64_t> by_code;
  auto codes = connection.Query(
      "select code, count(*) from ops.dead_letter, unnest(reasons) as code "
      "where replayed_at is null group by code");
  if (codes.ok()) {
    for (int row = 0; row < codes->rows(); ++row) {
      by_code[std::string(codes->Get(row, 0))] = Number(*codes, row, 1);
    }
  }
  return by_code;
}

}  // namespace

StagingTotals ReadStagingTotals(const std::string& db_url) {
  StagingTotals totals;
  pg::ConnectionOptions options;
  options.url = db_url;
  auto connection = pg::Connection::Open(options);
  if (!connection.ok()) return totals;  // the caller polls, or compares and fails
  auto rows = connection->Query(
      "select (select count(*) from ops.transaction_seen),"
      " (select coalesce(sum(total) * 100, 0)::bigint from staging.pos_transaction),"
      " (select count(*) from staging.pos_line),"
      " (select count(*) from ops.duplicate_message),"
      " (select count(*) from ops.dead_letter where replayed_at is null),"
      " (select coalesce(sum(next_offset), 0) from ops.kafka_offsets)");
  if (!rows.ok()) return totals;
  totals.staged = Number(*rows, 0, 0);
  totals.staged_total_cents = Number(*rows, 0, 1);
  totals.staged_lines = Number(*rows, 0, 2);
  totals.duplicates = Number(*rows, 0, 3);
  totals.dead_letters = Number(*rows, 0, 4);
  totals.next_offsets = Number(*rows, 0, 5);
  totals.dead_by_code = DeadLettersByCode(*connection);
  return totals;
}

StagingTotals WaitForAccounted(const std::string& db_url, std::int64_t messages,
                               std::chrono::seconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  StagingTotals totals = ReadStagingTotals(db_url);
  while (totals.Accounted() < messages && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    totals = ReadStagingTotals(db_url);
  }
  return totals;
}

std::int64_t WaitForAccountedPast(const std::string& db_url, std::int64_t count,
                                  std::chrono::seconds deadline) {
  return WaitForAccounted(db_url, count + 1, deadline).Accounted();
}

std::int64_t CountFacts(const std::string& db_url) {
  pg::ConnectionOptions options;
  options.url = db_url;
  auto connection = pg::Connection::Open(options);
  if (!connection.ok()) return -1;  // the caller polls, or compares and fails
  auto rows = connection->Query("select count(*) from dw.fact_transaction");
  return rows.ok() ? Number(*rows, 0, 0) : -1;
}

std::int64_t WaitForFactsPast(const std::string& db_url, std::int64_t count,
                              std::chrono::seconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  std::int64_t facts = CountFacts(db_url);
  while (facts <= count && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    facts = CountFacts(db_url);
  }
  return facts;
}

void ExpectReconciled(const StagingTotals& totals, const sim::Manifest& manifest) {
  EXPECT_EQ(totals.staged, manifest.valid);
  EXPECT_EQ(totals.staged_total_cents, manifest.total_cents);
  EXPECT_EQ(totals.staged_lines, manifest.lines);
  EXPECT_EQ(totals.duplicates, manifest.duplicates);
  EXPECT_EQ(totals.dead_letters, manifest.bad_total);
  EXPECT_EQ(totals.dead_by_code, manifest.bad);
  EXPECT_EQ(totals.next_offsets, manifest.messages);
}

WarehouseTotals ReadWarehouseTotals(const std::string& db_url) {
  WarehouseTotals totals;
  pg::ConnectionOptions options;
  options.url = db_url;
  auto connection = pg::Connection::Open(options);
  if (!connection.ok()) return totals;
  auto rows = connection->Query(
      "select (select count(*) from dw.fact_transaction),"
      " (select count(distinct transaction_id) from dw.fact_transaction),"
      " (select coalesce(sum(total) * 100, 0)::bigint from dw.fact_transaction),"
      " (select count(*) from dw.fact_sales_line),"
      " (select count(*) from staging.pos_transaction),"
      " (select count(*) from ops.duplicate_message),"
      " (select count(*) from ops.dead_letter where replayed_at is null)");
  if (!rows.ok()) return totals;
  totals.loaded = Number(*rows, 0, 0);
  totals.distinct_loaded = Number(*rows, 0, 1);
  totals.loaded_total_cents = Number(*rows, 0, 2);
  totals.fact_lines = Number(*rows, 0, 3);
  totals.still_staged = Number(*rows, 0, 4);
  totals.duplicates = Number(*rows, 0, 5);
  totals.dead_letters = Number(*rows, 0, 6);
  totals.dead_by_code = DeadLettersByCode(*connection);
  auto sold = connection->Query(
      "select s.store_id, p.product_id, sum(l.quantity) from dw.fact_sales_line l "
      "join dw.dim_store s on s.store_key = l.store_key "
      "join dw.dim_product p on p.product_key = l.product_key group by 1, 2 "
      "having sum(l.quantity) <> 0");
  if (sold.ok()) {
    for (int row = 0; row < sold->rows(); ++row) {
      totals.sold[std::string(sold->Get(row, 0))][std::string(sold->Get(row, 1))] =
          Number(*sold, row, 2);
    }
  }
  auto on_hand = connection->Query("select store_id, product_id, quantity from inventory.on_hand");
  if (on_hand.ok()) {
    for (int row = 0; row < on_hand->rows(); ++row) {
      totals.on_hand[std::string(on_hand->Get(row, 0))][std::string(on_hand->Get(row, 1))] =
          Number(*on_hand, row, 2);
    }
  }
  return totals;
}

WarehouseTotals WaitForLoaded(const std::string& db_url, std::int64_t transactions,
                              std::chrono::seconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  WarehouseTotals totals = ReadWarehouseTotals(db_url);
  while ((totals.loaded < transactions || totals.still_staged > 0) &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    totals = ReadWarehouseTotals(db_url);
  }
  return totals;
}

void ExpectWarehouseReconciled(const WarehouseTotals& totals, const sim::Manifest& manifest) {
  EXPECT_EQ(totals.still_staged, 0);
  EXPECT_EQ(totals.loaded, manifest.valid);
  EXPECT_EQ(totals.distinct_loaded, totals.loaded) << "a receipt was loaded twice";
  EXPECT_EQ(totals.loaded_total_cents, manifest.total_cents);
  EXPECT_EQ(totals.fact_lines, manifest.lines);
  EXPECT_EQ(totals.duplicates, manifest.duplicates);
  EXPECT_EQ(totals.dead_letters, manifest.bad_total);
  EXPECT_EQ(totals.dead_by_code, manifest.bad);
  std::map<std::string, std::map<std::string, std::int64_t>> produced;
  for (const auto& [store, products] : manifest.by_store_product) {
    for (const auto& [product, quantity] : products) {
      if (quantity != 0) produced[store][product] = quantity;
    }
  }
  EXPECT_EQ(totals.sold, produced);
  // Inventory: opening stock minus units sold, for every pair of the reference data.
  const sim::ReferenceData& reference = sim::DefaultReferenceData();
  std::int64_t wrong = 0;
  for (const sim::InventoryRecord& record : reference.inventory) {
    const std::string& store = reference.stores[record.store].store.store_id;
    const std::string& product = reference.products[record.product].product_id;
    std::int64_t sold = 0;
    if (auto found = produced.find(store); found != produced.end()) {
      if (auto item = found->second.find(product); item != found->second.end()) sold = item->second;
    }
    const auto store_rows = totals.on_hand.find(store);
    const std::int64_t on_hand = store_rows == totals.on_hand.end() ? INT64_MIN
        : store_rows->second.count(product) ? store_rows->second.at(product) : INT64_MIN;
    if (on_hand != record.on_hand - sold) {
      if (++wrong <= 5) {
        ADD_FAILURE() << "on-hand of " << store << " x " << product << " is " << on_hand
                      << ", expected " << record.on_hand << " - " << sold;
      }
    }
  }
  EXPECT_EQ(wrong, 0) << "store x product pairs whose on-hand is not opening stock - sold";
}

}  // namespace posflow::testing
