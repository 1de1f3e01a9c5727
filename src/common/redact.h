#pragma once

// Keeping credentials out of logs and error messages.

#include <string>
#include <string_view>

namespace posflow {

// Replaces the password of a connection URL (`scheme://user:secret@host/...`), of a libpq
// keyword string (`password=secret`) and of a `password=` query parameter with "****".
// Anything else is returned unchanged.
std::string RedactUrl(std::string_view url);

// True for librdkafka property names whose values are secrets (passwords, keys, JAAS config).
bool IsSecretKafkaProperty(std::string_view key);

// `value`, or "****" when `key` names a secret property.
std::string RedactKafkaProperty(std::string_view key, std::string_view value);

}  // namespace posflow
