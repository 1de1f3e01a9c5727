#pragma once

// Loads the chain's reference data (sim::ReferenceData) into the warehouse: the calendar
// (dw.dim_date, dw.dim_time), the dimensions (payment types, customers, stores, products), the
// opening inventory, and the monthly fact partitions. Run by `posflow init`.
//
// Semantics, per table:
//   - dw.dim_date: one row per day of `dates`, added where missing; dw.dim_time: all 1440 minutes.
//   - dw.dim_payment_type: missing names added; an inferred one is marked known.
//   - dw.dim_customer (SCD type 1): missing customer_ids added; a row whose attributes differ (or
//     that was inferred from a sale) is overwritten in place.
//   - dw.dim_store, dw.dim_product (SCD type 2): a natural key never seen gets a first version
//     valid from -infinity (so it covers every earlier sale); a current version whose tracked
//     attributes differ is closed at the load's transaction time (valid_to = now(), is_current =
//     false) and a new version valid from that same instant is opened; an inferred current
//     version is filled in place (no new version). Natural keys absent from `reference` are left
//     as they are (nothing is ever deleted).
//   - inventory.on_hand: seeded from reference.inventory for (store, product) pairs not there
//     yet, each with one `initial` inventory.movement; existing pairs are never touched (the
//     ETL owns them).
//   - dw.ensure_month_partitions for every month of `dates`.
//
// Everything happens in ONE transaction (rolled back on failure), set-based: each table's
// reference rows are COPYed into a temporary table and merged by one or two statements. A
// transaction-level advisory lock makes concurrent loads take turns. Idempotent: a second load
// of the same data changes nothing and its report's Changed() is false.

#include <cstdint>
#include <string>

#include "common/civil_time.h"
#include "common/status.h"
#include "pg/connection.h"
#include "sim/reference_data.h"

namespace posflow::warehouse {

// The calendar range `posflow init` prepares by default: 2020-01-01..2030-12-31.
CivilDateRange DefaultWarehouseDates();

// What one load inserted or changed (rows); all zero when the warehouse was already up to date.
struct ReferenceLoadReport {
  std::int64_t dates_inserted = 0;
  std::int64_t times_inserted = 0;
  std::int64_t payment_types_inserted = 0;
  std::int64_t payment_types_filled = 0;  // inferred rows now known
  std::int64_t customers_inserted = 0;
  std::int64_t customers_updated = 0;     // overwritten in place (changed or inferred)
  std::int64_t stores_inserted = 0;       // natural keys never seen before
  std::int64_t stores_versioned = 0;      // changed: old version closed, new one opened
  std::int64_t stores_filled = 0;         // inferred current version filled in place
  std::int64_t products_inserted = 0;
  std::int64_t products_versioned = 0;
  std::int64_t products_filled = 0;
  std::int64_t inventory_seeded = 0;      // on_hand rows (and `initial` movements) added
  std::int64_t partitions_created = 0;    // fact partitions (both facts counted)

  // Whether this load changed anything.
  bool Changed() const;
};

// Loads `reference` and the calendar `dates` into the warehouse `connection` points at.
// REQUIRES: the schema is migrated (003_create_warehouse.sql); no transaction open on
// `connection`; dates.first <= dates.last.
// Failure: InvalidArgument for a reversed date range; the refused statement's error otherwise
// (nothing is changed then).
Result<ReferenceLoadReport> LoadReferenceData(pg::Connection& connection,
                                              const sim::ReferenceData& reference,
                                              const CivilDateRange& dates);

// Inserts the dw.dim_date rows of the days from `first` through `last` ("YYYY-MM-DD" or any
// date expression PostgreSQL accepts) that are not there yet; returns how many. Nothing when
// first > last. Shared by the reference load and `posflow maintain`'s calendar extension.
Result<std::int64_t> InsertCalendarDays(pg::Connection& connection, const std::string& first,
                                        const std::string& last);

}  // namespace posflow::warehouse
