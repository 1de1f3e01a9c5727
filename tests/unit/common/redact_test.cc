#include "common/redact.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

TEST(RedactUrl, MasksKeywordStringPasswordWithSpacesAroundEquals) {
  EXPECT_EQ(RedactUrl("host=127.0.0.1 user=bob password = hunter2 dbname=x"),
            "host=127.0.0.1 user=bob password = **** dbname=x");
  EXPECT_EQ(RedactUrl("host=h password =hunter2"), "host=h password =****");
  EXPECT_EQ(RedactUrl("host=h password= hunter2 dbname=x"), "host=h password= **** dbname=x");
  EXPECT_EQ(RedactUrl("host=h\tpassword\t=\thunter2"), "host=h\tpassword\t=\t****");
}

TEST(RedactUrl, MasksQuotedKeywordPasswordWithEscapes) {
  EXPECT_EQ(RedactUrl("host=h password = 'it\\'s a b' dbname=x"),
            "host=h password = **** dbname=x");
  EXPECT_EQ(RedactUrl("password=a\\ b dbname=x"), "password=**** dbname=x");
}

TEST(RedactUrl, MasksSslPassword) {
  EXPECT_EQ(RedactUrl("host=h sslpassword=keypass sslkey=/k.pem"),
            "host=h sslpassword=**** sslkey=/k.pem");
  EXPECT_EQ(RedactUrl("postgresql://h/db?sslpassword=keypass&password=pw&sslmode=verify-full"),
            "postgresql://h/db?sslpassword=****&password=****&sslmode=verify-full");
}

TEST(RedactUrl, MasksEverythingAfterAMalformedPasswordKeyword) {
  EXPECT_EQ(RedactUrl("host=h password hunter2 dbname=x"), "host=h password ****");
  EXPECT_EQ(RedactUrl("host=h password='unterminated dbname=x"), "host=h password=****");
}

TEST(RedactUrl, LeavesOtherKeywordsAndNonConnectionTextAlone) {
  EXPECT_EQ(RedactUrl("host=h user=password dbname=x"), "host=h user=password dbname=x");
  EXPECT_EQ(RedactUrl("host=h mypassword=x"), "host=h mypassword=x");
  EXPECT_EQ(RedactUrl("postgres"), "postgres");
}

TEST(RedactUrl, MasksPasswordsWithReservedCharacters) {
  EXPECT_EQ(RedactUrl("postgresql://bob:s3cr%zzet@127.0.0.1:5432/x"),
            "postgresql://bob:****@127.0.0.1:5432/x");
  EXPECT_EQ(RedactUrl("postgresql://bob:%2F%3F%23@h/x"), "postgresql://bob:****@h/x");
  // Not encoded, as a hurried user types it: the password runs to the last '@'.
  EXPECT_EQ(RedactUrl("postgresql://bob:/?#@h/x"), "postgresql://bob:****@h/x");
  EXPECT_EQ(RedactUrl("postgresql://bob:pa/ss@h:5432/x"), "postgresql://bob:****@h:5432/x");
  // A port and an '@' later in the query is not a password.
  EXPECT_EQ(RedactUrl("postgresql://h:5432/x?application_name=a@b"),
            "postgresql://h:5432/x?application_name=a@b");
  EXPECT_EQ(RedactUrl("postgresql://[::1]:5432/x?application_name=a@b"),
            "postgresql://[::1]:5432/x?application_name=a@b");
}

TEST(RedactUrl, MasksAUrlThatIsNotAtTheStart) {
  EXPECT_EQ(RedactUrl(" postgresql://bob:hunter2@h/x"), " postgresql://bob:****@h/x");
  EXPECT_EQ(RedactUrl("oops postgresql://bob:hunter2@h/x"), "oops postgresql://bob:****@h/x");
  EXPECT_EQ(RedactUrl("mysql://u:hunter2@h/d"), "mysql://u:****@h/d");
}

TEST(RedactUrl, MasksMongoDbUriPassword) {
  EXPECT_EQ(RedactUrl("mongodb://app:p%40ss@127.0.0.1:27017/staging?authSource=admin"),
            "mongodb://app:****@127.0.0.1:27017/staging?authSource=admin");
}

TEST(ConnectionStringSecrets, GivesUrlPasswordsAsWrittenAndDecoded) {
  EXPECT_EQ(ConnectionStringSecrets("postgresql://bob:p%40ss@h/x"),
            (std::vector<std::string>{"p@ss", "p%40ss"}));
  EXPECT_EQ(ConnectionStringSecrets("postgresql://bob:hunter2@h/x?sslpassword=k%20p"),
            (std::vector<std::string>{"hunter2", "k p", "k%20p"}));
  EXPECT_EQ(ConnectionStringSecrets("mongodb://app:%2F%3F%23@h/db"),
            (std::vector<std::string>{"/?#", "%2F%3F%23"}));
}

TEST(ConnectionStringSecrets, GivesAnInvalidPercentEncodingOnlyAsWritten) {
  EXPECT_EQ(ConnectionStringSecrets("postgresql://bob:s3cr%zzet@h/x"),
            (std::vector<std::string>{"s3cr%zzet"}));
  EXPECT_EQ(ConnectionStringSecrets("postgresql://bob:%zz@h/x"),
            (std::vector<std::string>{"%zz"}));
}

TEST(ConnectionStringSecrets, GivesKeywordPasswordsUnquotedAndAsWritten) {
  EXPECT_EQ(ConnectionStringSecrets("host=h password = hunter2 dbname=x"),
            (std::vector<std::string>{"hunter2"}));
  EXPECT_EQ(ConnectionStringSecrets("host=h password='correct horse' sslpassword=k"),
            (std::vector<std::string>{"correct horse", "k"}));
  EXPECT_EQ(ConnectionStringSecrets("password='it\\'s'"),
            (std::vector<std::string>{"it's", "it\\'s"}));
  EXPECT_TRUE(ConnectionStringSecrets("host=h dbname=x").empty());
  EXPECT_TRUE(ConnectionStringSecrets("postgresql://h/x").empty());
}

TEST(IsSecretKafkaProperty, KnowsTheSaslAndSslSecrets) {
  for (const char* key : {"sasl.password", "sasl.oauthbearer.config", "ssl.key.password",
                          "ssl.keystore.password", "sasl.oauthbearer.client.secret",
                          "ssl.key.pem"}) {
    EXPECT_TRUE(IsSecretKafkaProperty(key)) << key;
  }
  for (const char* key : {"sasl.username", "sasl.mechanism", "ssl.ca.location"}) {
    EXPECT_FALSE(IsSecretKafkaProperty(key)) << key;
  }
}

TEST(RedactKafkaProperty, MasksSecrets) {
  EXPECT_EQ(RedactKafkaProperty("sasl.password", "x"), "****");
  EXPECT_EQ(RedactKafkaProperty("ssl.key.password", "x"), "****");
  EXPECT_EQ(RedactKafkaProperty("sasl.oauthbearer.client.secret", "x"), "****");
  EXPECT_EQ(RedactKafkaProperty("security.protocol", "SSL"), "SSL");
}

}  // namespace
}  // namespace posflow
