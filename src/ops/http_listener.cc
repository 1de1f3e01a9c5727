#include "ops/http_listener.h"

#include <netdb.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <future>
#include <mutex>
#include <system_error>
#include <thread>

namespace posflow::ops {
namespace {

// civetweb keeps process-wide state that mg_init_library sets up; do it once, never undo it
// (servers may start later in the same process).
void InitCivetwebOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mg_init_library(MG_FEATURES_DEFAULT); });
}

// Connects and hangs up at once: the server reads end-of-stream and closes its side.
void KnockOn(const std::optional<WakeAddress>& wake) {
  if (!wake) return;
  const int fd = socket(wake->address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  (void)connect(fd, reinterpret_cast<const sockaddr*>(&wake->address), wake->length);
  close(fd);
}

}  // namespace

Status CheckHttpAddress(std::string_view address, std::string_view what, std::string_view invalid,
                        std::string_view example) {
  const auto refuse = [&](std::string_view why) {
    return Status::InvalidArgument(std::string(what) + " '" + std::string(address) + "'" +
                                   std::string(why));
  };
  const std::string not_host_port = " " + std::string(invalid);
  const std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return refuse(not_host_port);
  if (address.front() == '[') {
    return refuse(": this build's HTTP server (civetweb) has no IPv6; use an IPv4 address such as " +
                  std::string(example));
  }
  const std::string_view port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5) return refuse(not_host_port);
  int value = 0;
  for (const char c : port) {
    if (c < '0' || c > '9') return refuse(not_host_port);
    value = value * 10 + (c - '0');
  }
  return value > 65535 ? refuse(not_host_port) : Status::Ok();
}

mg_context* StartCivetweb(const std::string& address, int threads, int request_timeout_ms,
                          const mg_callbacks* callbacks, void* user_data, std::string* error) {
  InitCivetwebOnce();
  const std::string thread_count = std::to_string(threads);
  const std::string timeout = std::to_string(request_timeout_ms);
  std::array<const char*, 11> configuration = {
      "listening_ports", address.c_str(),
      "num_threads", thread_count.c_str(),
      "request_timeout_ms", timeout.c_str(),
      "enable_keep_alive", "no",
      "enable_directory_listing", "no",
      nullptr};
  mg_init_data init{};
  init.callbacks = callbacks;
  init.user_data = user_data;
  init.configuration_options = configuration.data();
  std::array<char, 256> error_text{};
  unsigned error_code = 0;
  mg_error_data error_data{};
  error_data.code = &error_code;
  error_data.text = error_text.data();
  error_data.text_buffer_size = error_text.size();
  mg_context* context = mg_start2(&init, &error_data);
  if (context == nullptr) {
    *error = error_text[0] != '\0' ? std::string(error_text.data()) : "civetweb failed to start";
  }
  return context;
}

std::optional<WakeAddress> WakeAddressFor(std::string_view address, int port) {
  std::string host(address.substr(0, address.rfind(':')));
  if (host == "0.0.0.0") host = "127.0.0.1";
  addrinfo hints{};
  hints.ai_family = AF_INET;  // civetweb as packaged listens on IPv4 only (CheckHttpAddress)
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (getaddrinfo(host.c_str(), service.c_str(), &hints, &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  WakeAddress wake;
  std::memcpy(&wake.address, found->ai_addr, found->ai_addrlen);
  wake.length = found->ai_addrlen;
  freeaddrinfo(found);
  return wake;
}

void StopCivetweb(mg_context* context, const std::optional<WakeAddress>& wake) {
  std::promise<void> stopped;
  std::future<void> done = stopped.get_future();
  std::thread stopper;
  try {
    stopper = std::thread([context, &stopped] {
      mg_stop(context);
      stopped.set_value();
    });
  } catch (const std::system_error&) {
    mg_stop(context);  // no thread to spare: accept the slow stop
    return;
  }
  for (int knock = 0; knock < 400; ++knock) {
    if (done.wait_for(std::chrono::milliseconds(5)) == std::future_status::ready) break;
    KnockOn(wake);
  }
  stopper.join();
}

}  // namespace posflow::ops
