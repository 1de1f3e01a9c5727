#include <gtest/gtest.h>

#include "integration/stack_fixture.h"
#include "pg/connection.h"

namespace posflow::testing {
namespace {

class PgConnectionTest : public StackTest {};

// Result cells are read through typed getters: a cell that is not what the caller expects is a
// Status naming the column and the text, never an exception.
TEST_F(PgConnectionTest, TypedGettersReadCellsAndRefuseWhatIsNotTheirType) {
  auto connection = pg::Connection::Open(pg::OptionsFromConfig(config_));
  ASSERT_TRUE(connection.ok()) << connection.status().ToString();
  auto rows = connection->Query(
      "select 9223372036854775807::bigint as big, 2147483648::bigint as past_int32, "
      "-7 as small, 0.25::float8 as quarter, 'x7' as word, null::bigint as nothing, "
      "'1e400' as huge");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();

  EXPECT_EQ(rows->GetInt64(0, 0).value(), INT64_MAX);
  EXPECT_EQ(rows->GetInt64(0, 1).value(), 2147483648LL);
  EXPECT_EQ(rows->GetInt32(0, 2).value(), -7);
  EXPECT_EQ(rows->GetDouble(0, 3).value(), 0.25);
  EXPECT_EQ(rows->GetDouble(0, 2).value(), -7.0);

  auto past = rows->GetInt32(0, 1);
  ASSERT_FALSE(past.ok());
  EXPECT_NE(past.status().message().find("past_int32"), std::string::npos) << past.status().message();
  auto word = rows->GetInt64(0, 4);
  ASSERT_FALSE(word.ok());
  EXPECT_NE(word.status().message().find("'x7'"), std::string::npos) << word.status().message();
  EXPECT_FALSE(rows->GetInt64(0, 5).ok()) << "NULL is not a number";
  EXPECT_FALSE(rows->GetDouble(0, 5).ok()) << "NULL is not a number";
  EXPECT_FALSE(rows->GetDouble(0, 4).ok());
  EXPECT_FALSE(rows->GetDouble(0, 6).ok()) << "out of range";

  auto affected = connection->Query("select 1 from generate_series(1, 3)");
  ASSERT_TRUE(affected.ok());
  EXPECT_EQ(affected->AffectedRows(), 3);
}

}  // namespace
}  // namespace posflow::testing
