#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace posflow::cli {

// Registers `posflow validate FILE|-`: checks POS messages (NDJSON, or one JSON document),
// prints a verdict per message and a summary; exit 0 only when every message is valid.
void RegisterValidateCommand(CLI::App& app, std::function<int()>* run);

}  // namespace posflow::cli
