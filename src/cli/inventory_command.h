#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace posflow::cli {

// Registers `posflow inventory show|restock|adjust`: the live store inventory
// (warehouse/inventory.h).
void RegisterInventoryCommand(CLI::App& app, std::function<int()>* run);

}  // namespace posflow::cli
