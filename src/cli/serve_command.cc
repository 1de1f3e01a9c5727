#include "cli/serve_command.h"

#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "cli/common_options.h"
#include "cli/signals.h"
#include "serve/dashboard_api.h"
#include "serve/http_server.h"
#include "serve/partition_watermarks.h"

namespace posflow::cli {
namespace {

// Loopback only by default, on a port none of the neighbours takes (Airflow 8080, Superset
// 8088, Grafana 3000, Prometheus 9090, posflow's metrics 9464).
constexpr const char* kDefaultHttpAddress = "127.0.0.1:8451";

struct ServeFlags {
  ConfigSources sources;
  std::string http_addr = kDefaultHttpAddress;
  int threads = 6;
  int refresh_seconds = 5;
  int freshness_minutes = 5;
};

// "http://host:port/" for people: a wildcard host is reached through loopback.
std::string UrlOf(const std::string& address, int port) {
  std::string host = address.substr(0, address.rfind(':'));
  if (host == "0.0.0.0") host = "127.0.0.1";
  return "http://" + host + ":" + std::to_string(port) + "/";
}

int Serve(const ServeFlags& flags) {
  auto config = LoadConfig(flags.sources);
  if (!config.ok()) return ReportFailure("serve", config.status());
  serve::DashboardOptions options;
  options.config = *config;
  options.idle_connections = static_cast<std::size_t>(flags.threads);
  options.refresh_seconds = flags.refresh_seconds;
  options.freshness_minutes = flags.freshness_minutes;
  auto api = std::make_shared<serve::DashboardApi>(options, serve::KafkaWatermarks(*config));
  // A database not there yet is not fatal: the page says so until it is.
  if (Status primed = api->Prime(); !primed.ok()) {
    std::cerr << "posflow serve: warning: " << primed.message() << std::endl;
  }
  const std::atomic<bool>& stop = InstallStopSignals();
  serve::HttpServerOptions server_options;
  server_options.address = flags.http_addr;
  server_options.threads = flags.threads;
  auto server = serve::HttpServer::Start(
      server_options, [api](const serve::HttpRequest& request) { return api->Handle(request); });
  if (!server.ok()) {
    return ReportFailure("serve", server.status().WithContext("--http-addr"));
  }
  std::cout << "posflow serve: dashboard at " << UrlOf(flags.http_addr, (*server)->port())
            << " (Ctrl-C stops)" << std::endl;
  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server->reset();
  std::cout << "posflow serve: stopped" << std::endl;
  return kExitOk;
}

}  // namespace

void RegisterServeCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* command = app.add_subcommand(
      "serve",
      "The dashboard in the browser: sales (KPIs, days, stores, products, hours, payments, low "
      "stock) and the pipeline's health (lag, throughput, freshness, dead letters), with its "
      "read-only JSON API. Runs until Ctrl-C.");
  AddCommonOptions(command, &flags->sources);
  command
      ->add_option("--http-addr", flags->http_addr,
                   "where to listen, host:port (0.0.0.0: every interface; port 0: any free "
                   "port, printed at start)")
      ->capture_default_str();
  command->add_option("--http-threads", flags->threads, "requests answered at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  command->add_option("--refresh-seconds", flags->refresh_seconds,
                      "how often the page refreshes itself")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  command->add_option("--freshness-minutes", flags->freshness_minutes,
                      "the window of the pipeline's freshness percentiles")
      ->capture_default_str()
      ->check(CLI::Range(1, 1440));
  command->callback([flags, run] { *run = [flags] { return Serve(*flags); }; });
}

}  // namespace posflow::cli
