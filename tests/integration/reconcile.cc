#include "integration/reconcile.h"

#include <gtest/gtest.h>

#include <thread>

#include "pg/connection.h"

namespace posflow::testing {
namespace {

std::int64_t Number(pg::QueryResult& rows, int row, int column) {
  return rows.IsNull(row, column) ? 0 : std::stoll(std::string(rows.Get(row, column)));
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
  auto codes = connection->Query(
      "select code, count(*) from ops.dead_letter, unnest(reasons) as code "
      "where replayed_at is null group by code");
  if (codes.ok()) {
    for (int row = 0; row < codes->rows(); ++row) {
      totals.dead_by_code[std::string(codes->Get(row, 0))] = Number(*codes, row, 1);
    }
  }
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

void ExpectReconciled(const StagingTotals& totals, const sim::Manifest& manifest) {
  EXPECT_EQ(totals.staged, manifest.valid);
  EXPECT_EQ(totals.staged_total_cents, manifest.total_cents);
  EXPECT_EQ(totals.staged_lines, manifest.lines);
  EXPECT_EQ(totals.duplicates, manifest.duplicates);
  EXPECT_EQ(totals.dead_letters, manifest.bad_total);
  EXPECT_EQ(totals.dead_by_code, manifest.bad);
  EXPECT_EQ(totals.next_offsets, manifest.messages);
}

}  // namespace posflow::testing
