#include "ops/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/secrets.h"

namespace posflow::ops {
namespace {

struct HttpResponse {
  int status = 0;
  std::string headers;
  std::string body;
};

// One HTTP/1.1 request to 127.0.0.1:`port` over a fresh TCP connection, read to EOF (the server
// closes: no keep-alive). Bounded by 5 s socket timeouts. nullopt when it cannot connect or the
// answer is not HTTP.
std::optional<HttpResponse> HttpRequest(int port, const std::string& method,
                                        const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return std::nullopt;
  timeval timeout{};
  timeout.tv_sec = 5;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(static_cast<std::uint16_t>(port));
  server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&server), sizeof server) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  const std::string request = method + " " + path +
                              " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return std::nullopt;
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;  // EOF, or the timeout
    raw.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const std::size_t header_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || header_end == std::string::npos || raw.size() < 12) {
    return std::nullopt;
  }
  HttpResponse response;
  response.status = std::stoi(raw.substr(9, 3));
  response.headers = raw.substr(0, header_end);
  response.body = raw.substr(header_end + 4);
  return response;
}

std::optional<HttpResponse> HttpGet(int port, const std::string& path) {
  return HttpRequest(port, "GET", path);
}

// True when `text` has a line that is exactly `line`.
bool HasLine(const std::string& text, const std::string& line) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (text.compare(start, end - start, line) == 0 && end - start == line.size()) return true;
    start = end + 1;
  }
  return false;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::unique_ptr<Metrics> StartOnFreePort() {
  auto started = Metrics::Start("127.0.0.1:0");
  EXPECT_TRUE(started.ok()) << started.status().ToString();
  if (!started.ok()) return nullptr;
  EXPECT_GT((*started)->port(), 0);
  return std::move(started).value();
}

TEST(DeadLetterReasonLabel, DropsArrayIndicesAndKeepsTheRest) {
  EXPECT_EQ(DeadLetterReasonLabel("field.missing:items[3].price"), "field.missing:items[].price");
  EXPECT_EQ(DeadLetterReasonLabel("field.type:items[12].quantity"),
            "field.type:items[].quantity");
  EXPECT_EQ(DeadLetterReasonLabel("amount.mismatch:total"), "amount.mismatch:total");
  EXPECT_EQ(DeadLetterReasonLabel("json.syntax"), "json.syntax");
}

TEST(DeadLetterReasonLabel, BoundsOddInput) {
  EXPECT_EQ(DeadLetterReasonLabel(""), "unknown");
  EXPECT_EQ(DeadLetterReasonLabel("field.type:a b\"c\n"), "field.type:a_b_c_");
  EXPECT_EQ(DeadLetterReasonLabel(std::string(500, 'x')).size(), 80u);
}

TEST(Metrics, ServesCountersWithTheirNamesAndValues) {
  auto metrics = StartOnFreePort();
  ASSERT_NE(metrics, nullptr);
  metrics->AddConsumed(7);
  metrics->AddConsumed(3);
  metrics->AddStaged(9);
  metrics->AddDuplicates(1);
  metrics->AddDeadLettered("amount.mismatch:total", 2);
  metrics->AddDeadLettered("field.missing:items[3].price", 1);
  metrics->AddDeadLettered("field.missing:items[7].price", 1);
  metrics->AddLoaded(4, 11);

  const auto response = HttpGet(metrics->port(), "/metrics");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(Contains(response->headers, "text/plain; version=0.0.4")) << response->headers;
  const std::string& body = response->body;
  EXPECT_TRUE(HasLine(body, "# TYPE posflow_messages_consumed_total counter")) << body;
  EXPECT_TRUE(HasLine(body, "posflow_messages_consumed_total 10")) << body;
  EXPECT_TRUE(HasLine(body, "posflow_transactions_staged_total 9")) << body;
  EXPECT_TRUE(HasLine(body, "posflow_duplicates_total 1")) << body;
  EXPECT_TRUE(HasLine(body, "posflow_dead_letters_total{reason=\"amount.mismatch:total\"} 2"))
      << body;
  EXPECT_TRUE(
      HasLine(body, "posflow_dead_letters_total{reason=\"field.missing:items[].price\"} 2"))
      << body;
  EXPECT_TRUE(HasLine(body, "posflow_transactions_loaded_total 4")) << body;
  EXPECT_TRUE(HasLine(body, "posflow_lines_loaded_total 11")) << body;
  EXPECT_TRUE(Contains(body, "posflow_build_info{version=\"")) << body;
  EXPECT_TRUE(Contains(body, "posflow_start_time_seconds ")) << body;
  // What the server sends is what Render() says (nothing changed in between).
  EXPECT_EQ(body, metrics->Render());
}

