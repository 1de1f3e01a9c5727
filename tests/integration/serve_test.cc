// `posflow serve` (serve/dashboard_api.h, serve/http_server.h) against the real PostgreSQL of
// the local stack, over real HTTP on a free port: the reports byte for byte as `posflow report
// --format json` prints them, the kpis report computed by hand on the hand-made warehouse of
// report_fixture.h, the parameter checks (400), methods (405) and paths (404), the embedded
// assets, the pipeline's state with Kafka unreachable, the dead letters newest first and one
// with its bytes escaped, the check on demand, and the command itself.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "integration/child_process.h"
#include "integration/report_fixture.h"
#include "serve/dashboard_api.h"
#include "serve/http_server.h"
#include "serve/web_assets.h"

namespace posflow::testing {
namespace {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  // The header's value, "" when absent. `name` in lower case.
  std::string Header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// One HTTP/1.0 exchange with 127.0.0.1:`port` (the server closes the connection after it).
HttpReply Fetch(int port, const std::string& method, const std::string& target,
                const std::string& extra_headers = "") {
  HttpReply reply;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    ADD_FAILURE() << "cannot connect to port " << port;
    return reply;
  }
  const std::string request =
      method + " " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n" + extra_headers + "\r\n";
  EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  std::string response;
  char buffer[8192];
  ssize_t count;
  while ((count = ::recv(fd, buffer, sizeof(buffer), 0)) > 0) {
    response.append(buffer, static_cast<std::size_t>(count));
  }
  ::close(fd);
  const std::size_t head_end = response.find("\r\n\r\n");
  if (head_end == std::string::npos) {
    ADD_FAILURE() << "no HTTP response head: " << response.substr(0, 200);
    return reply;
  }
  reply.status = std::stoi(response.substr(response.find(' ') + 1, 3));
  std::size_t line_start = response.find("\r\n") + 2;
  while (line_start < head_end) {
    const std::size_t line_end = response.find("\r\n", line_start);
    const std::string line = response.substr(line_start, line_end - line_start);
    const std::size_t colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    line_start = line_end + 2;
  }
  reply.body = response.substr(head_end + 4);
  return reply;
}

// Kafka as the tests want it: unreachable, or with fixed partition ends.
class FakeWatermarks : public serve::PartitionWatermarks {
 public:
  explicit FakeWatermarks(std::vector<std::int64_t> ends) : ends_(std::move(ends)) {}

  Result<std::int32_t> PartitionCount(const std::string&) override {
    if (ends_.empty()) return Status::Unavailable("broker 127.0.0.1:1 is down (injected)");
    return static_cast<std::int32_t>(ends_.size());
  }
  Result<std::int64_t> HighWatermark(const std::string&, std::int32_t partition) override {
    return ends_.at(static_cast<std::size_t>(partition));
  }

 private:
  std::vector<std::int64_t> ends_;  // empty: unreachable
};

class ServeTest : public ReportFixture {
 protected:
  void SetUp() override {
    ReportFixture::SetUp();
    if (IsSkipped() || HasFailure()) return;
    Exec(HandMadeWarehouseSql());
  }

  // Starts the API and its server; Kafka answers with `ends` (empty: unreachable).
  void StartServer(std::vector<std::int64_t> ends = {}) {
    serve::DashboardOptions options;
    options.config = config_;
    api_ = std::make_shared<serve::DashboardApi>(
        options, std::make_unique<FakeWatermarks>(std::move(ends)));
    ASSERT_TRUE(api_->Prime().ok());
    serve::HttpServerOptions server_options;
    server_options.address = "127.0.0.1:0";
    auto api = api_;
    auto server = serve::HttpServer::Start(
        server_options, [api](const serve::HttpRequest& request) { return api->Handle(request); });
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }

  HttpReply Get(const std::string& target, const std::string& headers = "") {
    return Fetch(server_->port(), "GET", target, headers);
  }

