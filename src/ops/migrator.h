#pragma once

// Forward-only, versioned schema migrations, recorded in ops.schema_migrations.
//
// Each migration runs in its own transaction together with the row that records it, so a
// failure leaves the schema at the previous version. A session-level advisory lock makes two
// concurrent `posflow init` runs take turns. A migration already applied whose text has since
// changed (checksum differs) is an error: migrations are forward-only, write a new one.

#include <string>
#include <vector>

#include "common/status.h"
#include "ops/embedded_migrations.h"
#include "pg/connection.h"

namespace posflow::ops {

struct MigrationReport {
  // File names applied by this run, in order; empty when the schema was up to date.
  std::vector<std::string> applied;
  // The highest version recorded after the run (0: none).
  int schema_version = 0;
};

// Applies the migrations of `migrations` that `connection`'s database does not have yet.
// REQUIRES: file names "NNN_name.sql", sorted, versions unique.
// Failure: Corruption for a changed migration or a recorded version this binary does not know
// (the database is newer); the failing statement's error otherwise, naming the file.
Result<MigrationReport> ApplyMigrations(pg::Connection& connection,
                                        const std::vector<EmbeddedMigration>& migrations);

// The version number of "NNN_name.sql" (NNN), or -1 when the name does not have that shape.
int MigrationVersion(std::string_view file_name);

}  // namespace posflow::ops
