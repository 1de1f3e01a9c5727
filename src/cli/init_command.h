#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace posflow::cli {

// Registers `posflow init` on `app`. When the command is chosen, `*run` is set to the function
// that runs it and returns the exit code.
void RegisterInitCommand(CLI::App& app, std::function<int()>* run);

}  // namespace posflow::cli
