#pragma once

// Checks that a store or product named by an operator (a --store or --product flag) exists in
// the warehouse's dimensions, with an error that says what the dimension does hold. Any version
// counts (SCD type 2: a store renamed yesterday is still that store).

#include <string_view>

#include "common/status.h"
#include "pg/connection.h"

namespace posflow::warehouse {

// OK when dw.dim_store has a row for `store_id`. Failure: InvalidArgument, one line naming the
// store and the range of store ids that do exist ("unknown store S999: dw.dim_store has 15
// stores, S001 .. S015"); the query's error when PostgreSQL refuses it.
Status RequireKnownStore(pg::Connection& connection, std::string_view store_id);

// The same for dw.dim_product and `product_id`.
Status RequireKnownProduct(pg::Connection& connection, std::string_view product_id);

}  // namespace posflow::warehouse
