#include "serve/http_server.h"

#include <civetweb.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <optional>
#include <string_view>

#include "ops/http_listener.h"

namespace posflow::serve {
namespace {

// No inline script or style anywhere in web/: the page needs nothing but its own files.
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'";



}  // namespace

struct HttpServer::Impl {
  ~Impl() {
    if (context != nullptr) ops::StopCivetweb(context, wake_address);
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
  std::optional<ops::WakeAddress> wake_address;  // see ~Impl
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
      ops::WakeAddressFor(options.address, impl->port);
  impl->serving.store(true, std::memory_order_release);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() = default;

int HttpServer::port() const { return impl_->port; }

}  // namespace posflow::serve
