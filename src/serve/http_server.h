#pragma once

// A small HTTP/1.1 server for `posflow serve` (civetweb underneath, which appears only in
// http_server.cc): every request goes to one handler function, called on the server's own
// threads. Connections are closed after each response (no keep-alive: civetweb gives each open
// connection a thread, and idle keep-alive connections of a browser would hold them all).

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace posflow::serve {

struct HttpRequest {
  std::string method;         // "GET", "HEAD", "POST", ...
  std::string path;           // URL-decoded, normalised by civetweb ("/api/reports/hourly")
  std::string query;          // raw, after '?', without it; empty when none
  std::string if_none_match;  // the If-None-Match header, empty when absent
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  // Extra headers (Cache-Control, ETag, Allow ...). Content-Type and Content-Length are added
  // by the server, and so are X-Content-Type-Options: nosniff and a Content-Security-Policy that
  // lets a page load only this server's own scripts, styles and images.
  std::vector<std::pair<std::string, std::string>> headers;
};

// Called on a server thread for every request; must be thread-safe and must not throw.
// A HEAD request's response is sent without its body.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  // "host:port": an IPv4 address such as 127.0.0.1 (0.0.0.0: every interface) or a name
  // resolving to one; port 0 picks a free port. Required.
  std::string address;
  // Request threads: how many requests are answered at once (a browser sends up to 6).
  // Default 6; each costs a thread stack.
  int threads = 6;
  // A request taking longer than this to arrive or be answered is dropped. Default 30 s.
  int request_timeout_ms = 30000;
};

class HttpServer {
 public:
  // Starts listening; requests are answered as soon as Start returns.
  // Failure: InvalidArgument for an address that is not host:port (or is IPv6: Debian's
  // civetweb has no IPv6); Unavailable naming the address and the cause when it cannot listen
  // there ("cannot bind to 127.0.0.1:8451: 98 (Address already in use)").
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                   HttpHandler handler);

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  // Stops listening and waits for the requests in progress (typically a few ms).
  ~HttpServer();

  // The port actually bound (useful with port 0).
  int port() const;

 private:
  struct Impl;  // civetweb's context; defined in http_server.cc
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace posflow::serve
