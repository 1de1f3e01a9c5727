#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace posflow::cli {

// Registers `posflow run`: ingest + ETL in one process (the streaming default).
void RegisterRunCommand(CLI::App& app, std::function<int()>* run);

}  // namespace posflow::cli
