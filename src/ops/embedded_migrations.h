#pragma once

// The SQL migrations of sql/migrations/, compiled into the binary by
// cmake/EmbedMigrations.cmake, sorted by file name (and so by version).

#include <string_view>
#include <vector>

namespace posflow::ops {

struct EmbeddedMigration {
  std::string_view file_name;  // "001_create_schemas.sql"
  std::string_view sql;
};

const std::vector<EmbeddedMigration>& EmbeddedMigrations();

}  // namespace posflow::ops
