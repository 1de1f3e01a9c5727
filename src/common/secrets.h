#pragma once

// Secrets masked by value. Every password or key posflow is given (a database URL's password,
// PGPASSWORD, the seed's PG_PASSWORD, Kafka's secret properties, a MongoDB URI's password) is
// registered once, when the configuration is loaded or a connection string reaches its
// library; from then on RedactSecrets replaces each registered value by "****" wherever it
// appears. Position-based masking (common/redact.h) hides the password of a URL we print
// ourselves; this catches the same value anywhere else, above all in text that libpq,
// librdkafka or libmongoc wrote (libpq quotes a badly percent-encoded password in its error).
//
// Which occurrences are masked: a registered form of kMinSecretBytesMaskedAnywhere bytes or
// more is masked wherever it occurs, also inside a longer word ("hunter22" -> "****2"). A
// shorter one (a 1 to 3 byte password) is masked only where it stands alone: neither the byte
// before nor the byte after it is a letter, digit, '_' or part of a multi-byte UTF-8
// character. So a password "a" is masked in `password "a" is wrong` but does not turn every
// "a" of every log line into "****"; such a password is weak anyway and the URL and conninfo
// forms we print are masked by position regardless of length.
//
// Forms registered for a secret: the value itself, its percent-encoding (every byte outside
// RFC 3986's unreserved set as %XX, upper- and lower-case hex: how it appears inside a URL),
// and its JSON string escaping (when it holds '"' or '\'). Matching is byte-exact; where forms
// overlap, the longest is masked.
//
// Thread-safety: every function may be called from any thread; registering takes a write
// lock, redacting a read lock (no lock at all while nothing is registered).

#include <atomic>
#include <cstddef>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace posflow {

// What a secret is replaced by.
inline constexpr std::string_view kSecretMask = "****";

// Registered forms at least this long are masked inside words too; shorter ones only where
// they stand alone (see above).
inline constexpr std::size_t kMinSecretBytesMaskedAnywhere = 4;

// The forms of `secret` that are registered and masked, longest first, without duplicates;
// empty for an empty secret.
std::vector<std::string> SecretForms(std::string_view secret);

// A set of secrets and the redaction of text by them. The process has one (ProcessSecrets());
// tests make their own.
class SecretRegistry {
 public:
  SecretRegistry() = default;
  SecretRegistry(const SecretRegistry&) = delete;
  SecretRegistry& operator=(const SecretRegistry&) = delete;

  // Adds `secret` and its forms. An empty secret, or one already registered, changes nothing.
  // Secrets are never removed: the set only grows, by the few values configuration holds.
  void Register(std::string_view secret);

  // `text` with every registered form replaced by kSecretMask, by the rule above.
  std::string Redact(std::string_view text) const;

  // How many distinct forms are registered.
  std::size_t size() const;

 private:
  mutable std::shared_mutex mutex_;
  std::vector<std::string> forms_;  // longest first; guarded by mutex_
  std::atomic<bool> empty_{true};
};

// The process-wide registry.
SecretRegistry& ProcessSecrets();

// ProcessSecrets().Register(secret).
void RegisterSecret(std::string_view secret);

// ProcessSecrets().Redact(text): apply to every line that leaves the process.
std::string RedactSecrets(std::string_view text);

}  // namespace posflow
