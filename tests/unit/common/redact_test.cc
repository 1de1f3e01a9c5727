#include "common/redact.h"

#include <gtest/gtest.h>

namespace posflow {
namespace {

TEST(RedactUrl, MasksPasswordInUserInfo) {
  EXPECT_EQ(RedactUrl("postgresql://app:hunter2@db.example:5432/pos"),
            "postgresql://app:****@db.example:5432/pos");
}

TEST(RedactUrl, MasksPasswordContainingAt) {
  EXPECT_EQ(RedactUrl("mongodb://app:p@ss@host/db"), "mongodb://app:****@host/db");
}

TEST(RedactUrl, MasksPasswordQueryParameter) {
  EXPECT_EQ(RedactUrl("postgresql://host/db?user=a&password=x1&sslmode=require"),
            "postgresql://host/db?user=a&password=****&sslmode=require");
}

TEST(RedactUrl, MasksKeywordStringPassword) {
  EXPECT_EQ(RedactUrl("host=db user=a password=x1 dbname=pos"),
            "host=db user=a password=**** dbname=pos");
  EXPECT_EQ(RedactUrl("host=db password='a b' dbname=pos"), "host=db password=**** dbname=pos");
}

TEST(RedactUrl, LeavesUrlWithoutPasswordAlone) {
  EXPECT_EQ(RedactUrl("postgresql://127.0.0.1:5432/posflow"), "postgresql://127.0.0.1:5432/posflow");
  EXPECT_EQ(RedactUrl("postgresql://app@host/db"), "postgresql://app@host/db");
}

TEST(RedactKafkaProperty, MasksSecrets) {
  EXPECT_EQ(RedactKafkaProperty("sasl.password", "x"), "****");
  EXPECT_EQ(RedactKafkaProperty("ssl.key.password", "x"), "****");
  EXPECT_EQ(RedactKafkaProperty("sasl.oauthbearer.client.secret", "x"), "****");
  EXPECT_EQ(RedactKafkaProperty("security.protocol", "SSL"), "SSL");
}

}  // namespace
}  // namespace posflow
