#pragma once

// Keeping credentials out of logs and error messages, by position: the password field of a
// connection string we print ourselves. Masking the same values anywhere else, by value, is
// common/secrets.h; these functions also tell it which values to register.

#include <string>
#include <string_view>
#include <vector>

namespace posflow {

// `url` with every password it carries replaced by "****":
//   - a URL (`scheme://user:secret@host/...`, also when the password holds raw '/', '?', '#'
//     or '@'), and its `password=` and `sslpassword=` query parameters;
//   - a libpq keyword string (`host=h password=secret`, with or without spaces around '=',
//     quoted values `password='a b'` included, libpq's backslash escapes honoured). Where the
//     string is malformed at a password keyword (no '=', an unterminated quote), everything
//     after that keyword is masked.
// Anything else is returned unchanged. Position only: for text that merely contains a secret,
// use RedactSecrets (common/secrets.h).
std::string RedactUrl(std::string_view url);

// The secret values `url` carries, as RedactUrl finds them: each both as written and, where it
// differs, decoded (percent-decoding in a URL, quotes and backslash escapes removed in a
// keyword string); a value whose percent-encoding is invalid ("s3cr%zzet") only as written.
// For registering with the secret registry; libpq's own parser (pg/conninfo_secrets.h) adds
// what it reads when the string is a PostgreSQL one.
std::vector<std::string> ConnectionStringSecrets(std::string_view url);

// True for librdkafka property names whose values are secrets: names containing "password",
// "secret", "jaas", "key.pem", "token", and sasl.oauthbearer.config.
bool IsSecretKafkaProperty(std::string_view key);

// `value`, or "****" when `key` names a secret property.
std::string RedactKafkaProperty(std::string_view key, std::string_view value);

}  // namespace posflow
