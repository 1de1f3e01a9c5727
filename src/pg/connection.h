#pragma once

// A PostgreSQL connection (libpq), RAII. Not thread-safe: one thread uses a Connection at a
// time. Statements run through the simple or extended query protocol; every failure comes back
// as a Status whose message is one line, names what failed and never holds a password.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/status.h"

struct pg_conn;    // libpq's PGconn
struct pg_result;  // libpq's PGresult

namespace posflow::pg {

struct ConnectionOptions {
  // Connection URL or libpq keyword string (expanded by libpq). Required.
  std::string url;
  // Used only when `url` names no user / password. Empty: libpq's defaults.
  std::string user;
  std::string password;
  // When set, connect to this database instead of the one in `url` (e.g. "postgres" to create
  // the database itself).
  std::string database_override;
  // Shown in pg_stat_activity. Default "posflow".
  std::string application_name = "posflow";
  // Seconds to wait for the server to answer the connection. Default 10.
  int connect_timeout_seconds = 10;
  // Session limits in milliseconds (0: the server's default, none): statement_timeout and
  // idle_in_transaction_session_timeout, sent as the connection's `options` (one in the URL
  // replaces them). Default 0; OptionsFromConfig takes the configuration's.
  long statement_timeout_ms = 0;
  long idle_in_transaction_timeout_ms = 0;
  // TCP keepalives (libpq keepalives*), so that a peer gone silent is noticed in about a
  // minute; parameters in the URL override them. Default on: idle 30 s, every 10 s, 3 probes.
  bool keepalives = true;
};

// Options from the configuration's db URL and seed credentials.
ConnectionOptions OptionsFromConfig(const Config& config);

// The rows of one statement's result. Movable, not copyable; values are text.
class QueryResult {
 public:
  QueryResult(QueryResult&&) noexcept;
  QueryResult& operator=(QueryResult&&) noexcept;
  ~QueryResult();

  int rows() const;
  int columns() const;
  // REQUIRES: 0 <= row < rows(), 0 <= column < columns(). Empty for NULL.
  std::string_view Get(int row, int column) const;
  bool IsNull(int row, int column) const;
  // The cell as a 64-bit integer. Failure: Internal naming the text when it is not one (or
  // NULL). REQUIRES as Get.
  Result<std::int64_t> GetInt64(int row, int column) const;
  // The same for a 32-bit integer (out of range: Internal too) and a floating-point number.
  Result<std::int32_t> GetInt32(int row, int column) const;
  Result<double> GetDouble(int row, int column) const;
  // The name of a result column (its alias). REQUIRES: 0 <= column < columns().
  std::string_view ColumnName(int column) const;
  // Rows changed by an INSERT/UPDATE/DELETE, 0 otherwise.
  long AffectedRows() const;

 private:
  friend class Connection;
  explicit QueryResult(pg_result* result);
  pg_result* result_;
};

class Connection {
 public:
  // Connects. Failure: Unavailable when the server cannot be reached (the message says how to
  // start the local stack), NotFound when the database does not exist.
  static Result<Connection> Open(const ConnectionOptions& options);

  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  ~Connection();

  // Runs one or more statements (simple query protocol), discarding any rows.
  Status Execute(std::string_view sql);

  // Runs one statement with $1..$n text parameters (nullopt = NULL) and returns its rows.
  // Text parameters travel as C strings: never pass message content here (a NUL would cut it;
  // use QueryWithTextArray, whose array goes in binary form).
  Result<QueryResult> Query(std::string_view sql,
                            const std::vector<std::optional<std::string>>& params = {});

  // Runs one statement whose $1 is a text[] sent in binary form (any bytes but NUL survive
  // exactly; no literal is built from the values, so no value can break the statement) and
  // whose $2..$n are `params` as in Query.
  Result<QueryResult> QueryWithTextArray(std::string_view sql,
                                         const std::vector<std::string_view>& array,
                                         const std::vector<std::optional<std::string>>& params = {});

  // Runs `copy_sql` ("copy t (...) from stdin") and streams `data` (COPY text format) to it.
  // Failure: the server's refusal (SQLSTATE in last_sqlstate()), Unavailable when the
  // connection is lost.
  Status CopyIn(std::string_view copy_sql, std::string_view data);

  // Waits up to `timeout_ms` for a notification on a channel this connection LISTENs to (run
  // "listen <channel>" first) and consumes every one pending. True when one arrived, false on
  // timeout. Failure: Unavailable when the connection is lost.
  Result<bool> WaitForNotification(int timeout_ms);

  // The SQLSTATE of the last failed statement ("" when none or not from the server).
  const std::string& last_sqlstate() const { return last_sqlstate_; }
  // Keeps a failure's SQLSTATE readable after statements (e.g. a rollback) that cleared it.
  void set_last_sqlstate(std::string sqlstate) { last_sqlstate_ = std::move(sqlstate); }

  // Where this connection points, with the password masked: for messages.
  const std::string& description() const { return description_; }

 private:
  Connection(pg_conn* conn, std::string description);
  Status ErrorFrom(pg_result* result, std::string_view what);

  std::unique_ptr<pg_conn, void (*)(pg_conn*)> conn_;
  std::string description_;
  std::string last_sqlstate_;
};

// Whether a failure's SQLSTATE says "this data" rather than "this server" or "this code":
// class 22 (data exception), 23 (integrity constraint violation), 54 (program limit exceeded:
// e.g. an index row too large) and P0 (raised by a PL/pgSQL function over the data). The
// callers isolate the rows that cause such a failure instead of failing the whole batch.
bool IsDataDependentSqlState(std::string_view sqlstate);

// Whether a failure's SQLSTATE is worth retrying as it is: 08 (connection), 40001
// (serialization), 40P01 (deadlock), 53 (insufficient resources), 57014 (statement timeout or
// cancel), 57P (server shutdown). Connection reports these as Unavailable.
bool IsTransientSqlState(std::string_view sqlstate);

// The longest server message (characters) a Status carries: the rest is cut ("…"), so that no
// error line echoes a whole parameter or row.
inline constexpr std::size_t kMaxServerMessageBytes = 300;

// Quotes `identifier` for SQL ("my table" -> "\"my table\"").
std::string QuoteIdentifier(std::string_view identifier);

}  // namespace posflow::pg
