#include "cli/signals.h"

#include <csignal>
#include <unistd.h>

namespace posflow::cli {
namespace {

std::atomic<bool> stop_requested{false};

extern "C" void OnStopSignal(int) {
  if (stop_requested.exchange(true)) _exit(130);  // second signal: no more waiting
  static constexpr char kMessage[] = "posflow: stopping (again to force)\n";
  (void)!write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
}

}  // namespace

const std::atomic<bool>& InstallStopSignals() {
  struct sigaction action {};
  action.sa_handler = &OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  return stop_requested;
}

}  // namespace posflow::cli
