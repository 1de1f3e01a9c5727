#pragma once

// The secrets of a PostgreSQL connection string, as libpq itself reads them, registered with
// the process's secret registry (common/secrets.h) so that they are masked by value in every
// line posflow prints, libpq's own messages included.

#include <string_view>

namespace posflow::pg {

// Registers the `password` and `sslpassword` that libpq's parser (PQconninfoParse: URL or
// keyword string, percent-decoding, quotes and escapes as libpq applies them) reads from
// `conninfo`, and the values found by position as written there (ConnectionStringSecrets in
// common/redact.h): a string libpq refuses to parse ("invalid percent-encoded token") still
// has its password registered, as written, since that is the form libpq's error quotes.
// Idempotent; thread-safe.
void RegisterConninfoSecrets(std::string_view conninfo);

}  // namespace posflow::pg
