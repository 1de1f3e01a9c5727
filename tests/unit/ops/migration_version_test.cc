#include <gtest/gtest.h>

#include <set>

#include "ops/embedded_migrations.h"
#include "ops/migrator.h"

namespace posflow::ops {
namespace {

TEST(MigrationVersion, ParsesThreeDigitPrefix) {
  EXPECT_EQ(MigrationVersion("001_create_schemas.sql"), 1);
  EXPECT_EQ(MigrationVersion("120_add_x.sql"), 120);
}

TEST(MigrationVersion, RejectsOtherShapes) {
  EXPECT_EQ(MigrationVersion("1_create.sql"), -1);
  EXPECT_EQ(MigrationVersion("abc_create.sql"), -1);
  EXPECT_EQ(MigrationVersion("0010create.sql"), -1);
}

TEST(EmbeddedMigrations, AreNumberedOnceAndInOrder) {
  const auto& migrations = EmbeddedMigrations();
  ASSERT_FALSE(migrations.empty());
  int previous = 0;
  for (const EmbeddedMigration& migration : migrations) {
    const int version = MigrationVersion(migration.file_name);
    EXPECT_GT(version, previous) << migration.file_name;
    EXPECT_FALSE(migration.sql.empty()) << migration.file_name;
    previous = version;
  }
  EXPECT_EQ(MigrationVersion(migrations.front().file_name), 1);
}

}  // namespace
}  // namespace posflow::ops
