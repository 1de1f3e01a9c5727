#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace posflow::cli {

// Registers `posflow produce`: the transaction simulator, into Kafka or an NDJSON file, with an
// optional manifest of what was sent. When the command is chosen, `*run` is set to the function
// that runs it and returns the exit code (0 also after SIGINT, which stops cleanly; 1 on a
// delivery or I/O failure; 2 on bad options).
void RegisterProduceCommand(CLI::App& app, std::function<int()>* run);

}  // namespace posflow::cli
