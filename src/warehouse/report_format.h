#pragma once

// A report's result as text cells, and its three renderings: an aligned table for people, CSV
// (RFC 4180) and JSON for programs. Numbers are never converted: the text PostgreSQL wrote for a
// numeric(14,2) is what is printed, so money stays exact to the cent. Pure functions, no I/O.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace posflow::warehouse {

enum class OutputFormat {
  // Aligned columns under a header line and a rule; numbers right-aligned; control characters
  // in cells escaped as \xNN (EscapeControlChars, common/text.h): it is read on a terminal.
  kTable,
  // RFC 4180: header record, CRLF line ends, fields quoted only when needed. A cell that
  // begins with '=', '+', '-', '@', tab or carriage return is neutralised against formula
  // injection (a single quote before it, the field quoted: "'=1+1"), unless it is a valid
  // number in a number column (a return's "-21.40" stays a number).
  kCsv,
  kJson,   // an array of objects, one per row, keys in column order
};

// "table", "csv" or "json"; nullopt for anything else.
std::optional<OutputFormat> ParseOutputFormat(std::string_view name);

enum class ColumnKind {
  kText,     // JSON string
  kInteger,  // JSON number (e.g. 42, -1)
  kDecimal,  // JSON number written with its decimals as given (e.g. 12.50, -3.94)
};

struct ReportColumn {
  std::string name;
  ColumnKind kind = ColumnKind::kText;
  // How a NULL cell reads in the table and in CSV (JSON always writes null). Default "".
  std::string null_text;
};

// A cell: the value's text, or nullopt for SQL NULL.
using ReportCell = std::optional<std::string>;

struct ReportTable {
  std::vector<ReportColumn> columns;
  // Each row has exactly columns.size() cells.
  std::vector<std::vector<ReportCell>> rows;
};

// Renders `table` in `format`; the text ends with a newline. A number cell whose text is not a
// JSON number (it never happens with PostgreSQL's integer and numeric output) is written as a
// JSON string rather than as invalid JSON.
// REQUIRES: every row has columns.size() cells.
std::string FormatReport(const ReportTable& table, OutputFormat format);

std::string FormatAsTable(const ReportTable& table);
std::string FormatAsCsv(const ReportTable& table);
std::string FormatAsJson(const ReportTable& table);

// Whether `text` is a number as JSON writes it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view text);

}  // namespace posflow::warehouse
