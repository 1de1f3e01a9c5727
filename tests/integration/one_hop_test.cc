// `posflow run`'s one-hop path at the level of its store (pipeline/one_hop_store.h), against the
// real PostgreSQL of the local stack: a consumed batch lands in the warehouse in one transaction
// with its offsets, seen ids, duplicates and dead letters; a zombie's batch is fenced and writes
// nothing; a receipt the warehouse refuses is quarantined and the rest of the batch loads;
// concurrent stores loading the same new dimension members neither deadlock nor fail.
// (Crashes, rebalances and restarts of one-hop `posflow run`: pipeline_test.cc, chaos_test.cc.)

#include "pipeline/one_hop_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "integration/stack_fixture.h"
#include "pipeline/check_job.h"
#include "pipeline/init_job.h"

namespace posflow::testing {
namespace {

using staging::Batch;
using staging::PartitionKey;
using staging::ValidMessage;

event::Transaction MakeReceipt(const std::string& id, const std::string& store_id = "S001",
                               const std::string& product_id = "P0002", int quantity = 2) {
  event::Transaction transaction;
  transaction.transaction_id = id;
  transaction.transaction_time = *ParseDateTime("2026-11-20 18:05:00");
  transaction.customer.customer_id = "C00001";
  transaction.store.store_id = store_id;
  transaction.store.province = "Ontario";
  const Cents price = 499;
  transaction.lines.push_back(event::Line{product_id, "Gala Apples 3 lb Bag", price, quantity,
                                          quantity * price});
  transaction.subtotal_cents = quantity * price;
  transaction.tax_cents = 65;
  transaction.total_cents = quantity * price + 65;
  transaction.payment_type = "Cash";
  return transaction;
}

class OneHopTest : public StackTest {
 protected:
  void SetUp() override {
    StackTest::SetUp();
    if (IsSkipped() || HasFailure()) return;
    auto report = pipeline::RunInit(config_, {.create_topics = false});
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    auto connection = pg::Connection::Open(pg::OptionsFromConfig(config_));
    ASSERT_TRUE(connection.ok()) << connection.status().ToString();
    connection_.emplace(std::move(connection).value());
  }

  pipeline::OneHopStore MakeStore() {
    return pipeline::OneHopStore(pg::OptionsFromConfig(config_), warehouse::LoadOptions{},
                                 nullptr, &loaded_);
  }

  std::string Scalar(const std::string& sql) {
    auto rows = connection_->Query(sql);
    EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().ToString();
    if (!rows.ok() || rows->rows() == 0) return "<no row>";
    return rows->IsNull(0, 0) ? "<null>" : std::string(rows->Get(0, 0));
  }

  ValidMessage Valid(const event::Transaction& transaction, std::int64_t offset,
                     std::int32_t partition = 0) {
    return ValidMessage{{topic_, partition, offset}, transaction.store.store_id, "{}",
                        &transaction};
  }

  Batch MakeBatch(std::int64_t expected, std::int64_t next, std::int32_t partition = 0) {
    Batch batch;
    batch.consumer_group = "g";
    batch.progress.push_back({PartitionKey{topic_, partition}, expected, next});
    return batch;
  }

  void ExpectCheckPasses() {
    pipeline::CheckOptions options;
    options.query_kafka = false;
    auto report = pipeline::RunCheck(config_, options);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    for (const auto& item : report->items) {
      EXPECT_TRUE(item.ok) << item.name << ": " << item.detail;
    }
  }

  const std::string topic_ = "PointOfSale";
  std::optional<pg::Connection> connection_;
  pipeline::EtlStats loaded_;
};

TEST_F(OneHopTest, BatchLandsInTheWarehouseWithOffsetsDuplicatesAndDeadLettersAndNoStaging) {
  pipeline::OneHopStore store = MakeStore();
  const event::Transaction first = MakeReceipt("oh-1");
  const event::Transaction second = MakeReceipt("oh-2", "S002");
  Batch batch = MakeBatch(staging::kNoOffset, 4);
  batch.valid = {Valid(first, 0), Valid(second, 1), Valid(first, 2)};  // oh-1 twice
  batch.dead.push_back({{topic_, 0, 3}, "", "not json", {event::Problem{"json.syntax", "bad"}}});
  auto result = store.WriteBatch(batch);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->staged, 2u);
  EXPECT_EQ(result->duplicates, 1u);
  EXPECT_EQ(result->dead_lettered, 1u);
  EXPECT_EQ(loaded_.transactions, 2);
  EXPECT_EQ(loaded_.lines, 2);

