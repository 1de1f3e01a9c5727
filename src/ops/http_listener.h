#pragma once

// How posflow starts civetweb, for its two HTTP servers: /metrics and /healthz (ops/metrics.h)
// and the dashboard (serve/http_server.h). One place for the address check, the library's
// process-wide set-up and the start with its error text.

#include <civetweb.h>
#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace posflow::ops {

// Ok when `address` is host:port with a port 0..65535. IPv6 ("[...]:port") is refused: civetweb
// as Debian packages it listens on IPv4 only. The messages name the address as `what` ("HTTP
// address"), say `invalid` after it when it is no host:port ("is not host:port (e.g. ...)"), and
// suggest `example` instead of an IPv6 one.
Status CheckHttpAddress(std::string_view address, std::string_view what, std::string_view invalid,
                        std::string_view example);

// Starts civetweb on `address` (checked) with `threads` workers, `request_timeout_ms`, no
// keep-alive and no directory listing; the callbacks and user data are the caller's. nullptr
// when it could not, with civetweb's reason in `*error` (or a generic one).
mg_context* StartCivetweb(const std::string& address, int threads, int request_timeout_ms,
                          const mg_callbacks* callbacks, void* user_data, std::string* error);

// Where to connect to reach a server started on `address` (host:port as given; a wildcard host
// through loopback) that listens on `port`. nullopt when the host does not resolve.
struct WakeAddress {
  sockaddr_storage address{};
  socklen_t length = 0;
};
std::optional<WakeAddress> WakeAddressFor(std::string_view address, int port);

// Stops a started server without civetweb's usual stall: mg_stop joins the accept thread, which
// looks at its stop flag only between polls of the listening socket (each up to 2 s); mg_stop
// runs on a helper thread while this one connects to `wake` (hanging up at once) until it
// returns, bounded at ~2 s. Without a thread to spare, or a wake address, it just waits.
void StopCivetweb(mg_context* context, const std::optional<WakeAddress>& wake);

}  // namespace posflow::ops
