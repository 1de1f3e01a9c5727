#include "serve/http_server.h"

#include <civetweb.h>
#include <netdb.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <exception>
#include <future>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>

#include "ops/http_listener.h"

namespace posflow::serve {
namespace {

// No inline script or style anywhere in web/: the page needs nothing but its own files.
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'";



// Where to connect to reach the listening socket (a wildcard host through loopback).
std::optional<std::pair<sockaddr_storage, socklen_t>> WakeAddressFor(std::string host, int port) {
  if (host == "0.0.0.0") host = "127.0.0.1";
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 ||
      found == nullptr) {
    return std::nullopt;
  }
  std::pair<sockaddr_storage, socklen_t> wake{};
  std::memcpy(&wake.first, found->ai_addr, found->ai_addrlen);
  wake.second = found->ai_addrlen;
  freeaddrinfo(found);
  return wake;
}

}  // namespace

struct HttpServer::Impl {
  ~Impl() {
    if (context == nullptr) return;
    // mg_stop joins civetweb's accept thread, which notices the stop flag only between polls of
    // its socket (up to 2 s each): connecting to ourselves ends the poll at once. mg_stop runs
    // on a helper thread while this one knocks (bounded: ~2 s).
    std::promise<void> stopped;
    std::future<void> done = stopped.get_future();
    std::thread stopper;
    try {
      stopper = std::thread([this, &stopped] {
        mg_stop(context);
        stopped.set_value();
      });
    } catch (const std::system_error&) {
      mg_stop(context);
      return;
    }
    for (int knock = 0; knock < 400; ++knock) {
      if (done.wait_for(std::chrono::milliseconds(5)) == std::future_status::ready) break;
      if (!wake_address) continue;
      const int fd = socket(wake_address->first.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) continue;
      (void)connect(fd, reinterpret_cast<const sockaddr*>(&wake_address->first),
                    wake_address->second);
      close(fd);
    }
    stopper.join();
  }

  static int Handle(mg_connection* connection, void* user_data) {
    auto* self = static_cast<Impl*>(user_data);
    const mg_request_info* info = mg_get_request_info(connection);
    HttpRequest request;
    request.method = info->request_method != nullptr ? info->request_method : "";
    request.path = info->local_uri != nullptr ? info->local_uri : "";
    request.query = info->query_string != nullptr ? info->query_string : "";
    if (const char* etag = mg_get_header(connection, "If-None-Match"); etag != nullptr) {
      request.if_none_match = etag;
    }
    HttpResponse response;
    // Nothing may cross into civetweb's C threads: a throw (out of memory, a bug) is a 500.
    try {
      response = self->handler(request);
    } catch (const std::exception& e) {
      spdlog::error("http server: {} {}: {}", request.method, request.path, e.what());
      response = HttpResponse{500, "application/json; charset=utf-8",
                              "{\"error\":\"internal error; see the server's log\"}", {}};
    }

    const std::string length = std::to_string(response.body.size());
    mg_response_header_start(connection, response.status);
    mg_response_header_add(connection, "Content-Type", response.content_type.c_str(), -1);
    mg_response_header_add(connection, "Content-Length", length.c_str(), -1);
    mg_response_header_add(connection, "X-Content-Type-Options", "nosniff", -1);
    mg_response_header_add(connection, "Content-Security-Policy", kContentSecurityPolicy, -1);
    mg_response_header_add(connection, "Referrer-Policy", "no-referrer", -1);
    for (const auto& [name, value] : response.headers) {
      mg_response_header_add(connection, name.c_str(), value.c_str(), -1);
    }
    mg_response_header_send(connection);
    if (request.method != "HEAD" && !response.body.empty() && response.status != 304) {
      mg_write(connection, response.body.data(), response.body.size());
    }
    return response.status;  // civetweb: a handled request returns its HTTP status
  }

  // civetweb's diagnostics: kept for Start's Status until the server is up, then logged.
  static int LogMessage(const mg_connection* connection, const char* message) {
    const mg_context* server = mg_get_context(connection);
    auto* self = server == nullptr ? nullptr : static_cast<Impl*>(mg_get_user_data(server));
    if (self == nullptr || self->serving.load(std::memory_order_acquire)) {
      spdlog::warn("http server: {}", message);
    } else {
      std::lock_guard<std::mutex> lock(self->startup_error_mutex);
      if (self->startup_error.empty()) self->startup_error = message;
    }
    return 1;
  }

  HttpHandler handler;
  mg_callbacks callbacks{};
  mg_context* context = nullptr;
  int port = 0;
  std::optional<std::pair<sockaddr_storage, socklen_t>> wake_address;
  std::atomic<bool> serving{false};
  std::mutex startup_error_mutex;
  std::string startup_error;  // guarded by startup_error_mutex
};

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                      HttpHandler handler) {
  POSFLOW_RETURN_IF_ERROR(ops::CheckHttpAddress(options.address, "HTTP address",
                                                "is not host:port (e.g. 127.0.0.1:8451)",
                                                "127.0.0.1:8451"));
  auto impl = std::make_unique<Impl>();
  impl->handler = std::move(handler);
  impl->callbacks.log_message = &Impl::LogMessage;
  std::string detail;
  impl->context = ops::StartCivetweb(options.address, std::max(1, options.threads),
                                     std::max(1000, options.request_timeout_ms), &impl->callbacks,
                                     impl.get(), &detail);
  if (impl->context == nullptr) {
    {
      std::lock_guard<std::mutex> lock(impl->startup_error_mutex);
      if (!impl->startup_error.empty()) detail = impl->startup_error;
    }
    return Status::Unavailable("cannot serve HTTP on " + options.address + ": " + detail);
  }
  // "/" matches every path: the handler routes.
  mg_set_request_handler(impl->context, "/", &Impl::Handle, impl.get());
  std::array<mg_server_port, 4> ports{};
  const int count =
      mg_get_server_ports(impl->context, static_cast<int>(ports.size()), ports.data());
  if (count < 1 || ports[0].port <= 0) {
    return Status::Internal("HTTP server on " + options.address + " reports no listening port");
  }
  impl->port = ports[0].port;
  impl->wake_address =
      WakeAddressFor(options.address.substr(0, options.address.rfind(':')), impl->port);
  impl->serving.store(true, std::memory_order_release);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() = default;

int HttpServer::port() const { return impl_->port; }

}  // namespace posflow::serve