  EXPECT_EQ(Scalar("select count(*) from dw.fact_transaction"), "2");
  EXPECT_EQ(Scalar("select sum(total) from dw.fact_transaction"), "21.26");
  EXPECT_EQ(Scalar("select count(*) from dw.fact_sales_line"), "2");
  EXPECT_EQ(Scalar("select count(*) from ops.transaction_seen"), "2");
  EXPECT_EQ(Scalar("select count(*) from ops.duplicate_message"), "1");
  EXPECT_EQ(Scalar("select count(*) from ops.dead_letter"), "1");
  EXPECT_EQ(Scalar("select next_offset from ops.kafka_offsets where consumer_group = 'g'"), "4");
  EXPECT_EQ(Scalar("select count(*) from staging.pos_transaction"), "0") << "staging was used";
  EXPECT_EQ(Scalar("select count(*) from staging.pos_line"), "0");
  EXPECT_EQ(Scalar("select string_agg(pipeline || '=' || loaded_transactions, ',') "
                   "from ops.etl_watermark"),
            "one-hop:PointOfSale/0=2");
  EXPECT_EQ(Scalar("select sum(items) from dw.agg_daily_store_sales"), "4");
  ExpectCheckPasses();

  // The next batch of the partition: oh-1 again is a duplicate across batches too.
  Batch next = MakeBatch(4, 6);
  const event::Transaction third = MakeReceipt("oh-3");
  next.valid = {Valid(first, 4), Valid(third, 5)};
  result = store.WriteBatch(next);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->staged, 1u);
  EXPECT_EQ(result->duplicates, 1u);
  EXPECT_EQ(Scalar("select count(*) from dw.fact_transaction"), "3");
  ExpectCheckPasses();
}

TEST_F(OneHopTest, ZombieBatchIsFencedAndWritesNothing) {
  pipeline::OneHopStore owner = MakeStore();
  pipeline::OneHopStore zombie = MakeStore();
  const event::Transaction a = MakeReceipt("oh-a");
  const event::Transaction b = MakeReceipt("oh-b");
  Batch owner_batch = MakeBatch(staging::kNoOffset, 10);
  owner_batch.valid = {Valid(a, 9)};
  ASSERT_TRUE(owner.WriteBatch(owner_batch).ok());
  // The zombie still believes nothing is stored, then that an older offset is.
  Batch stale = MakeBatch(staging::kNoOffset, 5);
  stale.valid = {Valid(b, 4)};
  auto fenced = zombie.WriteBatch(stale);
  ASSERT_FALSE(fenced.ok());
  EXPECT_EQ(fenced.status().code(), Status::Code::kAborted) << fenced.status().ToString();
  Batch older = MakeBatch(4, 8);
  older.valid = {Valid(b, 7)};
  fenced = zombie.WriteBatch(older);
  ASSERT_FALSE(fenced.ok());
  EXPECT_EQ(fenced.status().code(), Status::Code::kAborted) << fenced.status().ToString();

  EXPECT_EQ(Scalar("select string_agg(transaction_id, ',') from dw.fact_transaction"), "oh-a");
  EXPECT_EQ(Scalar("select count(*) from ops.transaction_seen"), "1");
  EXPECT_EQ(Scalar("select next_offset from ops.kafka_offsets"), "10");
  ExpectCheckPasses();
}

// On-hand at the bottom of its integer range: one more unit sold overflows it (22003), a refusal
// of that receipt's content. It is quarantined in the batch's transaction; the others load, and
// the offsets move past all of them.
TEST_F(OneHopTest, ReceiptTheWarehouseRefusesIsQuarantinedAndTheRestOfTheBatchLoads) {
  ASSERT_TRUE(connection_
                  ->Execute("insert into inventory.recorded_movement (store_id, product_id, kind, "
                            "quantity_change, note) select store_id, product_id, 'adjustment', "
                            "change, 'test' from inventory.on_hand, "
                            "unnest(array[-quantity, -2147483647]) change "
                            "where store_id = 'S002' and product_id = 'P0002'; "
                            "update inventory.on_hand set quantity = -2147483647 "
                            "where store_id = 'S002' and product_id = 'P0002'")
                  .ok());
  std::vector<event::Transaction> receipts;
  for (int index = 0; index < 20; ++index) {
    receipts.push_back(MakeReceipt("oh-q" + std::to_string(index), index == 13 ? "S002" : "S001"));
  }
  Batch batch = MakeBatch(staging::kNoOffset, 20);
  for (std::size_t index = 0; index < receipts.size(); ++index) {
    batch.valid.push_back(Valid(receipts[index], static_cast<std::int64_t>(index)));
  }
  pipeline::OneHopStore store = MakeStore();
  auto result = store.WriteBatch(batch);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(loaded_.transactions, 19);
  EXPECT_EQ(loaded_.quarantined, 1);
  EXPECT_EQ(Scalar("select count(*) from dw.fact_transaction"), "19");
  EXPECT_EQ(Scalar("select stage || '|' || kafka_offset || '|' || reasons[1] || '|' || "
                   "(convert_from(payload, 'UTF8')::jsonb->'transaction'->>'transaction_id') "
                   "from ops.dead_letter"),
            "etl|13|etl.refused:22003|oh-q13");
  EXPECT_EQ(Scalar("select next_offset from ops.kafka_offsets"), "20");
  ExpectCheckPasses();
}

