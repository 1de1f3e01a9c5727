// `posflow maintain` (pipeline/maintain_job.h) and what a scheduler relies on: the coming months'
// partitions and calendar, the staging and dead-letter retentions (a purged dead letter keeps
// its row, so `check` still accounts for its offset), the maintenance lock, partition creation
// racing the ETL's, and the exit codes of `etl --once --skip-exit-code` and of a busy lock.

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "integration/child_process.h"
#include "integration/ingest_fixture.h"
#include "integration/stack_fixture.h"
#include "pg/connection.h"
#include "pipeline/check_job.h"
#include "pipeline/init_job.h"
#include "pipeline/maintain_job.h"
#include "warehouse/warehouse_loader.h"

namespace posflow::testing {
namespace {

// The maintenance lock's key (pipeline/maintain_job.cc).
constexpr const char* kMaintainLockKey = "31650110826786683";

pg::Connection Connect(const std::string& url) {
  pg::ConnectionOptions options;
  options.url = url;
  auto connection = pg::Connection::Open(options);
  EXPECT_TRUE(connection.ok()) << connection.status().ToString();
  return std::move(connection).value();
}

std::string Scalar(pg::Connection& connection, const std::string& sql) {
  auto rows = connection.Query(sql);
  EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().ToString();
  if (!rows.ok() || rows->rows() == 0) return "<no row>";
  return rows->IsNull(0, 0) ? "<null>" : std::string(rows->Get(0, 0));
}

std::int64_t Count(pg::Connection& connection, const std::string& sql) {
  return std::stoll(Scalar(connection, sql));
}

pipeline::MaintainOptions OnlySteps(bool partitions, bool calendar, bool staging,
                                    bool dead_letters, bool statistics) {
  pipeline::MaintainOptions options;
  options.partitions = partitions;
  options.calendar = calendar;
  options.staging = staging;
  options.dead_letters = dead_letters;
  options.statistics = statistics;
  return options;
}

class MaintainTest : public StackTest {
 protected:
  void SetUp() override {
    StackTest::SetUp();
    if (IsSkipped() || HasFailure()) return;
    auto report = pipeline::RunInit(config_, {.create_topics = false});
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    connection_.emplace(Connect(config_.db));
  }

  pg::Connection& db() { return *connection_; }

  pipeline::MaintainReport Maintain(const pipeline::MaintainOptions& options) {
    auto report = pipeline::RunMaintain(config_, options);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : pipeline::MaintainReport{};
  }

