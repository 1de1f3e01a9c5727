#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace posflow::cli {

// Registers `posflow report NAME`: the warehouse's reports (warehouse/report.h) as a table, CSV
// or JSON on stdout.
void RegisterReportCommand(CLI::App& app, std::function<int()>* run);

}  // namespace posflow::cli