  // `posflow report <arguments> --format json`'s stdout.
  std::string CliJson(std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), "report");
    arguments.insert(arguments.end(), {"--format", "json"});
    const PosflowRun run = Posflow(arguments);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return run.out;
  }

  std::shared_ptr<serve::DashboardApi> api_;
  std::unique_ptr<serve::HttpServer> server_;
};

TEST_F(ServeTest, ReportsAreByteForBytePosflowReportJson) {
  StartServer();
  struct Filter {
    std::string query;
    std::vector<std::string> flags;
  };
  const std::vector<Filter> filters = {
      {"", {}},
      {"?from=2024-02-01&to=2024-02-29", {"--from", "2024-02-01", "--to", "2024-02-29"}},
      {"?store=S001", {"--store", "S001"}},
      {"?from=2024-01-15&to=2024-02-04&store=S002",
       {"--from", "2024-01-15", "--to", "2024-02-04", "--store", "S002"}},
      {"?to=2024-02-03", {"--to", "2024-02-03"}},
      {"?from=2025-01-01&to=2025-01-31", {"--from", "2025-01-01", "--to", "2025-01-31"}},
  };
  for (const char* name : {"sales-by-store", "sales-by-day", "top-products", "hourly", "basket",
                           "payment-mix", "kpis"}) {
    for (const Filter& filter : filters) {
      std::vector<std::string> flags = {name};
      flags.insert(flags.end(), filter.flags.begin(), filter.flags.end());
      const HttpReply reply = Get("/api/reports/" + std::string(name) + filter.query);
      EXPECT_EQ(reply.status, 200) << name << filter.query << ": " << reply.body;
      EXPECT_EQ(reply.Header("content-type"), "application/json; charset=utf-8");
      EXPECT_EQ(reply.Header("cache-control"), "no-store");
      EXPECT_EQ(reply.body, CliJson(flags)) << name << filter.query;
    }
  }
  EXPECT_EQ(Get("/api/reports/low-stock").body, CliJson({"low-stock"}));
  EXPECT_EQ(Get("/api/reports/low-stock?store=S002").body,
            CliJson({"low-stock", "--store", "S002"}));
  EXPECT_EQ(Get("/api/reports/top-products?limit=2&store=S001").body,
            CliJson({"top-products", "--limit", "2", "--store", "S001"}));
}

TEST_F(ServeTest, KpisGiveThePeriodAndThePreviousOneWithReturnsComputedByHand) {
  StartServer();
  // 2024-02-03..04: T3, T4, T5 and the return T6 (P0002 -1 x 3.49); 53.02 / 4 = 13.255 -> 13.26.
  // The two days before: nothing.
  const std::string february =
      "[\n"
      "  {\"period\": \"current\", \"first_date\": \"2024-02-03\", \"last_date\": "
      "\"2024-02-04\", \"transactions\": 4, \"items\": 13, \"total\": 53.02, "
      "\"average_receipt\": 13.26, \"returned_items\": 1, \"returned_amount\": 3.49},\n"
      "  {\"period\": \"previous\", \"first_date\": \"2024-02-01\", \"last_date\": "
      "\"2024-02-02\", \"transactions\": 0, \"items\": 0, \"total\": 0.00, "
      "\"average_receipt\": null, \"returned_items\": 0, \"returned_amount\": 0.00}\n"
      "]\n";
  EXPECT_EQ(Get("/api/reports/kpis?from=2024-02-03&to=2024-02-04").body, february);
  EXPECT_EQ(CliJson({"kpis", "--from", "2024-02-03", "--to", "2024-02-04"}), february);
  // 20 days from 2024-01-16; the 20 before end on 2024-01-15: T1, T2 (37.83 / 2 -> 18.92).
  EXPECT_EQ(Get("/api/reports/kpis?from=2024-01-16&to=2024-02-04").body,
            "[\n"
            "  {\"period\": \"current\", \"first_date\": \"2024-01-16\", \"last_date\": "
            "\"2024-02-04\", \"transactions\": 4, \"items\": 13, \"total\": 53.02, "
            "\"average_receipt\": 13.26, \"returned_items\": 1, \"returned_amount\": 3.49},\n"
            "  {\"period\": \"previous\", \"first_date\": \"2023-12-27\", \"last_date\": "
            "\"2024-01-15\", \"transactions\": 2, \"items\": 4, \"total\": 37.83, "
            "\"average_receipt\": 18.92, \"returned_items\": 0, \"returned_amount\": 0.00}\n"
            "]\n");
  // S001 never had a return; its old version's sale (T1) counts for it.
  EXPECT_EQ(Get("/api/reports/kpis?from=2024-01-15&to=2024-01-15&store=S001").body,
            "[\n"
            "  {\"period\": \"current\", \"first_date\": \"2024-01-15\", \"last_date\": "
            "\"2024-01-15\", \"transactions\": 1, \"items\": 3, \"total\": 32.19, "
            "\"average_receipt\": 32.19, \"returned_items\": 0, \"returned_amount\": 0.00},\n"
            "  {\"period\": \"previous\", \"first_date\": \"2024-01-14\", \"last_date\": "
            "\"2024-01-14\", \"transactions\": 0, \"items\": 0, \"total\": 0.00, "
            "\"average_receipt\": null, \"returned_items\": 0, \"returned_amount\": 0.00}\n"
            "]\n");
  // Unbounded: all seven receipts, no previous period.
  EXPECT_EQ(Get("/api/reports/kpis").body,
            "[\n"
            "  {\"period\": \"current\", \"first_date\": null, \"last_date\": null, "
            "\"transactions\": 7, \"items\": 29, \"total\": 111.91, \"average_receipt\": 15.99, "
            "\"returned_items\": 1, \"returned_amount\": 3.49}\n"
            "]\n");
}