TEST(Metrics, ServesHistogramsWithTheDocumentedBuckets) {
  auto metrics = StartOnFreePort();
  ASSERT_NE(metrics, nullptr);
  metrics->ObserveBatch(120, 0.004);
  metrics->ObserveEventToWarehouse(0.3);
  metrics->ObserveEventToWarehouse(45);
  metrics->ObserveEtlBatch(500, 0.2);

  const auto response = HttpGet(metrics->port(), "/metrics");
  ASSERT_TRUE(response.has_value());
  const std::string& body = response->body;
  EXPECT_TRUE(HasLine(body, "# TYPE posflow_batch_messages histogram")) << body;
  EXPECT_TRUE(HasLine(body, "posflow_batch_messages_count 1")) << body;
  EXPECT_TRUE(HasLine(body, "posflow_batch_messages_bucket{le=\"100\"} 0")) << body;
  EXPECT_TRUE(HasLine(body, "posflow_batch_messages_bucket{le=\"250\"} 1")) << body;
  EXPECT_TRUE(HasLine(body, "posflow_batch_commit_seconds_bucket{le=\"0.005\"} 1")) << body;
  EXPECT_TRUE(HasLine(body, "posflow_event_to_warehouse_seconds_bucket{le=\"0.01\"} 0")) << body;
  EXPECT_TRUE(HasLine(body, "posflow_event_to_warehouse_seconds_bucket{le=\"0.5\"} 1")) << body;
  EXPECT_TRUE(HasLine(body, "posflow_event_to_warehouse_seconds_bucket{le=\"30\"} 1")) << body;
  EXPECT_TRUE(HasLine(body, "posflow_event_to_warehouse_seconds_bucket{le=\"60\"} 2")) << body;
  EXPECT_TRUE(HasLine(body, "posflow_event_to_warehouse_seconds_count 2")) << body;
  EXPECT_TRUE(HasLine(body, "posflow_etl_batch_seconds_count 1")) << body;
  EXPECT_TRUE(HasLine(body, "posflow_etl_batch_transactions_bucket{le=\"500\"} 1")) << body;
}

TEST(Metrics, PartitionGaugesCarryLabelsAndGoAwayWhenRevoked) {
  auto metrics = StartOnFreePort();
  ASSERT_NE(metrics, nullptr);
  metrics->SetPartitionLag("pos.transactions", 3, 42);
  metrics->SetCommittedOffset("pos.transactions", 3, 1000);
  metrics->SetPartitionLag("pos.transactions", 4, 5);

  auto response = HttpGet(metrics->port(), "/metrics");
  ASSERT_TRUE(response.has_value());
  EXPECT_TRUE(HasLine(response->body,
                      "posflow_partition_lag{partition=\"3\",topic=\"pos.transactions\"} 42"))
      << response->body;
  EXPECT_TRUE(HasLine(response->body,
                      "posflow_committed_offset{partition=\"3\",topic=\"pos.transactions\"} 1000"))
      << response->body;

  metrics->RemovePartition("pos.transactions", 3);
  metrics->RemovePartition("pos.transactions", 99);  // never assigned: no-op
  response = HttpGet(metrics->port(), "/metrics");
  ASSERT_TRUE(response.has_value());
  EXPECT_FALSE(Contains(response->body, "partition=\"3\"")) << response->body;
  EXPECT_TRUE(HasLine(response->body,
                      "posflow_partition_lag{partition=\"4\",topic=\"pos.transactions\"} 5"))
      << response->body;

  // Reassigned later: the series comes back.
  metrics->SetPartitionLag("pos.transactions", 3, 0);
  EXPECT_TRUE(HasLine(metrics->Render(),
                      "posflow_partition_lag{partition=\"3\",topic=\"pos.transactions\"} 0"));
}