// Two stores (two consumers) on different partitions, each batch of both naming the same new
// store, product and payment type (inferred members) and a new month: they must neither deadlock
// nor fail, and every member exists once.
TEST_F(OneHopTest, ConcurrentStoresInferringTheSameNewMembersBothLoadEverything) {
  constexpr int kBatches = 12;
  constexpr int kPerBatch = 40;
  std::atomic<int> failures{0};
  std::vector<std::string> errors(2);
  auto consumer = [&](int partition) {
    pipeline::EtlStats loaded;
    pipeline::OneHopStore store(pg::OptionsFromConfig(config_), warehouse::LoadOptions{}, nullptr,
                                &loaded);
    std::int64_t next = staging::kNoOffset;
    for (int round = 0; round < kBatches; ++round) {
      std::vector<event::Transaction> receipts;
      for (int index = 0; index < kPerBatch; ++index) {
        event::Transaction receipt =
            MakeReceipt("oh-c" + std::to_string(partition) + "-" + std::to_string(round) + "-" +
                            std::to_string(index),
                        "NEW-STORE-" + std::to_string(round), "NEW-PRODUCT-" + std::to_string(round));
        receipt.payment_type = "New Pay " + std::to_string(round);
        const std::string month = (round < 9 ? "0" : "") + std::to_string(round + 1);
        receipt.transaction_time = *ParseDateTime("2025-" + month + "-10 12:00:00");
        receipts.push_back(std::move(receipt));
      }
      const std::int64_t first = next == staging::kNoOffset ? 0 : next;
      Batch batch = MakeBatch(next, first + kPerBatch, partition);
      for (int index = 0; index < kPerBatch; ++index) {
        batch.valid.push_back(Valid(receipts[static_cast<std::size_t>(index)], first + index,
                                    partition));
      }
      auto result = store.WriteBatch(batch);
      if (!result.ok()) {
        ++failures;
        errors[static_cast<std::size_t>(partition)] = result.status().ToString();
        return;
      }
      next = first + kPerBatch;
    }
  };
  std::thread zero(consumer, 0);
  std::thread one(consumer, 1);
  zero.join();
  one.join();
  EXPECT_EQ(failures.load(), 0) << errors[0] << " / " << errors[1];
  EXPECT_EQ(Scalar("select count(*) from dw.fact_transaction"),
                   std::to_string(2 * kBatches * kPerBatch));
  EXPECT_EQ(Scalar("select count(*) from dw.dim_store where store_id like 'NEW-STORE-%'"),
            std::to_string(kBatches));
  EXPECT_EQ(Scalar("select count(*) from dw.dim_product where product_id like 'NEW-PRODUCT-%'"),
            std::to_string(kBatches));
  EXPECT_EQ(Scalar("select count(*) from dw.dim_payment_type where name like 'New Pay %'"),
            std::to_string(kBatches));
  EXPECT_EQ(Scalar("select count(*) from ops.etl_watermark"), "2");
  ExpectCheckPasses();
}

// dw.fact_sales_line has no unique index any more (migration 010): `posflow check` must still see
// a line fact written twice, even when the receipt's line count and sums stay right.
TEST_F(OneHopTest, CheckFindsALineFactTwiceThoughNoIndexForbidsIt) {
  event::Transaction receipt = MakeReceipt("oh-twice");
  receipt.lines.push_back(receipt.lines.front());  // two equal lines, equal tax shares
  receipt.tax_cents = 64;
  receipt.subtotal_cents *= 2;
  receipt.total_cents = receipt.subtotal_cents + receipt.tax_cents;
  Batch batch = MakeBatch(staging::kNoOffset, 1);
  batch.valid = {Valid(receipt, 0)};
  pipeline::OneHopStore store = MakeStore();
  auto result = store.WriteBatch(batch);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ExpectCheckPasses();
  // Line 2 becomes a second line 1 (the lines are equal): counts and sums unchanged.
  EXPECT_EQ(Scalar("select string_agg(tax_share::text, ',') from dw.fact_sales_line"), "0.32,0.32");
  ASSERT_TRUE(connection_->Execute("update dw.fact_sales_line set line_number = 1 "
                                   "where line_number = 2").ok());
  EXPECT_EQ(Scalar("select count(*) from dw.fact_sales_line where line_number = 1"), "2");
  pipeline::CheckOptions options;
  options.query_kafka = false;
  auto report = pipeline::RunCheck(config_, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  bool facts_ok = true;
  for (const auto& item : report->items) {
    if (item.name == "facts") facts_ok = item.ok;
  }
  EXPECT_FALSE(facts_ok) << "check did not see the line fact written twice";
}

}  // namespace
}  // namespace posflow::testing
