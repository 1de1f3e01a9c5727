#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace posflow::cli {

// Registers `posflow maintain`: the periodic upkeep the incremental ETL does not do (coming
// months' partitions and calendar, staging and dead-letter retention, planner statistics).
void RegisterMaintainCommand(CLI::App& app, std::function<int()>* run);

}  // namespace posflow::cli