TEST(Metrics, HealthzTurns503WithTheReasonAndRecovers) {
  auto metrics = StartOnFreePort();
  ASSERT_NE(metrics, nullptr);
  auto response = HttpGet(metrics->port(), "/healthz");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "ok\n");

  metrics->SetHealth("kafka", true);
  metrics->SetHealth("warehouse", false, "postgres down");
  EXPECT_FALSE(metrics->healthy());
  response = HttpGet(metrics->port(), "/healthz");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->body, "unhealthy: warehouse: postgres down\n");
  EXPECT_TRUE(HasLine(metrics->Render(), "posflow_component_healthy{component=\"warehouse\"} 0"));

  metrics->SetHealth("warehouse", true);
  EXPECT_TRUE(metrics->healthy());
  response = HttpGet(metrics->port(), "/healthz");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "ok\n");
  EXPECT_TRUE(HasLine(metrics->Render(), "posflow_component_healthy{component=\"warehouse\"} 1"));
}

TEST(Metrics, HealthzNamesEveryUnhealthyComponentOnOneLine) {
  auto metrics = Metrics::Start("off");
  ASSERT_TRUE(metrics.ok());
  (*metrics)->SetHealth("warehouse", false, "postgres\ndown");
  (*metrics)->SetHealth("kafka", false, "");
  EXPECT_EQ((*metrics)->HealthText(), "unhealthy: kafka; warehouse: postgres down\n");
}

TEST(Metrics, HealthzReasonsAndLabelsNeverShowARegisteredSecret) {
  RegisterSecret("Healthz-Secret-m1");
  auto metrics = Metrics::Start("off");
  ASSERT_TRUE(metrics.ok());
  (*metrics)->SetHealth("warehouse", false,
                        "invalid percent-encoded token: \"Healthz-Secret-m1\"");
  EXPECT_EQ((*metrics)->HealthText(),
            "unhealthy: warehouse: invalid percent-encoded token: \"****\"\n");
  (*metrics)->AddDeadLettered("made.up:Healthz-Secret-m1", 1);
  (*metrics)->SetPartitionLag("Healthz-Secret-m1", 0, 5);
  const std::string text = (*metrics)->Render();
  EXPECT_EQ(text.find("Healthz-Secret-m1"), std::string::npos) << text;
  EXPECT_TRUE(HasLine(text, "posflow_dead_letters_total{reason=\"made.up:____\"} 1")) << text;
}

TEST(Metrics, HealthzShowsTheAgeOfEachComponentsLastCommit) {
  auto metrics = Metrics::Start("off");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ((*metrics)->HealthText(), "ok\n");  // nothing committed yet: no age to show
  (*metrics)->RecordCommit("ingest");
  (*metrics)->RecordCommit("etl");
  const std::string text = (*metrics)->HealthText();
  EXPECT_EQ(text.rfind("ok\n", 0), 0u) << text;
  EXPECT_NE(text.find("\netl: last commit 0.0 s ago\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\ningest: last commit 0.0 s ago\n"), std::string::npos) << text;
  EXPECT_NE((*metrics)->Render().find("posflow_last_commit_timestamp_seconds{component=\"etl\"}"),
            std::string::npos);
  // Unhealthy stays unhealthy, with the ages after the reason.
  (*metrics)->SetHealth("etl", false, "postgres down");
  EXPECT_EQ((*metrics)->HealthText().rfind("unhealthy: etl: postgres down\n", 0), 0u);
}

TEST(Metrics, AnswersOtherPathsWith404AndOtherMethodsWith405) {
  auto metrics = StartOnFreePort();
  ASSERT_NE(metrics, nullptr);
  auto response = HttpGet(metrics->port(), "/");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 404);
  response = HttpGet(metrics->port(), "/metrics/extra");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 404);
  response = HttpRequest(metrics->port(), "POST", "/metrics");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 405);
  response = HttpRequest(metrics->port(), "HEAD", "/healthz");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "");
}

