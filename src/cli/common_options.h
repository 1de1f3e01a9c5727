#pragma once

// The options every command shares (DESIGN.md, "One binary, subcommands"), and the mapping of
// failures to exit codes.

#include <CLI/CLI.hpp>

#include "common/config.h"
#include "common/status.h"

namespace posflow::cli {

// Exit codes, the same for every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;      // failure at run time
inline constexpr int kExitUsage = 2;        // bad usage or configuration
inline constexpr int kExitDifference = 3;   // `check` found a difference
inline constexpr int kExitBusy = 4;         // another process holds the lock this command needs

// Adds --config, --brokers, --topic, --group, --db, --staging, --metrics-addr and
// --kafka-opt to `command`; given values land in `sources` (flags win over everything).
void AddCommonOptions(CLI::App* command, ConfigSources* sources);

// Prints "posflow <command>: error: <message>" on stderr (registered secrets masked, control
// characters escaped: common/secrets.h, common/text.h) and returns the exit code for
// `status`: 2 for InvalidArgument (bad usage or configuration), 4 for AlreadyExists (another
// ETL or maintain holds the database's lock: try again later), 1 otherwise.
int ReportFailure(const std::string& command, const Status& status);

}  // namespace posflow::cli
