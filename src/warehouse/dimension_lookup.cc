#include "warehouse/dimension_lookup.h"

#include <optional>
#include <string>
#include <vector>

namespace posflow::warehouse {
namespace {

// `table` and `key_column` are our own constants, never user input.
Status RequireKnown(pg::Connection& connection, std::string_view what, std::string_view table,
                    std::string_view key_column, std::string_view key) {
  const std::string key_text(key);
  auto found = connection.Query("select count(*) filter (where " + std::string(key_column) +
                                    " = $1), count(distinct " + std::string(key_column) +
                                    "), min(" + std::string(key_column) + "), max(" +
                                    std::string(key_column) + ") from " + std::string(table),
                                {key_text});
  if (!found.ok()) return found.status().WithContext("looking up " + std::string(what));
  if (found->Get(0, 0) != "0") return Status::Ok();
  const std::string count(found->Get(0, 1));
  if (count == "0") {
    return Status::InvalidArgument("unknown " + std::string(what) + " " + key_text + ": " +
                                   std::string(table) +
                                   " is empty (run posflow init to load the reference data)");
  }
  return Status::InvalidArgument("unknown " + std::string(what) + " " + key_text + ": " +
                                 std::string(table) + " has " + count + " " + std::string(what) +
                                 "s, " + std::string(found->Get(0, 2)) + " .. " +
                                 std::string(found->Get(0, 3)));
}

}  // namespace

Status RequireKnownStore(pg::Connection& connection, std::string_view store_id) {
  return RequireKnown(connection, "store", "dw.dim_store", "store_id", store_id);
}

Status RequireKnownProduct(pg::Connection& connection, std::string_view product_id) {
  return RequireKnown(connection, "product", "dw.dim_product", "product_id", product_id);
}

}  // namespace posflow::warehouse