TEST(Metrics, OffServesNothingButStillCounts) {
  auto metrics = Metrics::Start("off");
  ASSERT_TRUE(metrics.ok()) << metrics.status().ToString();
  EXPECT_EQ((*metrics)->port(), 0);
  (*metrics)->AddConsumed(5);
  (*metrics)->AddDeadLettered("json.syntax", 1);
  const std::string text = (*metrics)->Render();
  EXPECT_TRUE(HasLine(text, "posflow_messages_consumed_total 5")) << text;
  EXPECT_TRUE(HasLine(text, "posflow_dead_letters_total{reason=\"json.syntax\"} 1")) << text;
}

TEST(Metrics, BindingAPortInUseFailsNamingTheAddress) {
  auto first = StartOnFreePort();
  ASSERT_NE(first, nullptr);
  const std::string address = "127.0.0.1:" + std::to_string(first->port());
  auto second = Metrics::Start(address);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kUnavailable);
  EXPECT_TRUE(Contains(second.status().message(), address)) << second.status().ToString();
  EXPECT_TRUE(Contains(second.status().message(), "in use")) << second.status().ToString();
  // The first server is unaffected.
  const auto response = HttpGet(first->port(), "/healthz");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
}

TEST(Metrics, RejectsAnAddressThatIsNotHostPort) {
  for (const std::string address : {"", "9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:http",
                                    "127.0.0.1:70000", ":9464", "[::1]:9464"}) {
    auto metrics = Metrics::Start(address);
    ASSERT_FALSE(metrics.ok()) << address;
    EXPECT_EQ(metrics.status().code(), Status::Code::kInvalidArgument) << address;
  }
}

TEST(Metrics, StopsServingWhenDestroyed) {
  auto metrics = StartOnFreePort();
  ASSERT_NE(metrics, nullptr);
  const int port = metrics->port();
  metrics.reset();
  EXPECT_FALSE(HttpGet(port, "/healthz").has_value());
}

TEST(Metrics, CapsTheNumberOfDeadLetterReasons) {
  auto metrics = Metrics::Start("off");
  ASSERT_TRUE(metrics.ok());
  for (std::size_t i = 0; i < kMaxDeadLetterReasons + 10; ++i) {
    (*metrics)->AddDeadLettered("made.up:" + std::to_string(i), 1);
  }
  const std::string text = (*metrics)->Render();
  std::size_t series = 0;
  for (std::size_t at = text.find("\nposflow_dead_letters_total{"); at != std::string::npos;
       at = text.find("\nposflow_dead_letters_total{", at + 1)) {
    ++series;
  }
  EXPECT_EQ(series, kMaxDeadLetterReasons + 1);  // the cap, plus "other"
  EXPECT_TRUE(HasLine(text, "posflow_dead_letters_total{reason=\"other\"} 10")) << text;
}

TEST(Metrics, CountsFromManyThreadsWhileBeingScraped) {
  auto metrics = StartOnFreePort();
  ASSERT_NE(metrics, nullptr);
  constexpr int kThreads = 4;
  constexpr int kIterations = 1000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < kIterations; ++i) {
        metrics->AddConsumed(1);
        metrics->AddDeadLettered("field.missing:items[" + std::to_string(i) + "].price", 1);
        metrics->SetPartitionLag("pos.transactions", t, i);
        if (i % 10 == 0) metrics->RemovePartition("pos.transactions", t);
        metrics->SetHealth("worker" + std::to_string(t), i % 2 == 0, "odd");
      }
    });
  }
  for (int scrape = 0; scrape < 5; ++scrape) {
    const auto response = HttpGet(metrics->port(), "/metrics");
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
  }
  for (std::thread& thread : threads) thread.join();
  const std::string text = metrics->Render();
  EXPECT_TRUE(HasLine(text, "posflow_messages_consumed_total 4000")) << text;
  EXPECT_TRUE(
      HasLine(text, "posflow_dead_letters_total{reason=\"field.missing:items[].price\"} 4000"))
      << text;
}

}  // namespace
}  // namespace posflow::ops
