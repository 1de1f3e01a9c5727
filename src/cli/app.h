#pragma once

namespace posflow::cli {

// Parses the command line, runs the chosen command and returns the process exit code:
// 0 success, 1 failure at run time, 2 bad usage or configuration, 3 `check` found a difference.
// Never throws.
int Main(int argc, char** argv);

}  // namespace posflow::cli
