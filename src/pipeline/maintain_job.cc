#include "pipeline/maintain_job.h"

#include <spdlog/spdlog.h>

#include <functional>
#include <string>

#include "pg/advisory_lock.h"
#include "pg/connection.h"
#include "warehouse/reference_loader.h"

namespace posflow::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

// pg_advisory_lock key of `posflow maintain` (posflow's key + 4: migrations + 0, reference loads
// + 1, the ETL + 2, partition creation + 3).
constexpr const char* kMaintainLockKey = "31650110826786683";

// The schema version whose objects the steps use (005_maintenance_support.sql).
constexpr int kRequiredSchemaVersion = 5;

constexpr const char* kPartitionsSql = R"sql(
select dw.ensure_month_partitions(current_date,
                                  (current_date + make_interval(months => $1::integer))::date),
       to_char(current_date + make_interval(months => $1::integer), 'YYYY-MM')
)sql";

// Days after the calendar's last one (this month's first when it is empty) through the last day
// of the horizon's month; warehouse::InsertCalendarDays fills them as the reference load does.
constexpr const char* kCalendarGapSql = R"sql(
select coalesce(max(full_date) + 1, date_trunc('month', current_date)::date)::text,
       (date_trunc('month', current_date)
        + make_interval(months => $1::integer + 1) - interval '1 day')::date::text
from dw.dim_date
)sql";

constexpr const char* kCalendarEndSql =
    "select coalesce(to_char(max(full_date), 'YYYY-MM-DD'), '') from dw.dim_date";

constexpr const char* kPurgeKeptTransactionsSql =
    "delete from staging.pos_transaction_loaded where loaded_at < now() - $1::interval";
constexpr const char* kPurgeKeptLinesSql =
    "delete from staging.pos_line_loaded where loaded_at < now() - $1::interval";

constexpr const char* kPurgeDeadLettersSql = R"sql(
update ops.dead_letter
set purged_payload_bytes = octet_length(payload), payload = ''::bytea, message_key = null,
    payload_purged_at = now()
where payload_purged_at is null and first_seen_at < now() - make_interval(days => $1::integer)
)sql";

// Everything the ETL, ingest and the purges churn. A partitioned parent recurses into its
// partitions; ANALYZE of the parent itself is what autovacuum never does.
constexpr const char* kVacuumedTables[] = {
    "dw.fact_transaction",        "dw.fact_sales_line",         "dw.agg_daily_store_sales",
    "dw.agg_daily_product_sales", "dw.agg_hourly_store_sales",  "dw.agg_daily_payment_sales",
    "inventory.on_hand",          "inventory.recorded_movement", "staging.pos_transaction",
    "staging.pos_line",           "staging.pos_transaction_loaded", "staging.pos_line_loaded",
    "ops.dead_letter"};

class Maintenance {
 public:
  Maintenance(pg::Connection& connection, const MaintainOptions& options)
      : connection_(connection), options_(options) {}

  Status Run(MaintainReport* report) {
    if (options_.partitions) {
      POSFLOW_RETURN_IF_ERROR(Step("partitions", [&] { return Partitions(report); }));
    }
    if (options_.calendar) {
      POSFLOW_RETURN_IF_ERROR(Step("calendar", [&] { return Calendar(report); }));
    }
    if (options_.staging) {
      POSFLOW_RETURN_IF_ERROR(Step("staging", [&] { return PurgeStaging(report); }));
    }
    if (options_.dead_letters && options_.dead_letter_retention_days > 0) {
      POSFLOW_RETURN_IF_ERROR(Step("dead-letters", [&] { return PurgeDeadLetters(report); }));
    }
    if (options_.statistics) {
      // VACUUM cannot run inside a transaction: one statement on its own.
      std::string sql = "vacuum (analyze) ";
      std::int64_t tables = 0;
      for (const char* table : kVacuumedTables) {
        sql += std::string(tables++ == 0 ? "" : ", ") + table;
      }
      const auto started = Clock::now();
      Status status = connection_.Execute(sql);
      if (!status.ok()) return status.WithContext("maintain step statistics (vacuum analyze)");
      spdlog::info("maintain: statistics: {:.3f} s",
                   std::chrono::duration<double>(Clock::now() - started).count());
      report->tables_vacuumed = tables;
    }
    return Status::Ok();
  }

 private:
  // Runs `body` in one transaction: committed when it returns OK, rolled back otherwise.
  Status Step(const char* name, const std::function<Status()>& body) {
    const auto started = Clock::now();
    const std::string context = std::string("maintain step ") + name;
    Status status = connection_.Execute("begin");
    if (!status.ok()) return status.WithContext(context);
    status = body();
    if (status.ok()) status = connection_.Execute("commit");
    if (!status.ok()) {
      (void)connection_.Execute("rollback");
      return status.WithContext(context);
    }
    spdlog::info("maintain: {}: {:.3f} s", name,
                 std::chrono::duration<double>(Clock::now() - started).count());
    return Status::Ok();
  }