TEST_F(ServeTest, RejectsBadParametersWith400AndAOneLineJsonError) {
  StartServer();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/api/reports/sales", "unknown report 'sales'"},
      {"/api/reports/hourly?from=2024-02-30", "from='2024-02-30' is not a date"},
      {"/api/reports/hourly?from=2024-03-01&to=2024-02-01", "is after to=2024-02-01"},
      {"/api/reports/hourly?store=S0%01", "control character"},
      {"/api/reports/hourly?store=" + std::string(65, 'S'), "over 64 bytes"},
      {"/api/reports/hourly?store=S999", "unknown store S999"},
      {"/api/reports/hourly?store=a&store=b", "given twice"},
      {"/api/reports/hourly?from=%zz", "malformed %-escape"},
      {"/api/reports/low-stock?to=2024-01-01", "from/to do not apply"},
      {"/api/reports/basket?limit=3", "unknown parameter 'limit'"},
      {"/api/pipeline?x=1", "unknown parameter 'x'"},
      {"/api/dead-letters?limit=0", "limit='0' is not an integer in 1..500"},
      {"/api/dead-letters?stage=load", "stage= must be ingest or etl"},
      {"/api/dead-letters/abc", "positive integer"},
      {"/api/dead-letters/0", "positive integer"},
  };
  for (const auto& [target, message] : cases) {
    const HttpReply reply = Get(target);
    EXPECT_EQ(reply.status, 400) << target << ": " << reply.body;
    EXPECT_EQ(reply.Header("content-type"), "application/json; charset=utf-8");
    EXPECT_EQ(reply.body.rfind("{\"error\":\"", 0), 0u) << reply.body;
    EXPECT_NE(reply.body.find(message), std::string::npos) << target << ": " << reply.body;
    EXPECT_EQ(reply.body.find('\n'), reply.body.size() - 1) << "one line: " << reply.body;
  }
}

