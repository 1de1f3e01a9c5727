#pragma once

// `posflow inventory`: the live stock per store and product (inventory.on_hand), and the manual
// changes to it: a restock (goods received) and an adjustment (a correction by a number of
// units, or to a counted quantity).
//
// Every change is ONE transaction that locks the on_hand row (select ... for update), writes
// its new quantity and inserts one inventory.recorded_movement with the signed difference.
// Concurrent changes, from this command or from the ETL's sale decrements, take turns on the row
// lock, so none is lost and Σ quantity_change of the view inventory.movement (recorded
// movements + one sale per line fact) per pair stays equal to on_hand.quantity.
//
// A restock of a pair that has no on_hand row yet, for a store in dw.dim_store and a product in
// dw.dim_product, creates the row (quantity 0, reorder point 0) in the same transaction, so the
// new row's only movement is the restock. An adjustment needs the row to exist.

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "pg/connection.h"
#include "warehouse/report_format.h"

namespace posflow::warehouse {

enum class StockChangeKind {
  kRestock,     // quantity units received: +quantity; movement kind "restock"
  kAdjustBy,    // a correction by quantity units (signed, non-zero); movement kind "adjustment"
  kSetToCount,  // a count found quantity units on the shelf (>= 0): the difference is the
                // change; movement kind "adjustment", note prefixed "count <quantity>"
};

struct StockChange {
  std::string store_id;    // S001. Required.
  std::string product_id;  // P0001. Required.
  StockChangeKind kind = StockChangeKind::kRestock;
  // See StockChangeKind. kRestock: > 0; kAdjustBy: != 0; kSetToCount: >= 0. At most
  // 2 147 483 647 in magnitude (on_hand.quantity is an integer).
  std::int64_t quantity = 0;
  // Free text stored in inventory.movement.note; empty: none.
  std::string note;
};

// Checks `change` without I/O. Failure: InvalidArgument naming the bad field.
Status ValidateStockChange(const StockChange& change);

struct StockChangeResult {
  std::int64_t quantity_before = 0;
  std::int64_t quantity_after = 0;
  std::int64_t quantity_change = 0;  // after - before, as recorded in the movement
  std::int64_t movement_id = 0;
  bool created = false;  // the restock created the on_hand row
};

// Applies `change` to the database `connection` points at, in one transaction.
// REQUIRES: no transaction open on `connection`.
// Failure (nothing changed then): InvalidArgument for a bad change, an unknown store or product,
// an adjustment of a pair without a row, or a quantity the row cannot hold; the server's error
// otherwise (e.g. a lock not obtained within 30 s: retry).
Result<StockChangeResult> ApplyStockChange(pg::Connection& connection, const StockChange& change);

struct StockFilter {
  std::optional<std::string> store_id;    // only this store
  std::optional<std::string> product_id;  // only this product
};

// The on_hand rows matching `filter`, by store and product: store_id, store (current name),
// product_id, product, quantity, reorder_point, status ("ok", "low" below the reorder point,
// "out" at zero, "oversold" below zero) and updated_at (UTC, ISO 8601).
// Failure: InvalidArgument for a store or product not in the dimensions; the server's error
// otherwise.
Result<ReportTable> ShowStock(pg::Connection& connection, const StockFilter& filter);

}  // namespace posflow::warehouse
