#pragma once

// Runs the posflow binary as a child process for the tests that crash, restart and scale it:
// start, signal (SIGKILL for crash tests, SIGTERM for a clean stop) and wait with a deadline.

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace posflow::testing {

class ChildProcess {
 public:
  // Starts `program` with `arguments`; stdout and stderr go to `log_path` (appended).
  ChildProcess(const std::string& program, const std::vector<std::string>& arguments,
               const std::string& log_path);
  ~ChildProcess();  // SIGKILLs a child still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void Signal(int signal_number);
  // The exit code (128 + signal when killed); -1 if still running at the deadline.
  int Wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// Runs `posflow <arguments>` through the shell (so `environment` can prefix variables), with
// stdout and stderr captured together.
struct ShellResult {
  int exit_code = -1;
  std::string output;
};
ShellResult RunPosflowShell(const std::string& arguments, const std::string& environment = "");

// The whole content of the file at `path` ("" when it cannot be read).
std::string ReadTextFile(const std::string& path);

// Runs a program to completion (bounded by `timeout`) and returns its exit code, capturing
// stdout+stderr into `output`.
int RunToCompletion(const std::string& program, const std::vector<std::string>& arguments,
                    std::chrono::milliseconds timeout, std::string* output);

}  // namespace posflow::testing
