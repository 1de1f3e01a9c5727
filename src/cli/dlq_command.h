#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace posflow::cli {

// Registers `posflow dlq list|show|replay`: the quarantine of refused messages.
void RegisterDlqCommand(CLI::App& app, std::function<int()>* run);

}  // namespace posflow::cli
