#include "pg/conninfo_secrets.h"

#include <gtest/gtest.h>

#include "common/secrets.h"

namespace posflow::pg {
namespace {

// The registry is the process's: every value here is unique to its test.

TEST(RegisterConninfoSecrets, RegistersWhatLibpqReadsFromAUrl) {
  RegisterConninfoSecrets("postgresql://bob:p%40ss-ci1@127.0.0.1:5432/x?sslpassword=k%2Fci1");
  EXPECT_EQ(RedactSecrets("a p@ss-ci1 b p%40ss-ci1 c k/ci1 d k%2Fci1"),
            "a **** b **** c **** d ****");
}

TEST(RegisterConninfoSecrets, RegistersWhatLibpqReadsFromAKeywordString) {
  RegisterConninfoSecrets("host=127.0.0.1 user=bob password = hunter2-ci2 dbname=x");
  RegisterConninfoSecrets("host=h password='it\\'s a secret ci3' sslpassword = 'key ci3'");
  EXPECT_EQ(RedactSecrets("hunter2-ci2 / it's a secret ci3 / key ci3"), "**** / **** / ****");
  EXPECT_EQ(RedactSecrets("user=bob host=127.0.0.1"), "user=bob host=127.0.0.1");
}

TEST(RegisterConninfoSecrets, RegistersThePasswordLibpqCannotDecodeAsWritten) {
  // libpq refuses this URL and quotes the password in its error message.
  RegisterConninfoSecrets("postgresql://bob:s3cr%zzet-ci4@127.0.0.1:5432/x");
  EXPECT_EQ(RedactSecrets("invalid percent-encoded token: \"s3cr%zzet-ci4\""),
            "invalid percent-encoded token: \"****\"");
}

TEST(RegisterConninfoSecrets, IgnoresStringsWithoutPasswords) {
  const std::size_t before = ProcessSecrets().size();
  RegisterConninfoSecrets("postgresql://127.0.0.1:5432/posflow");
  RegisterConninfoSecrets("host=h dbname=x");
  RegisterConninfoSecrets("");
  EXPECT_EQ(ProcessSecrets().size(), before);
}

}  // namespace
}  // namespace posflow::pg
