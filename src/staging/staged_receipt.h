#pragma once

// One receipt staged outside PostgreSQL (MongoDB staging), with the figures `posflow check`
// reconciles against the warehouse and the producers' manifests (staging_factory.h,
// ReadReceiptsStagedOutsidePostgres).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace posflow::staging {

struct StagedReceiptFigures {
  std::string transaction_id;
  std::string store_id;
  std::int64_t total_cents = 0;
  // (product_id, or "item:<name>" for an item-only line; quantity) per line.
  std::vector<std::pair<std::string, std::int64_t>> lines;
};

}  // namespace posflow::staging
