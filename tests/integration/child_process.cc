#include "integration/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace posflow::testing {

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& arguments,
                           const std::string& log_path) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) {
      ::dup2(log, STDOUT_FILENO);
      ::dup2(log, STDERR_FILENO);
      ::close(log);
    }
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
}

ChildProcess::~ChildProcess() {
  if (running()) {
    Signal(SIGKILL);
    Wait(std::chrono::seconds(10));
  }
}

bool ChildProcess::running() {
  if (pid_ <= 0 || exit_code_ >= 0) return false;
  return Wait(std::chrono::milliseconds(0)) < 0;
}

void ChildProcess::Signal(int signal_number) {
  if (pid_ > 0 && exit_code_ < 0) ::kill(pid_, signal_number);
}

int ChildProcess::Wait(std::chrono::milliseconds timeout) {
  if (exit_code_ >= 0 || pid_ <= 0) return exit_code_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_code_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

ShellResult RunPosflowShell(const std::string& arguments, const std::string& environment) {
  const std::string command =
      environment + " " + std::string(POSFLOW_BINARY) + " " + arguments + " 2>&1";
  ShellResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t count;
  while ((count = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    result.output.append(buffer, count);
  }
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

int RunToCompletion(const std::string& program, const std::vector<std::string>& arguments,
                    std::chrono::milliseconds timeout, std::string* output) {
  char log_template[] = "/tmp/posflow_test_output_XXXXXX";
  const int descriptor = ::mkstemp(log_template);
  if (descriptor >= 0) ::close(descriptor);
  int code;
  {
    ChildProcess child(program, arguments, log_template);
    code = child.Wait(timeout);
  }
  if (output != nullptr) *output = ReadTextFile(log_template);
  ::unlink(log_template);
  return code;
}

std::string ReadTextFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace posflow::testing
