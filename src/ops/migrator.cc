#include "ops/migrator.h"

#include <spdlog/spdlog.h>

#include <map>
#include <string>

namespace posflow::ops {
namespace {

// pg_advisory_lock key shared by every posflow process that migrates (0x706f73666c6f77, "posflow" in ASCII).
constexpr const char* kLockSql = "select pg_advisory_lock(31650110826786679)";
constexpr const char* kUnlockSql = "select pg_advisory_unlock(31650110826786679)";

constexpr const char* kCreateLedgerSql = R"sql(
create schema if not exists ops;
comment on schema ops is 'Operational state of posflow: migrations, Kafka offsets, watermarks, dead letters.';
create table ops.schema_migrations (
  version    integer primary key,
  name       text not null,
  checksum   text not null,
  applied_at timestamptz not null default now(),
  applied_by text not null default current_user
);
comment on table ops.schema_migrations is 'One row per applied sql/migrations/NNN_name.sql file.';
comment on column ops.schema_migrations.version is 'NNN of the file name.';
comment on column ops.schema_migrations.checksum is 'Hex SHA-256 of the file as applied; a later change to the file is refused.';
)sql";

struct AppliedMigration {
  std::string name;
  std::string checksum;
};

Result<std::string> Checksum(pg::Connection& connection, std::string_view sql) {
  auto result = connection.Query("select encode(sha256(convert_to($1, 'UTF8')), 'hex')",
                                 {std::string(sql)});
  if (!result.ok()) return result.status();
  return std::string(result->Get(0, 0));
}

Status EnsureLedger(pg::Connection& connection) {
  auto exists = connection.Query("select to_regclass('ops.schema_migrations') is not null");
  if (!exists.ok()) return exists.status();
  if (exists->Get(0, 0) == "t") return Status::Ok();
  return connection.Execute(std::string("begin;") + kCreateLedgerSql + "commit;");
}

Result<std::map<int, AppliedMigration>> ReadLedger(pg::Connection& connection) {
  auto rows = connection.Query("select version, name, checksum from ops.schema_migrations");
  if (!rows.ok()) return rows.status();
  std::map<int, AppliedMigration> applied;
  for (int row = 0; row < rows->rows(); ++row) {
    auto version = rows->GetInt32(row, 0);
    if (!version.ok()) return version.status().WithContext("reading ops.schema_migrations");
    applied[*version] =
        AppliedMigration{std::string(rows->Get(row, 1)), std::string(rows->Get(row, 2))};
  }
  return applied;
}

Result<MigrationReport> ApplyLocked(pg::Connection& connection,
                                    const std::vector<EmbeddedMigration>& migrations) {
  POSFLOW_RETURN_IF_ERROR(EnsureLedger(connection));
  auto applied = ReadLedger(connection);
  if (!applied.ok()) return applied.status();

  MigrationReport report;
  std::map<int, std::string> known;
  for (const EmbeddedMigration& migration : migrations) {
    known[MigrationVersion(migration.file_name)] = std::string(migration.file_name);
  }
  for (const auto& [version, record] : *applied) {
    if (known.count(version) == 0) {
      return Status::Corruption("the database has migration " + record.name +
                                " which this posflow does not know: it is older than the "
                                "database; use a newer posflow");
    }
    report.schema_version = std::max(report.schema_version, version);
  }

  for (const EmbeddedMigration& migration : migrations) {
    const int version = MigrationVersion(migration.file_name);
    auto checksum = Checksum(connection, migration.sql);
    if (!checksum.ok()) return checksum.status();
    auto record = applied->find(version);
    if (record != applied->end()) {
      if (record->second.checksum != *checksum) {
        return Status::Corruption("migration " + std::string(migration.file_name) +
                                  " was changed after it was applied (checksum differs); "
                                  "migrations are forward-only: restore it and add a new one");
      }
      continue;
    }
    if (version < report.schema_version) {
      return Status::Corruption("migration " + std::string(migration.file_name) +
                                " is older than the schema's version " +
                                std::to_string(report.schema_version) +
                                " but was never applied; renumber it after the newest");
    }
    Status status = connection.Execute("begin");
    if (status.ok()) status = connection.Execute(migration.sql);
    if (status.ok()) {
      auto inserted = connection.Query(
          "insert into ops.schema_migrations (version, name, checksum) values ($1, $2, $3)",
          {std::to_string(version), std::string(migration.file_name), *checksum});
      status = inserted.status();
    }
    if (status.ok()) status = connection.Execute("commit");
    if (!status.ok()) {
      (void)connection.Execute("rollback");
      return status.WithContext("applying migration " + std::string(migration.file_name));
    }
    spdlog::info("applied migration {}", migration.file_name);
    report.applied.emplace_back(migration.file_name);
    report.schema_version = version;
  }
  return report;
}

}  // namespace

int MigrationVersion(std::string_view file_name) {
  if (file_name.size() < 5 || file_name[3] != '_') return -1;
  int version = 0;
  for (size_t i = 0; i < 3; ++i) {
    if (file_name[i] < '0' || file_name[i] > '9') return -1;
    version = version * 10 + (file_name[i] - '0');
  }
  return version;
}

Result<MigrationReport> ApplyMigrations(pg::Connection& connection,
                                        const std::vector<EmbeddedMigration>& migrations) {
  int previous = 0;
  for (const EmbeddedMigration& migration : migrations) {
    const int version = MigrationVersion(migration.file_name);
    if (version <= previous) {
      return Status::Internal("migrations out of order or badly named at " +
                              std::string(migration.file_name));
    }
    previous = version;
  }
  POSFLOW_RETURN_IF_ERROR(connection.Execute(kLockSql));
  auto report = ApplyLocked(connection, migrations);
  (void)connection.Execute(kUnlockSql);
  return report;
}

}  // namespace posflow::ops
