#include "pg/connection.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstdint>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "common/redact.h"
#include "common/secrets.h"
#include "pg/conninfo_secrets.h"

namespace posflow::pg {
namespace {

// libpq messages end in a newline and sometimes span lines; we want one short line: a
// DETAIL can quote a whole row ("Failing row contains (...)"), so the line is cut at
// kMaxServerMessageBytes (on a UTF-8 character boundary). libpq may quote a password (a badly
// percent-encoded one, in full): registered secrets are masked first.
std::string OneLine(std::string_view libpq_text) {
  const std::string text = RedactSecrets(libpq_text);
  std::string line;
  bool pending_space = false;
  for (char c : text) {
    if (line.size() >= kMaxServerMessageBytes) {
      while (!line.empty() && (static_cast<unsigned char>(line.back()) & 0xC0) == 0x80) {
        line.pop_back();  // a continuation byte: drop the cut character whole
      }
      if (!line.empty() && (static_cast<unsigned char>(line.back()) & 0xC0) == 0xC0) {
        line.pop_back();
      }
      line += "\u2026";
      return line;
    }
    if (c == '\n' || c == '\r') {
      pending_space = !line.empty();
      continue;
    }
    if (pending_space) {
      line += "; ";
      pending_space = false;
    }
    line += c;
  }
  while (!line.empty() && (line.back() == ' ' || line.back() == ';')) line.pop_back();
  return line;
}

void FinishConnection(pg_conn* conn) {
  if (conn != nullptr) PQfinish(conn);
}

}  // namespace

ConnectionOptions OptionsFromConfig(const Config& config) {
  ConnectionOptions options;
  options.url = config.db;
  options.user = config.db_user;
  options.password = config.db_password;
  // Validated as digits by Config::Validate.
  options.statement_timeout_ms = std::atol(config.db_statement_timeout_ms.c_str());
  options.idle_in_transaction_timeout_ms =
      std::atol(config.db_idle_in_transaction_timeout_ms.c_str());
  return options;
}

QueryResult::QueryResult(pg_result* result) : result_(result) {}
QueryResult::QueryResult(QueryResult&& other) noexcept : result_(other.result_) {
  other.result_ = nullptr;
}
QueryResult& QueryResult::operator=(QueryResult&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr) PQclear(result_);
    result_ = other.result_;
    other.result_ = nullptr;
  }
  return *this;
}
QueryResult::~QueryResult() {
  if (result_ != nullptr) PQclear(result_);
}
int QueryResult::rows() const { return PQntuples(result_); }
int QueryResult::columns() const { return PQnfields(result_); }
std::string_view QueryResult::Get(int row, int column) const {
  return std::string_view(PQgetvalue(result_, row, column),
                          static_cast<size_t>(PQgetlength(result_, row, column)));
}
bool QueryResult::IsNull(int row, int column) const {
  return PQgetisnull(result_, row, column) != 0;
}
Result<std::int64_t> QueryResult::GetInt64(int row, int column) const {
  const std::string_view text = Get(row, column);
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (IsNull(row, column) || error != std::errc() || end != text.data() + text.size()) {
    return Status::Internal("expected an integer from PostgreSQL in column " +
                            std::string(ColumnName(column)) + ", got '" + std::string(text) + "'");
  }
  return value;
}

Result<std::int32_t> QueryResult::GetInt32(int row, int column) const {
  auto value = GetInt64(row, column);
  if (!value.ok()) return value.status();
  if (*value < INT32_MIN || *value > INT32_MAX) {
    return Status::Internal("expected a 32-bit integer from PostgreSQL in column " +
                            std::string(ColumnName(column)) + ", got " + std::to_string(*value));
  }
  return static_cast<std::int32_t>(*value);
}

Result<double> QueryResult::GetDouble(int row, int column) const {
  const std::string_view text = Get(row, column);
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (IsNull(row, column) || error != std::errc() || end != text.data() + text.size()) {
    return Status::Internal("expected a number from PostgreSQL in column " +
                            std::string(ColumnName(column)) + ", got '" + std::string(text) + "'");
  }
  return value;
}

std::string_view QueryResult::ColumnName(int column) const {
  return std::string_view(PQfname(result_, column));
}
long QueryResult::AffectedRows() const {
  const std::string_view text = PQcmdTuples(result_);  // libpq's digits, or empty
  long rows = 0;
  std::from_chars(text.data(), text.data() + text.size(), rows);
  return rows;
}

