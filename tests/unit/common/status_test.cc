#include "common/status.h"

#include <gtest/gtest.h>

#include <string>

namespace posflow {
namespace {

Status FailsWhen(bool fail) {
  if (fail) return Status::Unavailable("down");
  return Status::Ok();
}

Status Chain(bool fail) {
  POSFLOW_RETURN_IF_ERROR(FailsWhen(fail));
  return Status::InvalidArgument("reached the end");
}

TEST(Status, OkByDefault) {
  Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.ToString(), "OK");
}

TEST(Status, CarriesCodeAndMessage) {
  Status status = Status::NotFound("topic x");
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), Status::Code::kNotFound);
  EXPECT_EQ(status.ToString(), "not found: topic x");
  EXPECT_EQ(status.WithContext("init").message(), "init: topic x");
}

TEST(Status, ReturnIfErrorStopsAtFirstFailure) {
  EXPECT_EQ(Chain(true).code(), Status::Code::kUnavailable);
  EXPECT_EQ(Chain(false).code(), Status::Code::kInvalidArgument);
}

TEST(Result, HoldsValueOrStatus) {
  Result<std::string> value = std::string("v");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, "v");
  EXPECT_TRUE(value.status().ok());
  Result<std::string> failure = Status::Internal("bug");
  EXPECT_FALSE(failure.ok());
  EXPECT_EQ(failure.status().message(), "bug");
}

}  // namespace
}  // namespace posflow
