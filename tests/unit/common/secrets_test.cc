#include "common/secrets.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace posflow {
namespace {

TEST(SecretForms, AreTheValueItsPercentEncodingsAndItsJsonEscapingLongestFirst) {
  EXPECT_EQ(SecretForms("p@ss"), (std::vector<std::string>{"p%40ss", "p@ss"}));
  EXPECT_EQ(SecretForms("/?#"),
            (std::vector<std::string>{"%2F%3F%23", "%2f%3f%23", "/?#"}));
  EXPECT_EQ(SecretForms("hunter2"), (std::vector<std::string>{"hunter2"}));
  EXPECT_EQ(SecretForms("a\"b"), (std::vector<std::string>{"a%22b", "a\\\"b", "a\"b"}));
  EXPECT_TRUE(SecretForms("").empty());
}

TEST(SecretRegistry, MasksEveryOccurrenceOfAValue) {
  SecretRegistry secrets;
  secrets.Register("hunter2");
  EXPECT_EQ(secrets.Redact("password hunter2 refused; retry with hunter2"),
            "password **** refused; retry with ****");
  EXPECT_EQ(secrets.Redact("nothing secret here"), "nothing secret here");
}

TEST(SecretRegistry, RedactsNothingWhileEmpty) {
  SecretRegistry secrets;
  EXPECT_EQ(secrets.size(), 0u);
  EXPECT_EQ(secrets.Redact("p@ss %zz hunter2"), "p@ss %zz hunter2");
  secrets.Register("");
  EXPECT_EQ(secrets.size(), 0u);
}

TEST(SecretRegistry, MasksThePercentEncodedFormsAsInAUrl) {
  SecretRegistry secrets;
  secrets.Register("p@ss");
  EXPECT_EQ(secrets.Redact("postgresql://bob:p%40ss@db/x and postgresql://bob:p%40ss@db/x"),
            "postgresql://bob:****@db/x and postgresql://bob:****@db/x");
  EXPECT_EQ(secrets.Redact("password \"p@ss\""), "password \"****\"");
  secrets.Register("/?#");
  EXPECT_EQ(secrets.Redact("u:%2F%3F%23@h u:%2f%3f%23@h '/?#'"), "u:****@h u:****@h '****'");
}

TEST(SecretRegistry, MasksAnInvalidPercentEncodingAsLibpqQuotesIt) {
  SecretRegistry secrets;
  secrets.Register("s3cr%zzet");
  EXPECT_EQ(secrets.Redact("invalid percent-encoded token: \"s3cr%zzet\""),
            "invalid percent-encoded token: \"****\"");
}

TEST(SecretRegistry, MasksAPasswordWithSpaces) {
  SecretRegistry secrets;
  secrets.Register("correct horse battery");
  EXPECT_EQ(secrets.Redact("password 'correct horse battery' rejected"),
            "password '****' rejected");
  // In a URL the spaces are %20.
  EXPECT_EQ(secrets.Redact("postgresql://u:correct%20horse%20battery@h/x"),
            "postgresql://u:****@h/x");
}

TEST(SecretRegistry, PrefersTheLongestFormWhereTheyOverlap) {
  SecretRegistry secrets;
  secrets.Register("%zz");
  secrets.Register("s3cr%zzet");
  EXPECT_EQ(secrets.Redact("\"s3cr%zzet\" \"%zz\""), "\"****\" \"****\"");
}

TEST(SecretRegistry, MasksShortSecretsOnlyWhereTheyStandAlone) {
  SecretRegistry secrets;
  secrets.Register("%zz");  // 3 bytes: below kMinSecretBytesMaskedAnywhere
  EXPECT_EQ(secrets.Redact("token: \"%zz\""), "token: \"****\"");
  EXPECT_EQ(secrets.Redact("%zz"), "****");
  EXPECT_EQ(secrets.Redact("a%zzb"), "a%zzb");  // inside a word: left alone
  secrets.Register("a");
  EXPECT_EQ(secrets.Redact("password a is wrong for alice at a.b"),
            "password **** is wrong for alice at ****.b");
}

TEST(SecretRegistry, MasksLongSecretsInsideWordsToo) {
  SecretRegistry secrets;
  secrets.Register("hunter2");
  EXPECT_EQ(secrets.Redact("xhunter22"), "x****2");
}

TEST(SecretRegistry, RegisteringTwiceAddsNothing) {
  SecretRegistry secrets;
  secrets.Register("p@ss");
  const std::size_t forms = secrets.size();
  secrets.Register("p@ss");
  EXPECT_EQ(secrets.size(), forms);
}

TEST(SecretRegistry, RedactsWhileAnotherThreadRegisters) {
  SecretRegistry secrets;
  secrets.Register("first-secret");
  std::thread registering([&secrets] {
    for (int index = 0; index < 200; ++index) secrets.Register("secret-" + std::to_string(index));
  });
  for (int index = 0; index < 200; ++index) {
    EXPECT_EQ(secrets.Redact("a first-secret b"), "a **** b");
  }
  registering.join();
  EXPECT_EQ(secrets.Redact("secret-199"), "****");
}

TEST(ProcessSecrets, RegisterSecretFeedsRedactSecrets) {
  RegisterSecret("process-wide-Secret-7f3a");
  EXPECT_EQ(RedactSecrets("x process-wide-Secret-7f3a y"), "x **** y");
  EXPECT_EQ(&ProcessSecrets(), &ProcessSecrets());
}

}  // namespace
}  // namespace posflow
