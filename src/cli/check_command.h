#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace posflow::cli {

// Registers `posflow check`: reconciles Kafka offsets, staging, dead letters, facts, aggregates
// and inventory (and producer manifests); exit 3 on any difference.
void RegisterCheckCommand(CLI::App& app, std::function<int()>* run);

}  // namespace posflow::cli
