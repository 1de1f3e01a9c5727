#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace posflow::cli {

// Registers `posflow etl --once|--follow`: staging -> warehouse + inventory, one transaction per
// batch.
void RegisterEtlCommand(CLI::App& app, std::function<int()>* run);

}  // namespace posflow::cli
