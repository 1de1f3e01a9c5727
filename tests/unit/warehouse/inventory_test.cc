// The checks of a stock change that need no database (warehouse/inventory.h).

#include "warehouse/inventory.h"

#include <gtest/gtest.h>

namespace posflow::warehouse {
namespace {

StockChange Change(StockChangeKind kind, std::int64_t quantity) {
  StockChange change;
  change.store_id = "S001";
  change.product_id = "P0001";
  change.kind = kind;
  change.quantity = quantity;
  return change;
}

TEST(ValidateStockChange, RestockNeedsAPositiveQuantity) {
  EXPECT_TRUE(ValidateStockChange(Change(StockChangeKind::kRestock, 1)).ok());
  EXPECT_EQ(ValidateStockChange(Change(StockChangeKind::kRestock, 0)).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(ValidateStockChange(Change(StockChangeKind::kRestock, -5)).code(),
            Status::Code::kInvalidArgument);
}

TEST(ValidateStockChange, AdjustmentByNeedsANonZeroChangeAndACountANonNegativeOne) {
  EXPECT_TRUE(ValidateStockChange(Change(StockChangeKind::kAdjustBy, -3)).ok());
  EXPECT_EQ(ValidateStockChange(Change(StockChangeKind::kAdjustBy, 0)).code(),
            Status::Code::kInvalidArgument);
  EXPECT_TRUE(ValidateStockChange(Change(StockChangeKind::kSetToCount, 0)).ok());
  EXPECT_EQ(ValidateStockChange(Change(StockChangeKind::kSetToCount, -1)).code(),
            Status::Code::kInvalidArgument);
}

TEST(ValidateStockChange, RejectsQuantitiesAnIntegerColumnCannotHoldAndMissingKeys) {
  EXPECT_TRUE(ValidateStockChange(Change(StockChangeKind::kRestock, 2147483647)).ok());
  EXPECT_EQ(ValidateStockChange(Change(StockChangeKind::kRestock, 2147483648)).code(),
            Status::Code::kInvalidArgument);
  StockChange change = Change(StockChangeKind::kRestock, 1);
  change.store_id.clear();
  EXPECT_EQ(ValidateStockChange(change).code(), Status::Code::kInvalidArgument);
  change = Change(StockChangeKind::kRestock, 1);
  change.product_id.clear();
  EXPECT_EQ(ValidateStockChange(change).code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace posflow::warehouse