  std::optional<pg::Connection> connection_;
};

TEST_F(MaintainTest, CreatesTheComingMonthsPartitionsAndCalendarDaysAsInitDoes) {
  // Take away what init prepared from this month on: the calendar days (kept aside to compare)
  // and the partitions of this month and the next three.
  ASSERT_TRUE(db().Execute(R"sql(
    create table public.calendar_by_init as
      select * from dw.dim_date
      where full_date >= date_trunc('month', current_date)
        and full_date < date_trunc('month', current_date) + interval '4 months';
    delete from dw.dim_date where full_date >= date_trunc('month', current_date);
    do $$
    declare month_start date; fact text;
    begin
      for month_start in
        select generate_series(date_trunc('month', current_date),
                               date_trunc('month', current_date) + interval '3 months',
                               interval '1 month')::date
      loop
        foreach fact in array array['fact_transaction', 'fact_sales_line'] loop
          execute format('drop table dw.%I', fact || to_char(month_start, '"_y"YYYY"m"MM'));
        end loop;
      end loop;
    end $$;
  )sql").ok());

  const pipeline::MaintainReport report = Maintain(OnlySteps(true, true, false, false, false));
  EXPECT_EQ(report.partitions_created, 8);
  EXPECT_EQ(report.partitions_through,
            Scalar(db(), "select to_char(current_date + interval '3 months', 'YYYY-MM')"));
  EXPECT_EQ(report.calendar_days_added,
            Count(db(), "select count(*) from public.calendar_by_init"));
  EXPECT_EQ(report.calendar_ends,
            Scalar(db(), "select to_char(max(full_date), 'YYYY-MM-DD') "
                         "from public.calendar_by_init"));
  // Row for row what the reference load wrote.
  EXPECT_EQ(Count(db(), "select count(*) from (select * from public.calendar_by_init except "
                        "select * from dw.dim_date) missing"),
            0);
  EXPECT_EQ(Count(db(), "select count(*) from (select * from dw.dim_date where full_date >= "
                        "date_trunc('month', current_date) except select * from "
                        "public.calendar_by_init) extra"),
            0);
  EXPECT_EQ(Count(db(), "select count(*) from pg_inherits where inhparent = "
                        "'dw.fact_transaction'::regclass and inhrelid = to_regclass(format("
                        "'dw.fact_transaction_y%s', to_char(current_date + interval '3 months', "
                        "'YYYY\"m\"MM')))"),
            1);

  // A second run finds everything in place.
  const pipeline::MaintainReport again = Maintain(OnlySteps(true, true, false, false, false));
  EXPECT_EQ(again.partitions_created, 0);
  EXPECT_EQ(again.calendar_days_added, 0);
}

TEST_F(MaintainTest, PurgesKeptStagingRowsPastTheRetentionOnly) {
  ASSERT_TRUE(db().Execute(R"sql(
    insert into staging.pos_transaction_loaded (transaction_id, transaction_time, store_id,
      line_count, subtotal, tax, total, payment_type, source_shape, topic, kafka_partition,
      kafka_offset, loaded_at)
    values ('old-1', '2026-01-01 10:00', 'S001', 2, 2, 0, 2, 'Cash', 'seed', 'T', 0, 0,
            now() - interval '200 hours'),
           ('old-2', '2026-01-01 10:00', 'S001', 1, 1, 0, 1, 'Cash', 'seed', 'T', 0, 1,
            now() - interval '169 hours'),
           ('new-1', '2026-01-01 10:00', 'S001', 1, 1, 0, 1, 'Cash', 'seed', 'T', 0, 2,
            now() - interval '1 hour');
    insert into staging.pos_line_loaded (transaction_id, line_number, item, unit_price, quantity,
      line_total, loaded_at)
    values ('old-1', 1, 'Tea', 1, 1, 1, now() - interval '200 hours'),
           ('old-1', 2, 'Tea', 1, 1, 1, now() - interval '200 hours'),
           ('old-2', 1, 'Tea', 1, 1, 1, now() - interval '169 hours'),
           ('new-1', 1, 'Tea', 1, 1, 1, now() - interval '1 hour');
  )sql").ok());

  pipeline::MaintainOptions options = OnlySteps(false, false, true, false, false);
  const pipeline::MaintainReport report = Maintain(options);  // default: 168 h
  EXPECT_EQ(report.staging_transactions_purged, 2);
  EXPECT_EQ(report.staging_lines_purged, 3);
  EXPECT_EQ(
      Scalar(db(), "select string_agg(transaction_id, ',') from staging.pos_transaction_loaded"),
      "new-1");
  EXPECT_EQ(Count(db(), "select count(*) from staging.pos_line_loaded"), 1);

  options.staging_retention = std::chrono::hours(0);
  EXPECT_EQ(Maintain(options).staging_transactions_purged, 1);
  EXPECT_EQ(Count(db(), "select count(*) from staging.pos_line_loaded"), 0);
}

TEST_F(MaintainTest, SecondMaintainIsRefusedWhileTheFirstHoldsTheLockAndExitsFour) {
  ASSERT_EQ(Scalar(db(), std::string("select pg_try_advisory_lock(") + kMaintainLockKey + ")"),
            "t");
  auto second = pipeline::RunMaintain(config_, {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kAlreadyExists);
  EXPECT_NE(second.status().message().find("another maintain is already running"),
            std::string::npos)
      << second.status().message();

  const ShellResult cli = RunPosflowShell("maintain --db " + config_.db);
  EXPECT_EQ(cli.exit_code, 4) << cli.output;
  EXPECT_NE(cli.output.find("posflow maintain: error: another maintain"), std::string::npos)
      << cli.output;
}

TEST_F(MaintainTest, RefusesADatabaseWhoseSchemaPredatesTheMaintenanceMigration) {
  ASSERT_TRUE(db().Execute("delete from ops.schema_migrations where version >= 5").ok());
  auto report = pipeline::RunMaintain(config_, {});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(report.status().message().find("posflow init"), std::string::npos)
      << report.status().message();
}

TEST_F(MaintainTest, StatisticsStepAnalyzesThePartitionedFacts) {
  EXPECT_EQ(Maintain(OnlySteps(false, false, false, false, true)).tables_vacuumed, 13);
  // ANALYZE of a partitioned parent is what autovacuum never does.
  EXPECT_EQ(Scalar(db(), "select count(*) > 0 from pg_stat_user_tables where relid = "
                         "'dw.fact_transaction_default'::regclass and last_vacuum is not null"),
            "t");
}

TEST_F(MaintainTest, ConcurrentPartitionCreationDoesNotFailTheSecondCaller) {
  // init prepares 2020..2030; 2031-01 is missing. The first caller creates it and holds its
  // transaction open; the second must wait and then find it, not fail on a duplicate.
  pg::Connection first = Connect(config_.db);
  ASSERT_TRUE(first.Execute("begin").ok());
  EXPECT_EQ(Scalar(first, "select dw.ensure_month_partitions('2031-01-01', '2031-01-01')"), "2");
  auto second = std::async(std::launch::async, [&] {
    pg::Connection connection = Connect(config_.db);
    auto created =
        connection.Query("select dw.ensure_month_partitions('2031-01-01', '2031-02-01')");
    return created.ok() ? std::string(created->Get(0, 0)) : created.status().ToString();
  });
  EXPECT_EQ(second.wait_for(std::chrono::milliseconds(500)), std::future_status::timeout)
      << "the second caller did not wait for the first";
  ASSERT_TRUE(first.Execute("commit").ok());
  EXPECT_EQ(second.get(), "2");  // 2031-02 only
  EXPECT_EQ(Count(db(), "select count(*) from pg_class where relname like 'fact_%_y2031m0_'"), 4);
}

// Dead letters through the real ingest, so that `check` can account for their offsets.
class MaintainDeadLetterTest : public IngestTest {};

TEST_F(MaintainDeadLetterTest, ErasesOldPayloadsKeepsTheRowsAndCheckStillAgrees) {
  Produce({"--count", "400", "--seed", "71", "--bad-ratio", "0.1", "--bad-kinds", "json.syntax"});
  ASSERT_EQ(IngestUntilIdle(), 0);
  pg::Connection db = Connect(config_.db);
  const std::int64_t letters = Count(db, "select count(*) from ops.dead_letter");
  ASSERT_GT(letters, 2);
  // All but the newest one were first seen 100 days ago.
  ASSERT_TRUE(db.Execute("update ops.dead_letter set first_seen_at = now() - interval '100 days' "
                         "where dead_letter_id < (select max(dead_letter_id) from ops.dead_letter)")
                  .ok());
  const std::string old_id = Scalar(db, "select min(dead_letter_id) from ops.dead_letter");
  const std::int64_t old_bytes =
      Count(db, "select octet_length(payload) from ops.dead_letter where dead_letter_id = " +
                    old_id);

  pipeline::MaintainOptions options;
  options.dead_letter_retention_days = 0;  // keeps them forever
  auto kept = pipeline::RunMaintain(config_, options);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_FALSE(kept->dead_letters_purged.has_value());
  EXPECT_EQ(
      Count(db, "select count(*) from ops.dead_letter where payload_purged_at is not null"), 0);

  options.dead_letter_retention_days = 90;
  auto purged = pipeline::RunMaintain(config_, options);
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  EXPECT_EQ(purged->dead_letters_purged, letters - 1);
  EXPECT_EQ(Count(db, "select count(*) from ops.dead_letter"), letters);
  EXPECT_EQ(Scalar(db, "select format('%s|%s|%s|%s', octet_length(payload), message_key is null, "
                       "payload_purged_at is not null, purged_payload_bytes) from ops.dead_letter "
                       "where dead_letter_id = " + old_id),
            "0|t|t|" + std::to_string(old_bytes));
  EXPECT_EQ(Count(db, "select count(*) from ops.dead_letter where payload_purged_at is null and "
                      "octet_length(payload) > 0"),
            1);

  // check still accounts for every offset, the purged letters' included.
  pipeline::CheckOptions check;
  check.query_kafka = false;
  auto report = pipeline::RunCheck(config_, check);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  for (const auto& item : report->items) EXPECT_TRUE(item.ok) << item.name << ": " << item.detail;

  // The quarantine tools say the bytes are gone.
  std::string output;
  EXPECT_EQ(RunToCompletion(POSFLOW_BINARY, {"dlq", "show", old_id, "--db", config_.db},
                            std::chrono::minutes(1), &output),
            0);
  EXPECT_NE(output.find("the raw bytes are gone"), std::string::npos) << output;
  EXPECT_EQ(RunToCompletion(POSFLOW_BINARY, {"dlq", "show", "--raw", old_id, "--db", config_.db},
                            std::chrono::minutes(1), &output),
            1);
  EXPECT_NE(output.find("purged at"), std::string::npos) << output;
  EXPECT_EQ(RunToCompletion(POSFLOW_BINARY, {"dlq", "replay", old_id, "--db", config_.db},
                            std::chrono::minutes(1), &output),
            1);
  EXPECT_NE(output.find("was purged at"), std::string::npos) << output;
  EXPECT_NE(output.find("--payload-file"), std::string::npos) << output;
  // --all leaves the purged letters out: only the newest one is tried (and is still invalid).
  EXPECT_EQ(RunToCompletion(POSFLOW_BINARY, {"dlq", "replay", "--all", "--db", config_.db},
                            std::chrono::minutes(1), &output),
            1);
  EXPECT_NE(output.find("0 staged, 0 duplicates, 1 still invalid"), std::string::npos) << output;
}

// The exit codes a scheduler maps to "skipped" and "busy".
class SchedulerExitCodeTest : public MaintainTest {};

TEST_F(SchedulerExitCodeTest, EtlOnceWithSkipExitCodeExitsWithItWhenStagingIsEmpty) {
  const ShellResult empty = RunPosflowShell("etl --once --skip-exit-code 99 --db " + config_.db);
  EXPECT_EQ(empty.exit_code, 99) << empty.output;
  EXPECT_NE(empty.output.find("etl: nothing to load"), std::string::npos) << empty.output;
  // Without the flag, nothing to do is still a success.
  EXPECT_EQ(RunPosflowShell("etl --once --db " + config_.db).exit_code, 0);
}

TEST_F(SchedulerExitCodeTest, SkipExitCodeIsRefusedWithFollowAndOutOfRange) {
  EXPECT_EQ(RunPosflowShell("etl --follow --skip-exit-code 99 --db " + config_.db).exit_code, 2);
  EXPECT_EQ(RunPosflowShell("etl --once --skip-exit-code 1 --db " + config_.db).exit_code, 2);
}

TEST_F(SchedulerExitCodeTest, EtlExitsFourWhileAnotherEtlHoldsTheLock) {
  ASSERT_TRUE(warehouse::AcquireEtlLock(db()).ok());
  const ShellResult busy = RunPosflowShell("etl --once --skip-exit-code 99 --db " + config_.db);
  EXPECT_EQ(busy.exit_code, 4) << busy.output;
  EXPECT_NE(busy.output.find("posflow etl: error: another ETL is already running"),
            std::string::npos)
      << busy.output;
}

}  // namespace
}  // namespace posflow::testing
