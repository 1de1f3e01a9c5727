#pragma once

// How posflow starts civetweb, for its two HTTP servers: /metrics and /healthz (ops/metrics.h)
// and the dashboard (serve/http_server.h). One place for the address check, the library's
// process-wide set-up and the start with its error text.

#include <civetweb.h>

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

}  // namespace posflow::ops
