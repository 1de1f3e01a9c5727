#pragma once

// The query string of an API request, decoded and checked without I/O: what the dashboard's
// endpoints accept and the one-line reason (for a 400 answer) when they do not.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "warehouse/report.h"

namespace posflow::serve {

// The longest store id accepted (dw.dim_store ids are short: S001).
inline constexpr std::size_t kMaxStoreIdBytes = 64;
// The longest query string accepted, in bytes.
inline constexpr std::size_t kMaxQueryBytes = 2048;

// Decoded parameters by name.
using QueryParams = std::map<std::string, std::string, std::less<>>;

// Decodes "a=1&b=x%20y" (application/x-www-form-urlencoded: '+' is a space, %XX a byte).
// Empty pieces ("a=1&&b=2") are skipped; a name without '=' has the empty value.
// Failure: InvalidArgument for a query over kMaxQueryBytes, a malformed %-escape, a name given
// twice, or a decoded name or value that is not valid UTF-8.
Result<QueryParams> ParseQueryString(std::string_view query);

// Failure: InvalidArgument naming the first parameter of `params` not in `allowed`.
Status RejectUnknownParams(const QueryParams& params, const std::vector<std::string_view>& allowed);

// Checks a store id: 1..kMaxStoreIdBytes bytes of valid UTF-8 without control characters.
// Failure: InvalidArgument saying which rule it breaks (without echoing control characters).
Status CheckStoreId(std::string_view store_id);

// The report request of /api/reports/<name>?from=YYYY-MM-DD&to=YYYY-MM-DD&store=S001&limit=N:
// from/to are store-local sale dates, inclusive (not for low-stock), store a store id
// (CheckStoreId), limit (top-products only) 1..kMaxApiLimit. Every other parameter is refused.
// Failure: InvalidArgument with a message naming the parameter (an unknown report, a bad or
// reversed date, a bad store id or limit). The store's existence is checked by RunReport.
inline constexpr std::int64_t kMaxApiLimit = 1000;
Result<warehouse::ReportRequest> ReportRequestFromQuery(std::string_view report_name,
                                                        const QueryParams& params);

// An integer parameter `name` in min..max, or `fallback` when absent.
// Failure: InvalidArgument naming the parameter and the range.
Result<std::int64_t> IntegerParam(const QueryParams& params, std::string_view name,
                                  std::int64_t min, std::int64_t max, std::int64_t fallback);

}  // namespace posflow::serve
