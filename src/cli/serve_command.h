#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace posflow::cli {

// Registers `posflow serve`: the dashboard (serve/dashboard_api.h) over HTTP until SIGINT or
// SIGTERM.
void RegisterServeCommand(CLI::App& app, std::function<int()>* run);

}  // namespace posflow::cli
