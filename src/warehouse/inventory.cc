#include "warehouse/inventory.h"

#include <charconv>
#include <limits>
#include <vector>

#include "warehouse/dimension_lookup.h"

namespace posflow::warehouse {
namespace {

constexpr std::int64_t kMaxQuantity = std::numeric_limits<std::int32_t>::max();
constexpr std::int64_t kMinQuantity = std::numeric_limits<std::int32_t>::min();

constexpr char kLockRow[] =
    "select quantity from inventory.on_hand where store_id = $1 and product_id = $2 for update";

std::string PairName(const StockChange& change) {
  return change.store_id + "/" + change.product_id;
}

std::string MovementNote(const StockChange& change) {
  if (change.kind != StockChangeKind::kSetToCount) return change.note;
  return "count " + std::to_string(change.quantity) + (change.note.empty() ? "" : ": ") +
         change.note;
}

std::optional<std::int64_t> ParseInteger(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The body of ApplyStockChange, inside its transaction.
Result<StockChangeResult> ApplyLocked(pg::Connection& connection, const StockChange& change) {
  // Never wait forever behind a stuck transaction (an ETL batch holds its rows for well under a
  // second); the operator retries.
  POSFLOW_RETURN_IF_ERROR(connection.Execute("set local lock_timeout = '30s'"));
  const std::vector<std::optional<std::string>> pair = {change.store_id, change.product_id};
  auto locked = connection.Query(kLockRow, pair);
  if (!locked.ok()) return locked.status().WithContext("locking " + PairName(change));

  StockChangeResult result;
  if (locked->rows() == 0) {
    POSFLOW_RETURN_IF_ERROR(RequireKnownStore(connection, change.store_id));
    POSFLOW_RETURN_IF_ERROR(RequireKnownProduct(connection, change.product_id));
    if (change.kind != StockChangeKind::kRestock) {
      return Status::InvalidArgument(change.store_id + " has no stock of " + change.product_id +
                                     " (no inventory.on_hand row) to adjust; a restock creates it");
    }
    // A concurrent restock may create the row first: then this insert waits for it, does
    // nothing, and the lock below takes the row it made.
    auto inserted = connection.Query(
        "insert into inventory.on_hand (store_id, product_id, quantity, reorder_point) "
        "values ($1, $2, 0, 0) on conflict (store_id, product_id) do nothing",
        pair);
    if (!inserted.ok()) return inserted.status().WithContext("creating " + PairName(change));
    result.created = inserted->AffectedRows() == 1;
    locked = connection.Query(kLockRow, pair);
    if (!locked.ok()) return locked.status().WithContext("locking " + PairName(change));
    if (locked->rows() != 1) {
      return Status::Internal("inventory.on_hand row " + PairName(change) +
                              " vanished right after it was created");
    }
  }

  const std::optional<std::int64_t> before = ParseInteger(locked->Get(0, 0));
  if (!before) {
    return Status::Internal("inventory.on_hand.quantity of " + PairName(change) +
                            " is not an integer: " + std::string(locked->Get(0, 0)));
  }
  result.quantity_before = *before;
  result.quantity_after = change.kind == StockChangeKind::kSetToCount
                              ? change.quantity
                              : result.quantity_before + change.quantity;
  if (result.quantity_after > kMaxQuantity || result.quantity_after < kMinQuantity) {
    return Status::InvalidArgument(PairName(change) + " would hold " +
                                   std::to_string(result.quantity_after) +
                                   " units, beyond what inventory.on_hand can count");
  }
  result.quantity_change = result.quantity_after - result.quantity_before;

  auto updated = connection.Query(
      "update inventory.on_hand set quantity = $3::integer, updated_at = now() "
      "where store_id = $1 and product_id = $2",
      {change.store_id, change.product_id, std::to_string(result.quantity_after)});
  if (!updated.ok()) return updated.status().WithContext("updating " + PairName(change));

  const std::string note = MovementNote(change);
  auto movement = connection.Query(
      "insert into inventory.recorded_movement (store_id, product_id, kind, quantity_change, note) "
      "values ($1, $2, $3, $4::integer, $5) returning movement_id",
      {change.store_id, change.product_id,
       std::string(change.kind == StockChangeKind::kRestock ? "restock" : "adjustment"),
       std::to_string(result.quantity_change),
       note.empty() ? std::nullopt : std::optional<std::string>(note)});
  if (!movement.ok()) return movement.status().WithContext("recording the movement");
  result.movement_id = ParseInteger(movement->Get(0, 0)).value_or(0);
  return result;
}

}  // namespace

Status ValidateStockChange(const StockChange& change) {
  if (change.store_id.empty()) return Status::InvalidArgument("--store is required (S001)");
  if (change.product_id.empty()) return Status::InvalidArgument("--product is required (P0001)");
  if (change.quantity > kMaxQuantity || change.quantity < -kMaxQuantity) {
    return Status::InvalidArgument("quantity " + std::to_string(change.quantity) +
                                   " is beyond what inventory.on_hand can count");
  }
  switch (change.kind) {
    case StockChangeKind::kRestock:
      if (change.quantity <= 0) {
        return Status::InvalidArgument("a restock adds units: --quantity must be > 0, not " +
                                       std::to_string(change.quantity));
      }
      break;
    case StockChangeKind::kAdjustBy:
      if (change.quantity == 0) {
        return Status::InvalidArgument("--quantity-change 0 changes nothing");
      }
      break;
    case StockChangeKind::kSetToCount:
      if (change.quantity < 0) {
        return Status::InvalidArgument("a count is what is on the shelf: --count must be >= 0, "
                                       "not " +
                                       std::to_string(change.quantity));
      }
      break;
  }
  return Status::Ok();
}

Result<StockChangeResult> ApplyStockChange(pg::Connection& connection, const StockChange& change) {
  POSFLOW_RETURN_IF_ERROR(ValidateStockChange(change));
  POSFLOW_RETURN_IF_ERROR(connection.Execute("begin"));
  Result<StockChangeResult> result = ApplyLocked(connection, change);
  Status status = result.status();
  if (status.ok()) status = connection.Execute("commit");
  if (!status.ok()) {
    (void)connection.Execute("rollback");
    return status;
  }
  return result;
}

Result<ReportTable> ShowStock(pg::Connection& connection, const StockFilter& filter) {
  if (filter.store_id) POSFLOW_RETURN_IF_ERROR(RequireKnownStore(connection, *filter.store_id));
  if (filter.product_id) {
    POSFLOW_RETURN_IF_ERROR(RequireKnownProduct(connection, *filter.product_id));
  }
  auto rows = connection.Query(
      "select h.store_id, s.name, h.product_id, p.name, h.quantity, h.reorder_point, "
      "       case when h.quantity < 0 then 'oversold' when h.quantity = 0 then 'out' "
      "            when h.quantity < h.reorder_point then 'low' else 'ok' end, "
      "       to_char(h.updated_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
      "from inventory.on_hand h "
      "left join dw.dim_store s on s.store_id = h.store_id and s.is_current "
      "left join dw.dim_product p on p.product_id = h.product_id and p.is_current "
      "where ($1::text is null or h.store_id = $1::text) "
      "  and ($2::text is null or h.product_id = $2::text) "
      "order by h.store_id, h.product_id",
      {filter.store_id, filter.product_id});
  if (!rows.ok()) return rows.status().WithContext("reading inventory.on_hand");

  ReportTable table;
  const auto text = [](const char* name) { return ReportColumn{name, ColumnKind::kText, ""}; };
  const auto integer = [](const char* name) {
    return ReportColumn{name, ColumnKind::kInteger, ""};
  };
  table.columns = {text("store_id"),   text("store"),          text("product_id"),
                   text("product"),    integer("quantity"),    integer("reorder_point"),
                   text("status"),     text("updated_at")};
  for (int row_idx = 0; row_idx < rows->rows(); ++row_idx) {
    std::vector<ReportCell>& row = table.rows.emplace_back();
    for (int column_idx = 0; column_idx < rows->columns(); ++column_idx) {
      if (rows->IsNull(row_idx, column_idx)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(rows->Get(row_idx, column_idx)));
      }
    }
  }
  return table;
}

}  // namespace posflow::warehouse