Result<Connection> Connection::Open(const ConnectionOptions& options) {
  // Before libpq sees them: its messages about this connection can then be masked.
  RegisterConninfoSecrets(options.url);
  RegisterSecret(options.password);
  // Later keywords override earlier ones, and the expanded URL sits between: the seed's
  // credentials apply only where the URL names none; the database override wins over the URL.
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  const std::string timeout = std::to_string(options.connect_timeout_seconds);
  auto add = [&](const char* keyword, const std::string& value) {
    if (value.empty()) return;
    keywords.push_back(keyword);
    values.push_back(value.c_str());
  };
  add("user", options.user);
  add("password", options.password);
  std::string session;
  if (options.statement_timeout_ms > 0) {
    session += "-c statement_timeout=" + std::to_string(options.statement_timeout_ms);
  }
  if (options.idle_in_transaction_timeout_ms > 0) {
    if (!session.empty()) session += ' ';
    session += "-c idle_in_transaction_session_timeout=" +
               std::to_string(options.idle_in_transaction_timeout_ms);
  }
  add("options", session);
  // `add` keeps pointers: the values must outlive PQconnectdbParams.
  static const std::string kOn = "1", kIdle = "30", kInterval = "10", kCount = "3";
  if (options.keepalives) {
    add("keepalives", kOn);
    add("keepalives_idle", kIdle);
    add("keepalives_interval", kInterval);
    add("keepalives_count", kCount);
  }
  add("dbname", options.url);
  add("dbname", options.database_override);
  add("application_name", options.application_name);
  add("connect_timeout", timeout);
  keywords.push_back(nullptr);
  values.push_back(nullptr);

  std::string description = RedactUrl(options.url);
  if (!options.database_override.empty()) {
    description += " (database " + options.database_override + ")";
  }
  pg_conn* conn = PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1);
  if (conn == nullptr) return Status::Internal("libpq could not allocate a connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string reason = OneLine(PQerrorMessage(conn));
    PQfinish(conn);
    if (reason.find("does not exist") != std::string::npos && reason.find("database") != std::string::npos) {
      return Status::NotFound("PostgreSQL at " + description + ": " + reason);
    }
    return Status::Unavailable("cannot connect to PostgreSQL at " + description + ": " + reason +
                               " (for the local stack run: scripts/stack up)");
  }
  return Connection(conn, std::move(description));
}

Connection::Connection(pg_conn* conn, std::string description)
    : conn_(conn, &FinishConnection), description_(std::move(description)) {}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

Status Connection::ErrorFrom(pg_result* result, std::string_view what) {
  const char* sqlstate = result == nullptr ? nullptr : PQresultErrorField(result, PG_DIAG_SQLSTATE);
  last_sqlstate_ = sqlstate == nullptr ? "" : sqlstate;
  std::string reason = OneLine(result == nullptr ? PQerrorMessage(conn_.get())
                                                 : PQresultErrorMessage(result));
  if (result != nullptr) PQclear(result);
  // The server went away (class 08, 57P) or the failure is worth retrying as it is (deadlock,
  // serialization, resources, timeout): the caller reconnects and retries.
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    return Status::Unavailable(std::string(what) + " on " + description_ +
                               ": connection lost: " + reason);
  }
  if (IsTransientSqlState(last_sqlstate_)) {
    return Status::Unavailable(std::string(what) + " on " + description_ + ": " + reason +
                               " [SQLSTATE " + last_sqlstate_ + ", transient]");
  }
  std::string message = std::string(what) + ": " + reason;
  if (!last_sqlstate_.empty()) message += " [SQLSTATE " + last_sqlstate_ + "]";
  return Status::FailedPrecondition(std::move(message));
}

Status Connection::Execute(std::string_view sql) {
  last_sqlstate_.clear();
  const std::string text(sql);
  pg_result* result = PQexec(conn_.get(), text.c_str());
  // PQexec returns the last statement's result; earlier failures stop the whole string.
  ExecStatusType status = result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) {
    return ErrorFrom(result, "SQL failed");
  }
  PQclear(result);
  return Status::Ok();
}

Result<QueryResult> Connection::Query(std::string_view sql,
                                      const std::vector<std::optional<std::string>>& params) {
  last_sqlstate_.clear();
  const std::string text(sql);
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
  pg_result* result =
      PQexecParams(conn_.get(), text.c_str(), static_cast<int>(params.size()), nullptr,
                   values.data(), nullptr, nullptr, /*resultFormat=*/0);
  ExecStatusType status = result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return ErrorFrom(result, "SQL failed");
  }
  return QueryResult(result);
}

