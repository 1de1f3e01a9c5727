#include "ops/dead_letters.h"

namespace posflow::ops {
namespace {

std::string FromHex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return 0;
  };
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return bytes;
}

// Reads a text[] literal as produced by array_to_json: ["a","b"].
std::vector<std::string> ReasonsFromJson(std::string_view json) {
  std::vector<std::string> reasons;
  size_t at = 0;
  while ((at = json.find('"', at)) != std::string_view::npos) {
    const size_t end = json.find('"', at + 1);
    if (end == std::string_view::npos) break;
    reasons.emplace_back(json.substr(at + 1, end - at - 1));
    at = end + 1;
  }
  return reasons;
}

constexpr const char* kColumns =
    "dead_letter_id, topic, kafka_partition, kafka_offset, encode(coalesce(message_key, ''), "
    "'hex'), %PAYLOAD%, octet_length(payload), array_to_json(reasons)::text, details, "
    "to_char(first_seen_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "coalesce(to_char(replayed_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), "
    "coalesce(replayed_as, ''), "
    "coalesce(to_char(payload_purged_at at time zone 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), "
    "coalesce(purged_payload_bytes, 0), stage";

std::string Columns(bool with_payload) {
  std::string columns = kColumns;
  columns.replace(columns.find("%PAYLOAD%"), 9, with_payload ? "encode(payload, 'hex')" : "''");
  return columns;
}

DeadLetterRow ReadRow(const pg::QueryResult& rows, int row) {
  DeadLetterRow letter;
  letter.id = std::stoll(std::string(rows.Get(row, 0)));
  letter.topic = rows.Get(row, 1);
  letter.partition = std::stoi(std::string(rows.Get(row, 2)));
  letter.offset = std::stoll(std::string(rows.Get(row, 3)));
  letter.key = FromHex(rows.Get(row, 4));
  letter.payload = FromHex(rows.Get(row, 5));
  letter.payload_bytes = std::stoll(std::string(rows.Get(row, 6)));
  letter.reasons = ReasonsFromJson(rows.Get(row, 7));
  letter.details = rows.Get(row, 8);
  letter.first_seen_at = rows.Get(row, 9);
  letter.replayed_at = rows.Get(row, 10);
  letter.replayed_as = rows.Get(row, 11);
  letter.payload_purged_at = rows.Get(row, 12);
  letter.purged_payload_bytes = std::stoll(std::string(rows.Get(row, 13)));
  letter.stage = rows.Get(row, 14);
  return letter;
}

}  // namespace

Result<std::vector<DeadLetterRow>> ListDeadLetters(pg::Connection& connection,
                                                   const DeadLetterFilter& filter) {
  const std::string sql =
      "select " + Columns(filter.with_payload) +
      " from ops.dead_letter"
      " where ($1 or replayed_at is null)"
      "   and ($2 = '' or exists (select 1 from unnest(reasons) r where starts_with(r, $2)))"
      "   and ($4 or payload_purged_at is null)"
      "   and ($5 = '' or stage = $5)"
      " order by dead_letter_id" +
      std::string(filter.newest_first ? " desc" : "") + " limit $3";
  auto rows = connection.Query(sql, {filter.include_replayed ? "true" : "false",
                                     filter.reason_prefix, std::to_string(filter.limit),
                                     filter.include_purged ? "true" : "false", filter.stage});
  if (!rows.ok()) return rows.status().WithContext("reading ops.dead_letter");
  std::vector<DeadLetterRow> letters;
  for (int row = 0; row < rows->rows(); ++row) letters.push_back(ReadRow(*rows, row));
  return letters;
}

Result<DeadLetterRow> GetDeadLetter(pg::Connection& connection, std::int64_t id) {
  auto rows = connection.Query(
      "select " + Columns(true) + " from ops.dead_letter where dead_letter_id = $1",
      {std::to_string(id)});
  if (!rows.ok()) return rows.status().WithContext("reading ops.dead_letter");
  if (rows->rows() == 0) return Status::NotFound("no dead letter " + std::to_string(id));
  return ReadRow(*rows, 0);
}

}  // namespace posflow::ops
