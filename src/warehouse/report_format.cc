#include "warehouse/report_format.h"

#include <algorithm>
#include <cassert>
#include <cstddef>

#include "common/text.h"
#include "event/transaction.h"

namespace posflow::warehouse {
namespace {

bool IsNumberKind(ColumnKind kind) { return kind != ColumnKind::kText; }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Display width in a terminal: one per UTF-8 code point (continuation bytes take no room), so
// "Québec" lines up with "Quebec". East Asian wide characters would need a wcwidth table; store
// and product names here are Latin.
std::size_t DisplayWidth(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

const std::string& CellText(const ReportColumn& column, const ReportCell& cell) {
  return cell.has_value() ? *cell : column.null_text;
}

void AppendPadded(std::string_view text, std::size_t width, bool right_align, std::string* out) {
  const std::size_t padding = width - std::min(width, DisplayWidth(text));
  if (right_align) out->append(padding, ' ');
  out->append(text);
  if (!right_align) out->append(padding, ' ');
}

// One line of the table: cells separated by two spaces, without trailing blanks.
void AppendTableLine(const std::vector<ReportColumn>& columns,
                     const std::vector<std::size_t>& widths,
                     const std::vector<std::string_view>& cells, std::string* out) {
  const std::size_t line_start = out->size();
  for (std::size_t column_idx = 0; column_idx < columns.size(); ++column_idx) {
    if (column_idx > 0) out->append("  ");
    AppendPadded(cells[column_idx], widths[column_idx], IsNumberKind(columns[column_idx].kind),
                 out);
  }
  std::size_t line_end = out->size();
  while (line_end > line_start && (*out)[line_end - 1] == ' ') --line_end;
  out->resize(line_end);
  out->push_back('\n');
}

// Whether a spreadsheet opening the CSV could take `text` for a formula: it begins with '=',
// '+', '-', '@', a tab or a carriage return (OWASP, "CSV Injection"). A number column's valid
// number ("-21.40", a return's amount) is data, not a formula, and stays a number.
bool NeedsFormulaGuard(std::string_view text, ColumnKind kind) {
  if (text.empty() || std::string_view("=+-@\t\r").find(text[0]) == std::string_view::npos) {
    return false;
  }
  return !(IsNumberKind(kind) && IsJsonNumber(text));
}

// One RFC 4180 field. A cell that could be read as a formula is written as text: a single
// quote before it, and the whole field quoted.
void AppendCsvField(std::string_view text, ColumnKind kind, std::string* out) {
  const bool guard = NeedsFormulaGuard(text, kind);
  if (!guard && text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(text);
    return;
  }
  out->push_back('"');
  if (guard) out->push_back('\'');
  for (char c : text) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

}  // namespace

std::optional<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "csv") return OutputFormat::kCsv;
  if (name == "json") return OutputFormat::kJson;
  return std::nullopt;
}

bool IsJsonNumber(std::string_view text) {
  std::size_t pos = 0;
  auto digits = [&] {
    const std::size_t start = pos;
    while (pos < text.size() && IsDigit(text[pos])) ++pos;
    return pos - start;
  };
  if (pos < text.size() && text[pos] == '-') ++pos;
  if (pos < text.size() && text[pos] == '0') {
    ++pos;
  } else if (pos >= text.size() || text[pos] < '1' || text[pos] > '9' || digits() == 0) {
    return false;
  }
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    if (digits() == 0) return false;
  }
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) ++pos;
    if (digits() == 0) return false;
  }
  return pos == text.size();
}

std::string FormatAsTable(const ReportTable& table) {
  const std::size_t column_count = table.columns.size();
  std::vector<std::size_t> widths(column_count);
  for (std::size_t column_idx = 0; column_idx < column_count; ++column_idx) {
    widths[column_idx] = DisplayWidth(table.columns[column_idx].name);
  }
  // The table is read on a terminal: a store or product name from a message must not drive it.
  std::vector<std::vector<std::string>> shown_rows;
  shown_rows.reserve(table.rows.size());
  for (const auto& row : table.rows) {
    assert(row.size() == column_count && "a report row has one cell per column");
    std::vector<std::string>& shown = shown_rows.emplace_back();
    shown.reserve(column_count);
    for (std::size_t column_idx = 0; column_idx < column_count; ++column_idx) {
      shown.push_back(EscapeControlChars(CellText(table.columns[column_idx], row[column_idx])));
      widths[column_idx] = std::max(widths[column_idx], DisplayWidth(shown.back()));
    }
  }

  std::string out;
  std::vector<std::string_view> cells(column_count);
  for (std::size_t column_idx = 0; column_idx < column_count; ++column_idx) {
    cells[column_idx] = table.columns[column_idx].name;
  }
  AppendTableLine(table.columns, widths, cells, &out);
  std::vector<std::string> rules(column_count);
  for (std::size_t column_idx = 0; column_idx < column_count; ++column_idx) {
    rules[column_idx].assign(widths[column_idx], '-');
    cells[column_idx] = rules[column_idx];
  }
  AppendTableLine(table.columns, widths, cells, &out);
  for (const auto& shown : shown_rows) {
    for (std::size_t column_idx = 0; column_idx < column_count; ++column_idx) {
      cells[column_idx] = shown[column_idx];
    }
    AppendTableLine(table.columns, widths, cells, &out);
  }
  if (table.rows.empty()) out.append("(no rows)\n");
  return out;
}

std::string FormatAsCsv(const ReportTable& table) {
  std::string out;
  for (std::size_t column_idx = 0; column_idx < table.columns.size(); ++column_idx) {
    if (column_idx > 0) out.push_back(',');
    AppendCsvField(table.columns[column_idx].name, ColumnKind::kText, &out);
  }
  out.append("\r\n");
  for (const auto& row : table.rows) {
    assert(row.size() == table.columns.size() && "a report row has one cell per column");
    for (std::size_t column_idx = 0; column_idx < table.columns.size(); ++column_idx) {
      if (column_idx > 0) out.push_back(',');
      AppendCsvField(CellText(table.columns[column_idx], row[column_idx]),
                     table.columns[column_idx].kind, &out);
    }
    out.append("\r\n");
  }
  return out;
}

std::string FormatAsJson(const ReportTable& table) {
  if (table.rows.empty()) return "[]\n";
  std::string out = "[\n";
  for (std::size_t row_idx = 0; row_idx < table.rows.size(); ++row_idx) {
    const auto& row = table.rows[row_idx];
    assert(row.size() == table.columns.size() && "a report row has one cell per column");
    out.append("  {");
    for (std::size_t column_idx = 0; column_idx < table.columns.size(); ++column_idx) {
      const ReportColumn& column = table.columns[column_idx];
      if (column_idx > 0) out.append(", ");
      event::AppendJsonString(column.name, &out);
      out.append(": ");
      const ReportCell& cell = row[column_idx];
      if (!cell.has_value()) {
        out.append("null");
      } else if (IsNumberKind(column.kind) && IsJsonNumber(*cell)) {
        out.append(*cell);
      } else {
        event::AppendJsonString(*cell, &out);
      }
    }
    out.append(row_idx + 1 < table.rows.size() ? "},\n" : "}\n");
  }
  out.append("]\n");
  return out;
}

std::string FormatReport(const ReportTable& table, OutputFormat format) {
  switch (format) {
    case OutputFormat::kTable:
      return FormatAsTable(table);
    case OutputFormat::kCsv:
      return FormatAsCsv(table);
    case OutputFormat::kJson:
      return FormatAsJson(table);
  }
  return FormatAsTable(table);
}

}  // namespace posflow::warehouse