TEST_F(ServeTest, AnswersGetAndHeadOnly405OtherwiseAnd404ForUnknownPaths) {
  StartServer();
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH"}) {
    const HttpReply reply = Fetch(server_->port(), method, "/api/reports/hourly");
    EXPECT_EQ(reply.status, 405) << method;
    EXPECT_EQ(reply.Header("allow"), "GET, HEAD");
    EXPECT_NE(reply.body.find("\"error\""), std::string::npos);
  }
  const HttpReply head = Fetch(server_->port(), "HEAD", "/api/reports/hourly");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  EXPECT_NE(head.Header("content-length"), "0");
  for (const char* path : {"/api/nothing", "/api", "/api/reports", "/index.html", "/assets/nope.js",
                           "/assets/../CMakeLists.txt", "/etc/passwd"}) {
    const HttpReply reply = Get(path);
    EXPECT_EQ(reply.status, 404) << path;
    EXPECT_EQ(reply.body.rfind("{\"error\":", 0), 0u) << path << ": " << reply.body;
  }
}

TEST_F(ServeTest, ServesTheEmbeddedPageAndAssetsWithTheirTypesAndETags) {
  StartServer();
  const HttpReply page = Get("/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(page.Header("cache-control"), "no-cache");
  EXPECT_NE(page.body.find("/assets/vendor/chart.umd.js"), std::string::npos);
  EXPECT_NE(page.Header("content-security-policy").find("default-src 'self'"), std::string::npos);
  EXPECT_EQ(page.Header("x-content-type-options"), "nosniff");
  const std::map<std::string, std::string> types = {
      {"/assets/app.js", "text/javascript; charset=utf-8"},
      {"/assets/style.css", "text/css; charset=utf-8"},
      {"/assets/vendor/chart.umd.js", "text/javascript; charset=utf-8"},
      {"/assets/vendor/chart.js-LICENSE.md", "text/markdown; charset=utf-8"},
      {"/assets/favicon.svg", "image/svg+xml"},
  };
  for (const auto& [path, type] : types) {
    const HttpReply reply = Get(path);
    EXPECT_EQ(reply.status, 200) << path;
    EXPECT_EQ(reply.Header("content-type"), type) << path;
    const serve::WebAsset* asset = serve::FindWebAsset(path.substr(std::string("/assets/").size()));
    ASSERT_NE(asset, nullptr) << path;
    EXPECT_EQ(reply.body, asset->bytes) << path;
    EXPECT_EQ(reply.Header("etag"), asset->etag);
    const HttpReply again = Get(path, "If-None-Match: " + reply.Header("etag") + "\r\n");
    EXPECT_EQ(again.status, 304) << path;
    EXPECT_EQ(again.body, "");
  }
  EXPECT_NE(Get("/assets/vendor/chart.umd.js").body.find("Chart.js v4.6.2"), std::string::npos);
  EXPECT_NE(Get("/assets/vendor/chart.js-LICENSE.md").body.find("The MIT License"),
            std::string::npos);
}

TEST_F(ServeTest, MetaListsTheStoresTheSaleDatesAndTheReports) {
  StartServer();
  const HttpReply reply = Get("/api/meta");
  EXPECT_EQ(reply.status, 200);
  EXPECT_NE(reply.body.find("\"first_sale_date\":\"2024-01-15\",\"last_sale_date\":\"2024-03-01\""),
            std::string::npos)
      << reply.body;
  EXPECT_NE(reply.body.find("{\"store_id\":\"S001\",\"name\":\"Boreal Downtown\"},"
                            "{\"store_id\":\"S002\",\"name\":\"Boreal \\\"Quai\\\", Québec\"}"),
            std::string::npos)
      << reply.body;
  EXPECT_NE(reply.body.find("{\"name\":\"kpis\""), std::string::npos);
}

TEST_F(ServeTest, PipelineSaysKafkaIsUnreachableInsteadOfFailing) {
  Exec("insert into ops.kafka_offsets (consumer_group, topic, kafka_partition, next_offset) "
       "values ('" + config_.group + "', '" + config_.topic + "', 0, 120), ('" + config_.group +
       "', '" + config_.topic + "', 1, 80), ('other_group', '" + config_.topic + "', 0, 5);"
       "insert into ops.etl_watermark (pipeline, loaded_transactions) values ('one-hop', 190);"
       "insert into ops.duplicate_message (topic, kafka_partition, kafka_offset, transaction_id, "
       "  total) values ('" + config_.topic + "', 0, 3, 'T1', 32.19);"
       "insert into ops.dead_letter (topic, kafka_partition, kafka_offset, payload, reasons, "
       "  details, replayed_at) values "
       "  ('" + config_.topic + "', 0, 4, 'x', '{json.syntax}', 'd', null),"
       "  ('" + config_.topic + "', 0, 5, 'y', '{field.missing:items[3].price,json.syntax}', 'd', "
       "   null),"
       "  ('" + config_.topic + "', 0, 6, 'z', '{field.missing:items[0].price}', 'd', null),"
       "  ('" + config_.topic + "', 0, 7, 'w', '{quantity.zero}', 'd', now());");
  StartServer();
  const HttpReply reply = Get("/api/pipeline");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const std::string& body = reply.body;
  EXPECT_NE(body.find("\"kafka\":{\"reachable\":false,\"error\":\"broker 127.0.0.1:1 is down "
                      "(injected)\"}"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("{\"topic\":\"" + config_.topic +
                      "\",\"partition\":0,\"next_offset\":120,\"high_watermark\":null,"
                      "\"lag\":null,"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("\"total_lag\":null"), std::string::npos);
  EXPECT_NE(body.find("\"consumed\":200,\"loaded\":190"), std::string::npos) << body;
  EXPECT_NE(body.find("\"duplicates\":1"), std::string::npos);
  // Indices removed; the replayed one is not counted.
  EXPECT_NE(body.find("\"dead_letters\":{\"quarantined\":3,\"total\":4,\"by_reason\":["
                      "{\"reason\":\"field.missing:items[].price\",\"count\":2},"
                      "{\"reason\":\"json.syntax\",\"count\":2}]}"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("\"ingest_age_seconds\":"), std::string::npos);
}

TEST_F(ServeTest, PipelineShowsTheLagAgainstThePartitionEnds) {
  Exec("insert into ops.kafka_offsets (consumer_group, topic, kafka_partition, next_offset) "
       "values ('" + config_.group + "', '" + config_.topic + "', 0, 120), ('" + config_.group +
       "', '" + config_.topic + "', 1, 80);");
  StartServer({150, 80, 7});
  const std::string body = Get("/api/pipeline").body;
  EXPECT_NE(body.find("\"kafka\":{\"reachable\":true,\"error\":null}"), std::string::npos) << body;
  EXPECT_NE(body.find("\"partition\":0,\"next_offset\":120,\"high_watermark\":150,\"lag\":30"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("\"partition\":1,\"next_offset\":80,\"high_watermark\":80,\"lag\":0"),
            std::string::npos);
  // Nothing consumed yet from partition 2: all of it is lag.
  EXPECT_NE(body.find("\"partition\":2,\"next_offset\":null,\"high_watermark\":7,\"lag\":7,"
                      "\"updated_at\":null"),
            std::string::npos);
  EXPECT_NE(body.find("\"total_lag\":37"), std::string::npos);
}

TEST_F(ServeTest, DeadLettersComeNewestFirstAndOneShowsItsBytesEscaped) {
  Exec("insert into ops.dead_letter (topic, kafka_partition, kafka_offset, message_key, payload, "
       "reasons, details) values "
       "('PointOfSale', 1, 10, 'S001', '{\"a\":1}', '{amount.mismatch:total}', 'one'),"
       "('PointOfSale', 2, 11, null, '\\x3c7363726970743e0001ff0a7b', '{json.syntax}', 'two'),"
       "('PointOfSale', 2, 12, 'S002', 'x', '{field.missing:items}', 'three');");
  StartServer();
  const std::string list = Get("/api/dead-letters").body;
  const std::size_t third = list.find("\"id\":3,");
  const std::size_t second = list.find("\"id\":2,");
  const std::size_t first = list.find("\"id\":1,");
  ASSERT_NE(first, std::string::npos) << list;
  EXPECT_LT(third, second);
  EXPECT_LT(second, first);
  EXPECT_NE(list.find("\"topic\":\"PointOfSale\",\"partition\":2,\"offset\":11,"),
            std::string::npos);
  const std::string limited = Get("/api/dead-letters?limit=1&reason=json").body;
  EXPECT_NE(limited.find("\"id\":2,"), std::string::npos) << limited;
  EXPECT_EQ(limited.find("\"id\":3,"), std::string::npos);

  const HttpReply one = Get("/api/dead-letters/2");
  EXPECT_EQ(one.status, 200);
  // <script>, NUL, SOH, a byte that is not UTF-8, a newline, {: escaped as `dlq show` prints.
  EXPECT_NE(one.body.find("\"payload\":\"<script>\\\\x00\\\\x01\\\\xff\\n{\""), std::string::npos)
      << one.body;
  EXPECT_NE(one.body.find("\"reasons\":[\"json.syntax\"]"), std::string::npos);
  EXPECT_NE(one.body.find("\"details\":\"two\""), std::string::npos);
  EXPECT_NE(one.body.find("\"bytes\":13,\"key\":\"\""), std::string::npos) << one.body;
  const PosflowRun shown = Posflow({"dlq", "show", "2"});
  EXPECT_NE(shown.out.find("<script>\\x00\\x01\\xff\n{"), std::string::npos) << shown.out;
  EXPECT_EQ(Get("/api/dead-letters/99").status, 404);
}

TEST_F(ServeTest, CheckRunsOnDemandAndGivesAVerdictPerCheck) {
  StartServer();
  const HttpReply reply = Get("/api/check");
  EXPECT_EQ(reply.status, 200) << reply.body;
  for (const char* name : {"kafka-offsets", "staging", "watermark", "facts", "aggregates",
                           "inventory"}) {
    EXPECT_NE(reply.body.find("{\"name\":\"" + std::string(name) + "\",\"ok\":"),
              std::string::npos)
        << name << ": " << reply.body;
  }
  EXPECT_EQ(reply.body.rfind("{\"ok\":", 0), 0u);
}

TEST_F(ServeTest, AnUnreachableDatabaseIs503NotACrash) {
  config_.db = WithDatabase(config_.db, "posflow_test_no_such_database");
  serve::DashboardOptions options;
  options.config = config_;
  serve::DashboardApi api(options, std::make_unique<FakeWatermarks>(std::vector<std::int64_t>{}));
  EXPECT_FALSE(api.Prime().ok());
  serve::HttpRequest request;
  request.method = "GET";
  request.path = "/api/reports/hourly";
  const serve::HttpResponse response = api.Handle(request);
  EXPECT_EQ(response.status, 503) << response.body;
  EXPECT_NE(response.body.find("posflow_test_no_such_database"), std::string::npos);
  request.path = "/";
  EXPECT_EQ(api.Handle(request).status, 200);  // the page still loads, and says what is wrong
}

TEST_F(ServeTest, CommandPrintsItsUrlServesAndStopsOnSigterm) {
  const std::string log = ::testing::TempDir() + "/serve_command_" + std::to_string(::getpid());
  ChildProcess serve(POSFLOW_BINARY,
                     {"serve", "--db", config_.db, "--topic", config_.topic, "--group",
                      config_.group, "--brokers", "127.0.0.1:1", "--http-addr", "127.0.0.1:0"},
                     log);
  int port = 0;
  for (int attempt = 0; attempt < 100 && port == 0; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const std::string text = ReadTextFile(log);
    const std::size_t at = text.find("dashboard at http://127.0.0.1:");
    if (at != std::string::npos) port = std::stoi(text.substr(at + 30));
  }
  ASSERT_NE(port, 0) << ReadTextFile(log);
  EXPECT_EQ(Fetch(port, "GET", "/api/reports/sales-by-store").body, CliJson({"sales-by-store"}));
  serve.Signal(SIGTERM);
  EXPECT_EQ(serve.Wait(std::chrono::seconds(10)), 0) << ReadTextFile(log);
  ::unlink(log.c_str());

  const PosflowRun bad = Posflow({"serve", "--http-addr", "localhost"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("is not host:port"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace posflow::testing
