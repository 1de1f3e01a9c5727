#include "staging/pg_staging_store.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "integration/stack_fixture.h"
#include "pipeline/init_job.h"

namespace posflow::testing {
namespace {

using staging::Batch;
using staging::DeadLetter;
using staging::PartitionKey;
using staging::PgStagingStore;
using staging::ValidMessage;

event::Transaction MakeTransaction(const std::string& id, Cents price = 250) {
  event::Transaction transaction;
  transaction.transaction_id = id;
  transaction.transaction_time = *ParseDateTime("2026-11-20 18:05:00");
  transaction.customer.customer_id = "C00001";
  transaction.store.store_id = "S001";
  transaction.lines.push_back(event::Line{"P0001", "Apples", price, 2, 2 * price});
  transaction.subtotal_cents = 2 * price;
  transaction.tax_cents = 65;
  transaction.total_cents = 2 * price + 65;
  transaction.payment_type = "Cash";
  return transaction;
}

class PgStagingTest : public StackTest {
 protected:
  void SetUp() override {
    StackTest::SetUp();
    if (IsSkipped() || HasFailure()) return;
    auto report = pipeline::RunInit(config_, {.create_topics = false});
    ASSERT_TRUE(report.ok()) << report.status().ToString();
  }

  PgStagingStore MakeStore() { return PgStagingStore(pg::OptionsFromConfig(config_)); }

  long Count(const std::string& sql) {
    auto connection = pg::Connection::Open(pg::OptionsFromConfig(config_));
    EXPECT_TRUE(connection.ok());
    auto rows = connection->Query(sql);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return std::stol(std::string(rows->Get(0, 0)));
  }

  ValidMessage Valid(const event::Transaction& transaction, std::int64_t offset,
                     std::int32_t partition = 0) {
    return ValidMessage{{topic_, partition, offset}, "S001", "{}", &transaction};
  }

  Batch MakeBatch(std::int64_t expected, std::int64_t next, std::int32_t partition = 0) {
    Batch batch;
    batch.consumer_group = "g";
    batch.progress.push_back({PartitionKey{topic_, partition}, expected, next});
    return batch;
  }

  const std::string topic_ = "PointOfSale";
};

TEST_F(PgStagingTest, StagesFirstSeenRecordsDuplicatesAndDeadLettersInOneBatch) {
  PgStagingStore store = MakeStore();
  const event::Transaction first = MakeTransaction("t-1");
  const event::Transaction second = MakeTransaction("t-2");
  Batch batch = MakeBatch(staging::kNoOffset, 4);
  batch.valid = {Valid(first, 0), Valid(second, 1), Valid(first, 2)};  // t-1 twice in a batch
  batch.dead.push_back(DeadLetter{{topic_, 0, 3}, "k", "not json",
                                  {event::Problem{"json.syntax", "not valid JSON"}}});
  auto result = store.WriteBatch(batch);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->staged, 2u);
  EXPECT_EQ(result->staged_lines, 2u);
  EXPECT_EQ(result->duplicates, 1u);
  EXPECT_EQ(result->dead_lettered, 1u);
  EXPECT_EQ(Count("select count(*) from staging.pos_transaction"), 2);
  EXPECT_EQ(Count("select count(*) from staging.pos_line"), 2);
  EXPECT_EQ(Count("select count(*) from ops.duplicate_message where kafka_offset = 2"), 1);
  EXPECT_EQ(Count("select count(*) from ops.dead_letter where reasons = '{json.syntax}' "
                  "and payload = 'not json'::bytea and message_key = 'k'::bytea"),
            1);
  EXPECT_EQ(Count("select next_offset from ops.kafka_offsets where consumer_group = 'g'"), 4);
  EXPECT_EQ(Count("select (sum(total) * 100)::bigint from staging.pos_transaction"), 2 * 565);

