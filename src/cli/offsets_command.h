#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace posflow::cli {

// Registers `posflow offsets list|archive`: the offsets ingest stored, and the recovery after
// a topic was deleted and recreated (pipeline/offsets_job.h).
void RegisterOffsetsCommand(CLI::App& app, std::function<int()>* run);

}  // namespace posflow::cli
