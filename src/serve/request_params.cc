#include "serve/request_params.h"

#include <charconv>

#include "common/civil_time.h"
#include "common/text.h"

namespace posflow::serve {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> Decode(std::string_view text) {
  std::string decoded;
  decoded.reserve(text.size());
  for (std::size_t at = 0; at < text.size(); ++at) {
    const char c = text[at];
    if (c == '+') {
      decoded.push_back(' ');
    } else if (c == '%') {
      const int high = at + 2 < text.size() ? HexValue(text[at + 1]) : -1;
      const int low = at + 2 < text.size() ? HexValue(text[at + 2]) : -1;
      if (high < 0 || low < 0) {
        return Status::InvalidArgument("the query string has a malformed %-escape");
      }
      decoded.push_back(static_cast<char>(high * 16 + low));
      at += 2;
    } else {
      decoded.push_back(c);
    }
  }
  if (!IsValidUtf8(decoded)) {
    return Status::InvalidArgument("the query string is not UTF-8 once decoded");
  }
  return decoded;
}

// A parameter's value as shown in a message: at most 40 characters, control characters as '?'.
std::string Shown(std::string_view value) {
  std::string shown = StorableText(value, 40);
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
  }
  return shown;
}

Result<std::optional<CivilDate>> DateParam(const QueryParams& params, std::string_view name) {
  const auto it = params.find(name);
  if (it == params.end()) return std::optional<CivilDate>();
  std::optional<CivilDate> date = ParseDate(it->second);
  if (!date) {
    return Status::InvalidArgument(std::string(name) + "='" + Shown(it->second) +
                                   "' is not a date: YYYY-MM-DD, " + std::to_string(kMinYear) +
                                   ".." + std::to_string(kMaxYear));
  }
  return date;
}

}  // namespace

Result<QueryParams> ParseQueryString(std::string_view query) {
  if (query.size() > kMaxQueryBytes) {
    return Status::InvalidArgument("the query string is over " + std::to_string(kMaxQueryBytes) +
                                   " bytes");
  }
  QueryParams params;
  while (!query.empty()) {
    const std::size_t end = std::min(query.find('&'), query.size());
    const std::string_view piece = query.substr(0, end);
    query.remove_prefix(end == query.size() ? end : end + 1);
    if (piece.empty()) continue;
    const std::size_t equals = piece.find('=');
    auto name = Decode(piece.substr(0, equals));
    if (!name.ok()) return name.status();
    auto value = Decode(equals == std::string_view::npos ? "" : piece.substr(equals + 1));
    if (!value.ok()) return value.status();
    if (params.count(*name) > 0) {
      return Status::InvalidArgument("parameter '" + Shown(*name) + "' is given twice");
    }
    params.emplace(std::move(*name), std::move(*value));
  }
  return params;
}

Status RejectUnknownParams(const QueryParams& params,
                           const std::vector<std::string_view>& allowed) {
  for (const auto& [name, value] : params) {
    bool known = false;
    for (std::string_view candidate : allowed) known = known || candidate == name;
    if (known) continue;
    std::string names;
    for (std::string_view candidate : allowed) {
      names += (names.empty() ? "" : ", ") + std::string(candidate);
    }
    return Status::InvalidArgument("unknown parameter '" + Shown(name) + "'" +
                                   (names.empty() ? "; this endpoint takes none"
                                                  : "; this endpoint takes " + names));
  }
  return Status::Ok();
}

Status CheckStoreId(std::string_view store_id) {
  if (store_id.empty()) return Status::InvalidArgument("store= needs a store id (S001)");
  if (store_id.size() > kMaxStoreIdBytes) {
    return Status::InvalidArgument("store id over " + std::to_string(kMaxStoreIdBytes) +
                                   " bytes");
  }
  if (!IsValidUtf8(store_id)) return Status::InvalidArgument("store id is not UTF-8");
  for (char c : store_id) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      return Status::InvalidArgument("store id holds a control character");
    }
  }
  return Status::Ok();
}

Result<std::int64_t> IntegerParam(const QueryParams& params, std::string_view name,
                                  std::int64_t min, std::int64_t max, std::int64_t fallback) {
  const auto it = params.find(name);
  if (it == params.end()) return fallback;
  const std::string& text = it->second;
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < min ||
      value > max) {
    return Status::InvalidArgument(std::string(name) + "='" + Shown(text) +
                                   "' is not an integer in " + std::to_string(min) + ".." +
                                   std::to_string(max));
  }
  return value;
}

Result<warehouse::ReportRequest> ReportRequestFromQuery(std::string_view report_name,
                                                        const QueryParams& params) {
  const warehouse::ReportInfo* info = nullptr;
  for (const warehouse::ReportInfo& report : warehouse::Reports()) {
    if (report.name == report_name) info = &report;
  }
  if (info == nullptr) {
    std::string names;
    for (const warehouse::ReportInfo& report : warehouse::Reports()) {
      names += (names.empty() ? "" : ", ") + std::string(report.name);
    }
    return Status::InvalidArgument("unknown report '" + Shown(report_name) +
                                   "'; the reports are: " + names);
  }
  if (!info->takes_dates && (params.count("from") > 0 || params.count("to") > 0)) {
    return Status::InvalidArgument(std::string(report_name) +
                                   " shows the stock as it is now: from/to do not apply");
  }
  std::vector<std::string_view> allowed = {"store"};
  if (info->takes_dates) allowed.insert(allowed.end(), {"from", "to"});
  if (info->takes_limit) allowed.push_back("limit");
  POSFLOW_RETURN_IF_ERROR(RejectUnknownParams(params, allowed));

  warehouse::ReportRequest request;
  request.name = std::string(report_name);
  auto from = DateParam(params, "from");
  if (!from.ok()) return from.status();
  auto to = DateParam(params, "to");
  if (!to.ok()) return to.status();
  if (*from && *to && **from > **to) {
    return Status::InvalidArgument("from=" + FormatDate(**from) + " is after to=" +
                                   FormatDate(**to));
  }
  request.from = *from;
  request.to = *to;
  if (const auto store = params.find("store"); store != params.end()) {
    POSFLOW_RETURN_IF_ERROR(CheckStoreId(store->second));
    request.store_id = store->second;
  }
  if (params.count("limit") > 0) {
    auto limit = IntegerParam(params, "limit", 1, kMaxApiLimit, 0);
    if (!limit.ok()) return limit.status();
    request.limit = *limit;
  }
  POSFLOW_RETURN_IF_ERROR(warehouse::ValidateReportRequest(request));
  return request;
}

}  // namespace posflow::serve