  auto offsets = store.LoadOffsets("g", {PartitionKey{topic_, 0}, PartitionKey{topic_, 1}});
  ASSERT_TRUE(offsets.ok()) << offsets.status().ToString();
  ASSERT_EQ(offsets->size(), 1u);
  EXPECT_EQ(offsets->at(PartitionKey{topic_, 0}), 4);
}

TEST_F(PgStagingTest, RepeatInALaterBatchIsADuplicateEvenAfterStagingWasPurged) {
  PgStagingStore store = MakeStore();
  const event::Transaction transaction = MakeTransaction("t-1");
  Batch first = MakeBatch(staging::kNoOffset, 1);
  first.valid = {Valid(transaction, 0)};
  ASSERT_TRUE(store.WriteBatch(first).ok());
  auto purge = pg::Connection::Open(pg::OptionsFromConfig(config_));
  ASSERT_TRUE(purge.ok());
  ASSERT_TRUE(purge->Execute("delete from staging.pos_transaction").ok());
  Batch second = MakeBatch(1, 2);
  second.valid = {Valid(transaction, 1)};
  auto result = store.WriteBatch(second);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->staged, 0u);
  EXPECT_EQ(result->duplicates, 1u);
  EXPECT_EQ(Count("select count(*) from staging.pos_transaction"), 0);
}

TEST_F(PgStagingTest, ZombieBatchIsFencedAndWritesNothing) {
  PgStagingStore owner = MakeStore();
  PgStagingStore zombie = MakeStore();
  const event::Transaction a = MakeTransaction("t-a");
  const event::Transaction b = MakeTransaction("t-b");
  // Both believed the partition unstarted; the new owner commits first.
  Batch owner_batch = MakeBatch(staging::kNoOffset, 10);
  owner_batch.valid = {Valid(a, 0)};
  ASSERT_TRUE(owner.WriteBatch(owner_batch).ok());
  Batch stale = MakeBatch(staging::kNoOffset, 5);
  stale.valid = {Valid(b, 1)};
  stale.dead.push_back(DeadLetter{{topic_, 0, 2}, "", "x", {event::Problem{"json.syntax", "x"}}});
  auto fenced = zombie.WriteBatch(stale);
  ASSERT_FALSE(fenced.ok());
  EXPECT_EQ(fenced.status().code(), Status::Code::kAborted) << fenced.status().ToString();
  // And a zombie that believed an older offset.
  Batch older = MakeBatch(4, 8);
  older.valid = {Valid(b, 4)};
  auto fenced_again = zombie.WriteBatch(older);
  ASSERT_FALSE(fenced_again.ok());
  EXPECT_EQ(fenced_again.status().code(), Status::Code::kAborted);

  EXPECT_EQ(Count("select count(*) from staging.pos_transaction"), 1);
  EXPECT_EQ(Count("select count(*) from ops.transaction_seen"), 1);
  EXPECT_EQ(Count("select count(*) from ops.dead_letter"), 0);
  EXPECT_EQ(Count("select next_offset from ops.kafka_offsets"), 10);
  // The zombie's store still works once it has the right offset.
  Batch fresh = MakeBatch(10, 11);
  fresh.valid = {Valid(b, 10)};
  EXPECT_TRUE(zombie.WriteBatch(fresh).ok());
}

TEST_F(PgStagingTest, OffsetsNeverMoveBackwardsNorStandStill) {
  PgStagingStore store = MakeStore();
  const event::Transaction a = MakeTransaction("t-a");
  Batch first = MakeBatch(staging::kNoOffset, 10);
  first.valid = {Valid(a, 9)};
  ASSERT_TRUE(store.WriteBatch(first).ok());
  // A batch that would move the stored offset back (or leave it where it is), even from the
  // right expected value, writes nothing.
  for (std::int64_t next : {4, 10}) {
    Batch backwards = MakeBatch(10, next);
    backwards.dead.push_back(
        DeadLetter{{topic_, 0, next - 1}, "", "x", {event::Problem{"json.syntax", "x"}}});
    auto refused = store.WriteBatch(backwards);
    ASSERT_FALSE(refused.ok()) << "next " << next;
    EXPECT_EQ(refused.status().code(), Status::Code::kAborted) << refused.status().ToString();
  }
  EXPECT_EQ(Count("select next_offset from ops.kafka_offsets"), 10);
  EXPECT_EQ(Count("select count(*) from ops.dead_letter"), 0);
}

