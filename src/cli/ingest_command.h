#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace posflow::cli {

// Registers `posflow ingest`: Kafka -> staging, exactly once, until stopped (SIGINT/SIGTERM).
void RegisterIngestCommand(CLI::App& app, std::function<int()>* run);

}  // namespace posflow::cli
