#include "serve/dashboard_api.h"

#include <charconv>
#include <chrono>
#include <string_view>
#include <utility>

#include "common/text.h"
#include "common/version.h"
#include "ops/dead_letters.h"
#include "pipeline/check_job.h"
#include "serve/dead_letter_json.h"
#include "serve/json_writer.h"
#include "serve/request_params.h"
#include "serve/web_assets.h"
#include "warehouse/report.h"
#include "warehouse/report_format.h"

namespace posflow::serve {
namespace {

constexpr std::string_view kApiPrefix = "/api/";
constexpr std::string_view kAssetPrefix = "/assets/";
constexpr std::int64_t kDefaultDeadLetterLimit = 50;
constexpr std::int64_t kMaxDeadLetterLimit = 500;
constexpr std::size_t kMaxReasonPrefixBytes = 200;

HttpResponse Json(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

HttpResponse Error(int status, std::string_view message) {
  return Json(status, "{\"error\":" + JsonQuoted(message) + "}\n");
}

// The HTTP status of a failed Status: the caller's fault (400, 404) or the server's.
int HttpStatusOf(const Status& status) {
  switch (status.code()) {
    case Status::Code::kInvalidArgument:
      return 400;
    case Status::Code::kNotFound:
      return 404;
    case Status::Code::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

HttpResponse Failure(const Status& status) { return Error(HttpStatusOf(status), status.message()); }

// No connection to the database (down, or no such database): the service is unavailable.
HttpResponse NoDatabase(const Status& status) { return Error(503, status.message()); }

// Whether a failure may have left the session unusable (its connection is then not reused).
bool BreaksSession(const Status& status) {
  return status.code() != Status::Code::kInvalidArgument &&
         status.code() != Status::Code::kNotFound;
}

Result<QueryParams> ParamsOf(const std::string& query,
                             const std::vector<std::string_view>& allowed) {
  auto params = ParseQueryString(query);
  if (!params.ok()) return params.status();
  POSFLOW_RETURN_IF_ERROR(RejectUnknownParams(*params, allowed));
  return params;
}

pg::ConnectionOptions PoolConnectionOptions(const DashboardOptions& options) {
  pg::ConnectionOptions connection = pg::OptionsFromConfig(options.config);
  connection.application_name = "posflow serve";
  connection.statement_timeout_ms = options.statement_timeout_ms;
  return connection;
}

PipelineStatusOptions PipelineOptionsOf(const DashboardOptions& options) {
  PipelineStatusOptions pipeline;
  pipeline.group = options.config.group;
  pipeline.topics = options.config.Topics();
  pipeline.freshness_minutes = options.freshness_minutes;
  return pipeline;
}

}  // namespace

DashboardApi::DashboardApi(DashboardOptions options,
                           std::unique_ptr<PartitionWatermarks> watermarks)
    : options_(std::move(options)),
      pipeline_options_(PipelineOptionsOf(options_)),
      pool_(PoolConnectionOptions(options_), options_.idle_connections),
      watermarks_(std::move(watermarks)) {}

Status DashboardApi::Prime() {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  auto sample = ReadThroughputSample(**lease, pipeline_options_);
  if (!sample.ok()) {
    lease->Discard();
    return sample.status();
  }
  throughput_.Add(*sample);
  return Status::Ok();
}

HttpResponse DashboardApi::Handle(const HttpRequest& request) {
  if (request.method != "GET" && request.method != "HEAD") {
    HttpResponse response = Error(405, "method " + StorableText(request.method, 20) +
                                           " not allowed: this server only reads (GET, HEAD)");
    response.headers.emplace_back("Allow", "GET, HEAD");
    return response;
  }
  const std::string_view path = request.path;
  if (path == "/") return Asset(request, "index.html");
  if (path.starts_with(kAssetPrefix)) return Asset(request, path.substr(kAssetPrefix.size()));
  if (path.starts_with(kApiPrefix)) {
    const std::string_view route = path.substr(kApiPrefix.size());
    if (route == "meta") return Meta(request.query);
    if (route == "pipeline") return Pipeline(request.query);
    if (route == "check") return Check(request.query);
    if (route == "dead-letters") return DeadLetters(request.query);
    if (route.starts_with("dead-letters/")) {
      return DeadLetter(route.substr(std::string_view("dead-letters/").size()), request.query);
    }
    if (route.starts_with("reports/")) {
      return Report(route.substr(std::string_view("reports/").size()), request.query);
    }
  }
  return Error(404, "no such path: " + StorableText(path, 100) +
                        " (the API: /api/meta, /api/reports/<name>, /api/pipeline, "
                        "/api/dead-letters[/<id>], /api/check)");
}

HttpResponse DashboardApi::Asset(const HttpRequest& request, std::string_view path) {
  const WebAsset* asset = FindWebAsset(path);
  // The page itself is served at "/" only.
  if (asset == nullptr || (path == "index.html" && request.path != "/")) {
    return Error(404, "no such asset: " + StorableText(path, 100));
  }
  HttpResponse response;
  response.content_type = std::string(asset->content_type);
  response.headers.emplace_back("Cache-Control", "no-cache");
  response.headers.emplace_back("ETag", std::string(asset->etag));
  if (request.if_none_match == asset->etag) {
    response.status = 304;
    return response;
  }
  response.body = std::string(asset->bytes);
  return response;
}

HttpResponse DashboardApi::Meta(const std::string& query) {
  auto params = ParamsOf(query, {});
  if (!params.ok()) return Failure(params.status());
  auto lease = pool_.Acquire();
  if (!lease.ok()) return NoDatabase(lease.status());
  auto stores = (*lease)->Query(
      "select store_id, name from dw.dim_store where is_current order by store_id");
  if (!stores.ok()) {
    lease->Discard();
    return Failure(stores.status().WithContext("reading dw.dim_store"));
  }
  auto dates = (*lease)->Query(
      "select to_char(to_date(min(date_key)::text, 'YYYYMMDD'), 'YYYY-MM-DD'), "
      "       to_char(to_date(max(date_key)::text, 'YYYYMMDD'), 'YYYY-MM-DD') "
      "from dw.agg_daily_store_sales");
  if (!dates.ok()) {
    lease->Discard();
    return Failure(dates.status().WithContext("reading dw.agg_daily_store_sales"));
  }
  JsonWriter json;
  json.BeginObject();
  json.Key("version").String(kVersion);
  json.Key("group").String(options_.config.group);
  json.Key("topics").BeginArray();
  for (const std::string& topic : pipeline_options_.topics) json.String(topic);
  json.EndArray();
  json.Key("refresh_seconds").Int(options_.refresh_seconds);
  json.Key("first_sale_date").StringOrNull(dates->Get(0, 0));
  json.Key("last_sale_date").StringOrNull(dates->Get(0, 1));
  json.Key("stores").BeginArray();
  for (int row = 0; row < stores->rows(); ++row) {
    json.BeginObject();
    json.Key("store_id").String(stores->Get(row, 0));
    json.Key("name").String(stores->Get(row, 1));
    json.EndObject();
  }
  json.EndArray();
  json.Key("reports").BeginArray();
  for (const warehouse::ReportInfo& report : warehouse::Reports()) {
    json.BeginObject();
    json.Key("name").String(report.name);
    json.Key("summary").String(report.summary);
    json.Key("takes_dates").Bool(report.takes_dates);
    json.Key("takes_limit").Bool(report.takes_limit);
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  return Json(200, json.Take());
}

HttpResponse DashboardApi::Report(std::string_view name, const std::string& query) {
  auto params = ParseQueryString(query);
  if (!params.ok()) return Failure(params.status());
  auto request = ReportRequestFromQuery(name, *params);
  if (!request.ok()) return Failure(request.status());
  auto lease = pool_.Acquire();
  if (!lease.ok()) return NoDatabase(lease.status());
  auto table = warehouse::RunReport(**lease, *request);
  if (!table.ok()) {
    if (BreaksSession(table.status())) lease->Discard();
    return Failure(table.status());
  }
  // The same renderer as `posflow report --format json`: the same bytes.
  return Json(200, warehouse::FormatAsJson(*table));
}

HttpResponse DashboardApi::Pipeline(const std::string& query) {
  auto params = ParamsOf(query, {});
  if (!params.ok()) return Failure(params.status());
  auto lease = pool_.Acquire();
  if (!lease.ok()) return NoDatabase(lease.status());
  auto status = ReadPipelineStatus(**lease, pipeline_options_, *watermarks_, throughput_);
  if (!status.ok()) {
    lease->Discard();
    return Failure(status.status());
  }
  return Json(200, PipelineStatusJson(*status));
}

HttpResponse DashboardApi::DeadLetters(const std::string& query) {
  auto params = ParamsOf(query, {"limit", "reason", "stage"});
  if (!params.ok()) return Failure(params.status());
  ops::DeadLetterFilter filter;
  filter.newest_first = true;
  auto limit = IntegerParam(*params, "limit", 1, kMaxDeadLetterLimit, kDefaultDeadLetterLimit);
  if (!limit.ok()) return Failure(limit.status());
  filter.limit = *limit;
  if (const auto reason = params->find("reason"); reason != params->end()) {
    if (reason->second.size() > kMaxReasonPrefixBytes ||
        reason->second.find_first_of(std::string_view("\0\r\n", 3)) != std::string::npos) {
      return Error(400, "reason= must be a reason code prefix of at most " +
                            std::to_string(kMaxReasonPrefixBytes) +
                            " bytes without control characters");
    }
    filter.reason_prefix = reason->second;
  }
  if (const auto stage = params->find("stage"); stage != params->end()) {
    if (stage->second != "ingest" && stage->second != "etl") {
      return Error(400, "stage= must be ingest or etl");
    }
    filter.stage = stage->second;
  }
  auto lease = pool_.Acquire();
  if (!lease.ok()) return NoDatabase(lease.status());
  auto letters = ops::ListDeadLetters(**lease, filter);
  if (!letters.ok()) {
    lease->Discard();
    return Failure(letters.status());
  }
  return Json(200, DeadLetterListJson(*letters, filter.limit));
}

HttpResponse DashboardApi::DeadLetter(std::string_view id_text, const std::string& query) {
  auto params = ParamsOf(query, {});
  if (!params.ok()) return Failure(params.status());
  std::int64_t id = 0;
  const auto [end, error] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  if (id_text.empty() || error != std::errc() || end != id_text.data() + id_text.size() ||
      id < 1) {
    return Error(400, "a dead letter id is a positive integer, not '" +
                          StorableText(id_text, 40) + "'");
  }
  auto lease = pool_.Acquire();
  if (!lease.ok()) return NoDatabase(lease.status());
  auto letter = ops::GetDeadLetter(**lease, id);
  if (!letter.ok()) {
    if (BreaksSession(letter.status())) lease->Discard();
    return Failure(letter.status());
  }
  return Json(200, DeadLetterJson(*letter));
}

HttpResponse DashboardApi::Check(const std::string& query) {
  auto params = ParamsOf(query, {});
  if (!params.ok()) return Failure(params.status());
  std::unique_lock<std::mutex> running(check_mutex_, std::try_to_lock);
  if (!running.owns_lock()) return Error(503, "a check is running; try again when it is done");
  pipeline::CheckOptions options;
  options.query_kafka = false;
  const auto started = std::chrono::steady_clock::now();
  auto report = pipeline::RunCheck(options_.config, options);
  if (!report.ok()) return Failure(report.status().WithContext("check"));
  JsonWriter json;
  json.BeginObject();
  json.Key("ok").Bool(report->ok());
  json.Key("seconds").Double(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), 3);
  json.Key("checks").BeginArray();
  for (const pipeline::CheckItem& item : report->items) {
    json.BeginObject();
    json.Key("name").String(item.name);
    json.Key("ok").Bool(item.ok);
    json.Key("detail").String(item.detail);
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  return Json(200, json.Take());
}

}  // namespace posflow::serve
