#pragma once

// `posflow serve`'s routes: the dashboard page and its JSON API, read-only.
//
//   GET /                          the page (web/index.html)
//   GET /assets/<path>             web/<path>: script, style, chart library, licence, icon
//                                  (Cache-Control: no-cache with an ETag: a reload costs a 304)
//   GET /api/meta                  version, topics, stores, the range of sale dates, reports
//   GET /api/reports/<name>        ?from=YYYY-MM-DD&to=YYYY-MM-DD&store=S001[&limit=N]: the
//                                  report's JSON, byte for byte what `posflow report <name>
//                                  --format json` prints for the same filters
//   GET /api/pipeline              lag, throughput, freshness, commit ages, quarantine,
//                                  duplicates (serve/pipeline_status.h)
//   GET /api/dead-letters          ?limit=N&reason=PREFIX&stage=ingest|etl: quarantined dead
//                                  letters, newest first (limit 1..500, default 50)
//   GET /api/dead-letters/<id>     one, its payload and key escaped (serve/dead_letter_json.h)
//   GET /api/check                 `posflow check --no-kafka` as JSON (one at a time)
//
// HEAD is answered like GET without a body. Another method: 405 (Allow: GET, HEAD). An unknown
// path: 404. A bad parameter: 400. Errors are {"error": "<one line>"}; PostgreSQL down: 503.
// API answers carry Cache-Control: no-store.
//
// Thread-safety: Handle may be called from any number of threads at once.

#include <memory>
#include <mutex>
#include <string>

#include "common/config.h"
#include "serve/connection_pool.h"
#include "serve/http_server.h"
#include "serve/partition_watermarks.h"
#include "serve/pipeline_status.h"
#include "serve/throughput_window.h"

namespace posflow::serve {

struct DashboardOptions {
  // The database (db) and the pipeline whose lag is shown (brokers, topic, group).
  Config config;
  // Each API statement is cancelled after this long. Default 30 s.
  long statement_timeout_ms = 30000;
  // Connections kept open between requests. Default 6 (one per server thread).
  std::size_t idle_connections = 6;
  // The freshness window of /api/pipeline, in minutes. Default 5.
  int freshness_minutes = 5;
  // How often the page polls, in seconds (told to it by /api/meta). Default 5.
  int refresh_seconds = 5;
};

class DashboardApi {
 public:
  // `watermarks`: where partition ends come from (KafkaWatermarks(config) in production).
  DashboardApi(DashboardOptions options, std::unique_ptr<PartitionWatermarks> watermarks);

  // Takes a first throughput sample, so that rates show from the first page load on.
  // Failure: the database's (the server may still start: the page then shows the error).
  Status Prime();

  HttpResponse Handle(const HttpRequest& request);

 private:
  HttpResponse Asset(const HttpRequest& request, std::string_view path);
  HttpResponse Meta(const std::string& query);
  HttpResponse Report(std::string_view name, const std::string& query);
  HttpResponse Pipeline(const std::string& query);
  HttpResponse DeadLetters(const std::string& query);
  HttpResponse DeadLetter(std::string_view id_text, const std::string& query);
  HttpResponse Check(const std::string& query);

  const DashboardOptions options_;
  const PipelineStatusOptions pipeline_options_;
  ConnectionPool pool_;
  std::unique_ptr<PartitionWatermarks> watermarks_;
  ThroughputWindow throughput_;
  // Held while a check runs: a second request meanwhile is told to wait (503).
  std::mutex check_mutex_;
};

}  // namespace posflow::serve