Result<QueryResult> Connection::QueryWithTextArray(
    std::string_view sql, const std::vector<std::string_view>& array,
    const std::vector<std::optional<std::string>>& params) {
  last_sqlstate_.clear();
  // The binary form of a one-dimensional text[] (array_recv): ndim, has-nulls flag, element
  // type, then per dimension its length and lower bound, then each element as length + bytes;
  // all integers big-endian.
  std::string binary;
  auto put32 = [&binary](std::uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      binary.push_back(static_cast<char>((value >> shift) & 0xFF));
    }
  };
  constexpr std::uint32_t kTextOid = 25;
  constexpr std::uint32_t kTextArrayOid = 1009;
  std::size_t bytes = 20;
  for (std::string_view value : array) bytes += 4 + value.size();
  binary.reserve(bytes);
  put32(1);
  put32(0);
  put32(kTextOid);
  put32(static_cast<std::uint32_t>(array.size()));
  put32(1);
  for (std::string_view value : array) {
    put32(static_cast<std::uint32_t>(value.size()));
    binary.append(value);
  }
  const std::string text(sql);
  const int count = static_cast<int>(params.size() + 1);
  std::vector<const char*> values{binary.data()};
  std::vector<int> lengths{static_cast<int>(binary.size())};
  std::vector<int> formats{1};
  std::vector<unsigned int> types{kTextArrayOid};
  for (const auto& param : params) {
    values.push_back(param ? param->c_str() : nullptr);
    lengths.push_back(0);
    formats.push_back(0);
    types.push_back(0);
  }
  pg_result* result = PQexecParams(conn_.get(), text.c_str(), count, types.data(), values.data(),
                                   lengths.data(), formats.data(), /*resultFormat=*/0);
  ExecStatusType status = result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return ErrorFrom(result, "SQL failed");
  }
  return QueryResult(result);
}

Status Connection::CopyIn(std::string_view copy_sql, std::string_view data) {
  last_sqlstate_.clear();
  const std::string text(copy_sql);
  pg_result* result = PQexec(conn_.get(), text.c_str());
  if (result == nullptr || PQresultStatus(result) != PGRES_COPY_IN) {
    return ErrorFrom(result, "COPY failed to start");
  }
  PQclear(result);
  // libpq buffers; large chunks keep the number of calls low.
  constexpr size_t kChunk = 1 << 20;
  for (size_t at = 0; at < data.size(); at += kChunk) {
    const size_t length = std::min(kChunk, data.size() - at);
    if (PQputCopyData(conn_.get(), data.data() + at, static_cast<int>(length)) != 1) {
      return ErrorFrom(nullptr, "COPY data");
    }
  }
  if (PQputCopyEnd(conn_.get(), nullptr) != 1) return ErrorFrom(nullptr, "COPY end");
  Status status = Status::Ok();
  while ((result = PQgetResult(conn_.get())) != nullptr) {
    if (PQresultStatus(result) != PGRES_COMMAND_OK) {
      status = ErrorFrom(result, "COPY");  // clears result
      continue;
    }
    PQclear(result);
  }
  return status;
}

Result<bool> Connection::WaitForNotification(int timeout_ms) {
  auto drain = [this]() -> Result<bool> {
    if (PQconsumeInput(conn_.get()) != 1) return ErrorFrom(nullptr, "waiting for a notification");
    bool any = false;
    while (PGnotify* notify = PQnotifies(conn_.get())) {
      any = true;
      PQfreemem(notify);
    }
    return any;
  };
  auto pending = drain();
  if (!pending.ok() || *pending) return pending;
  const int socket = PQsocket(conn_.get());
  if (socket < 0) return ErrorFrom(nullptr, "waiting for a notification");
  pollfd descriptor{socket, POLLIN, 0};
  const int ready = ::poll(&descriptor, 1, timeout_ms);
  if (ready < 0) {
    if (errno == EINTR) return false;
    return Status::Unavailable("poll on the PostgreSQL socket failed: " + std::string(std::strerror(errno)));
  }
  if (ready == 0) return false;
  return drain();
}

bool IsDataDependentSqlState(std::string_view sqlstate) {
  for (std::string_view data_class : {"22", "23", "54", "P0"}) {
    if (sqlstate.substr(0, 2) == data_class) return true;
  }
  return false;
}

bool IsTransientSqlState(std::string_view sqlstate) {
  return sqlstate.starts_with("08") || sqlstate.starts_with("53") ||
         sqlstate.starts_with("57P") || sqlstate == "57014" || sqlstate == "40001" ||
         sqlstate == "40P01";
}

std::string QuoteIdentifier(std::string_view identifier) {
  std::string quoted = "\"";
  for (char c : identifier) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace posflow::pg
