#pragma once

#include <atomic>

namespace posflow::cli {

// Installs SIGINT/SIGTERM handlers that set the returned flag (the first signal asks for a
// clean stop; a second one ends the process at once, exit code 130).
const std::atomic<bool>& InstallStopSignals();

}  // namespace posflow::cli