TEST_F(PgStagingTest, HostileTransactionIdsNeverBreakTheDuplicateLookUp) {
  PgStagingStore store = MakeStore();
  // Characters an array literal built from content would trip over: quotes, backslashes,
  // braces, commas, whitespace, NULL-looking text.
  const std::vector<std::string> ids = {"a\"b", "c\\d", "{e}", "f,g", " h ", "NULL", "\\N",
                                        "i\tj", "'k'"};
  std::vector<event::Transaction> transactions;
  for (const std::string& id : ids) transactions.push_back(MakeTransaction(id));
  Batch batch = MakeBatch(staging::kNoOffset, static_cast<std::int64_t>(ids.size()));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    batch.valid.push_back(Valid(transactions[i], static_cast<std::int64_t>(i)));
  }
  auto result = store.WriteBatch(batch);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->staged, ids.size());
  // The same ids again: every one found as a duplicate.
  Batch again = MakeBatch(static_cast<std::int64_t>(ids.size()),
                          static_cast<std::int64_t>(2 * ids.size()));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    again.valid.push_back(Valid(transactions[i], static_cast<std::int64_t>(ids.size() + i)));
  }
  auto repeated = store.WriteBatch(again);
  ASSERT_TRUE(repeated.ok()) << repeated.status().ToString();
  EXPECT_EQ(repeated->staged, 0u);
  EXPECT_EQ(repeated->duplicates, ids.size());
}

// A zombie's open transaction must not hold the offsets' row locks for long, and a hung
// statement must not hang the pipeline: both limits come from the configuration, and what they
// end is reported as transient (retried), not as a broken schema.
TEST_F(PgStagingTest, SessionLimitsEndAnIdleTransactionAndAHungStatement) {
  Config limited = config_;
  limited.db_statement_timeout_ms = "300";
  limited.db_idle_in_transaction_timeout_ms = "300";
  auto connection = pg::Connection::Open(pg::OptionsFromConfig(limited));
  ASSERT_TRUE(connection.ok()) << connection.status().ToString();
  auto slow = connection->Query("select pg_sleep(5)");
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.status().code(), Status::Code::kUnavailable) << slow.status().ToString();
  EXPECT_EQ(connection->last_sqlstate(), "57014");

  ASSERT_TRUE(connection->Execute("begin").ok());
  ASSERT_TRUE(connection->Execute("select 1 from ops.kafka_offsets for update").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // idle in the transaction
  Status after = connection->Execute("select 1");
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.code(), Status::Code::kUnavailable) << after.ToString();
}

TEST_F(PgStagingTest, ErrorLinesQuoteAtMostAFewHundredCharactersOfTheServersMessage) {
  auto connection = pg::Connection::Open(pg::OptionsFromConfig(config_));
  ASSERT_TRUE(connection.ok());
  // The server's message would echo the whole 10 000-character value.
  auto failed = connection->Query("select ('" + std::string(10000, 'x') + "')::integer");
  ASSERT_FALSE(failed.ok());
  EXPECT_LT(failed.status().message().size(), 600u) << failed.status().message().size();
  EXPECT_EQ(connection->last_sqlstate(), "22P02");
}

TEST_F(PgStagingTest, RowTheDatabaseRefusesIsDeadLetteredAndTheRestLands) {
  PgStagingStore store = MakeStore();
  std::vector<event::Transaction> transactions;
  for (int i = 0; i < 9; ++i) transactions.push_back(MakeTransaction("t-" + std::to_string(i)));
  transactions[5].lines[0].item = std::string("Bad\0Name", 8);  // PostgreSQL text refuses NUL
  Batch batch = MakeBatch(staging::kNoOffset, 9);
  for (int i = 0; i < 9; ++i) batch.valid.push_back(Valid(transactions[static_cast<size_t>(i)], i));
  auto result = store.WriteBatch(batch);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->staged, 8u);
  ASSERT_EQ(result->refused.size(), 1u);
  EXPECT_EQ(result->refused[0].source.offset, 5);
  EXPECT_EQ(result->refused[0].problems[0].code.rfind("db.refused:22", 0), 0u)
      << result->refused[0].problems[0].code;
  EXPECT_EQ(result->dead_lettered, 1u);
  EXPECT_EQ(Count("select count(*) from staging.pos_transaction"), 8);
  EXPECT_EQ(Count("select count(*) from ops.dead_letter where kafka_offset = 5 "
                  "and reasons[1] like 'db.refused:%'"),
            1);
  EXPECT_EQ(Count("select count(*) from ops.transaction_seen where transaction_id = 't-5'"), 0);
}

TEST_F(PgStagingTest, UnreachableDatabaseIsUnavailable) {
  pg::ConnectionOptions options;
  options.url = "postgresql://127.0.0.1:1/posflow";
  PgStagingStore store(options);
  const event::Transaction transaction = MakeTransaction("t-1");
  Batch batch = MakeBatch(staging::kNoOffset, 1);
  batch.valid = {Valid(transaction, 0)};
  auto result = store.WriteBatch(batch);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Status::Code::kUnavailable);
}

}  // namespace
}  // namespace posflow::testing