  Status Partitions(MaintainReport* report) {
    auto created = connection_.Query(kPartitionsSql, {std::to_string(options_.months_ahead)});
    if (!created.ok()) return created.status();
    auto count = created->GetInt64(0, 0);
    if (!count.ok()) return count.status();
    report->partitions_created = *count;
    report->partitions_through = created->Get(0, 1);
    return Status::Ok();
  }

  Status Calendar(MaintainReport* report) {
    auto gap = connection_.Query(kCalendarGapSql, {std::to_string(options_.months_ahead)});
    if (!gap.ok()) return gap.status();
    auto added = warehouse::InsertCalendarDays(connection_, std::string(gap->Get(0, 0)),
                                               std::string(gap->Get(0, 1)));
    if (!added.ok()) return added.status();
    auto ends = connection_.Query(kCalendarEndSql);
    if (!ends.ok()) return ends.status();
    report->calendar_days_added = *added;
    report->calendar_ends = ends->Get(0, 0);
    return Status::Ok();
  }

  Status PurgeStaging(MaintainReport* report) {
    const std::string retention = std::to_string(options_.staging_retention.count()) + " hours";
    auto transactions = connection_.Query(kPurgeKeptTransactionsSql, {retention});
    if (!transactions.ok()) return transactions.status();
    auto lines = connection_.Query(kPurgeKeptLinesSql, {retention});
    if (!lines.ok()) return lines.status();
    report->staging_transactions_purged = transactions->AffectedRows();
    report->staging_lines_purged = lines->AffectedRows();
    return Status::Ok();
  }

  Status PurgeDeadLetters(MaintainReport* report) {
    auto purged = connection_.Query(kPurgeDeadLettersSql,
                                    {std::to_string(options_.dead_letter_retention_days)});
    if (!purged.ok()) return purged.status();
    report->dead_letters_purged = purged->AffectedRows();
    return Status::Ok();
  }

  pg::Connection& connection_;
  const MaintainOptions& options_;
};

Status CheckSchemaVersion(pg::Connection& connection) {
  auto version = connection.Query(
      "select case when to_regclass('ops.schema_migrations') is null then -1 "
      "else (select coalesce(max(version), 0) from ops.schema_migrations) end");
  if (!version.ok()) return version.status().WithContext("reading the schema version");
  auto version_number = version->GetInt32(0, 0);
  if (!version_number.ok()) return version_number.status().WithContext("reading the schema version");
  const int found = *version_number;
  if (found < 0) {
    return Status::FailedPrecondition(
        "the database has no posflow schema; run 'posflow init' first");
  }
  if (found < kRequiredSchemaVersion) {
    return Status::FailedPrecondition(
        "the database's schema is at version " + std::to_string(found) + ", maintain needs " +
        std::to_string(kRequiredSchemaVersion) + "; run 'posflow init' to apply the migrations");
  }
  return Status::Ok();
}

Status AcquireMaintainLock(pg::Connection& connection) {
  return pg::TryAdvisoryLock(connection, kMaintainLockKey, "maintain", "maintenance lock");
}

}  // namespace

Result<MaintainReport> RunMaintain(const Config& config, const MaintainOptions& options) {
  if (options.months_ahead < 0 || options.months_ahead > 120) {
    return Status::InvalidArgument("maintain: --months-ahead must be 0..120");
  }
  if (options.staging_retention.count() < 0 || options.dead_letter_retention_days < 0) {
    return Status::InvalidArgument("maintain: a retention cannot be negative");
  }
  const auto started = Clock::now();
  pg::ConnectionOptions connection_options = pg::OptionsFromConfig(config);
  connection_options.application_name = "posflow maintain";
  // VACUUM ANALYZE of a large warehouse runs for longer than a pipeline statement may.
  connection_options.statement_timeout_ms = 0;
  auto connection = pg::Connection::Open(connection_options);
  if (!connection.ok()) return connection.status();
  POSFLOW_RETURN_IF_ERROR(CheckSchemaVersion(*connection));
  POSFLOW_RETURN_IF_ERROR(AcquireMaintainLock(*connection));
  MaintainReport report;
  Maintenance maintenance(*connection, options);
  Status status = maintenance.Run(&report);
  // Released explicitly: a closed session's lock outlives it until its backend has exited.
  (void)connection->Query(std::string("select pg_advisory_unlock(") + kMaintainLockKey + ")");
  if (!status.ok()) return status;
  report.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return report;
}

}  // namespace posflow::pipeline
