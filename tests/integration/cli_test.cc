// The posflow binary as an operator meets it: help, version, exit codes, one-line errors.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include "integration/child_process.h"
#include "integration/stack_fixture.h"

namespace posflow::testing {
namespace {

using RunResult = ShellResult;

RunResult RunPosflow(const std::string& arguments, const std::string& environment = "") {
  return RunPosflowShell(arguments, environment);
}

size_t LineCount(const std::string& text) {
  size_t lines = 0;
  for (char c : text) lines += c == '\n' ? 1 : 0;
  return lines;
}

TEST(Cli, VersionPrintsVersion) {
  RunResult run = RunPosflow("--version");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.output.rfind("posflow 0.", 0), 0u) << run.output;
}

TEST(Cli, HelpListsCommandsAndExitCodes) {
  RunResult run = RunPosflow("--help");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_NE(run.output.find("init"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("Exit codes"), std::string::npos) << run.output;
}

TEST(Cli, InitHelpListsCommonAndOwnOptions) {
  RunResult run = RunPosflow("init --help");
  EXPECT_EQ(run.exit_code, 0);
  for (const char* option : {"--brokers", "--topic", "--group", "--db", "--staging",
                             "--metrics-addr", "--kafka-opt", "--config", "--partitions"}) {
    EXPECT_NE(run.output.find(option), std::string::npos) << option;
  }
}

TEST(Cli, UnknownFlagIsOneLineAndExitTwo) {
  RunResult run = RunPosflow("init --bogus");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(LineCount(run.output), 1u) << run.output;
  EXPECT_NE(run.output.find("--bogus"), std::string::npos) << run.output;
}

TEST(Cli, BadValueIsOneLineAndExitTwo) {
  RunResult run = RunPosflow("init --partitions 0");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(LineCount(run.output), 1u) << run.output;
}

TEST(Cli, UnknownCommandIsExitTwo) {
  RunResult run = RunPosflow("frobnicate");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(LineCount(run.output), 1u) << run.output;
}

TEST(Cli, MissingCommandIsExitTwo) {
  EXPECT_EQ(RunPosflow("").exit_code, 2);
}

TEST(Cli, BadConfigurationIsExitTwoWithoutPassword) {
  RunResult run = RunPosflow("init --db mysql://u:hunter2@h/d");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(LineCount(run.output), 1u) << run.output;
  EXPECT_EQ(run.output.find("hunter2"), std::string::npos) << run.output;
}

TEST(Cli, BadEnvironmentValueIsExitTwo) {
  RunResult run = RunPosflow("init", "POSFLOW_BROKERS=nohostport");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("brokers"), std::string::npos) << run.output;
}

TEST(Cli, UnreachableDatabaseIsExitOneWithAHint) {
  RunResult run = RunPosflow("init --db postgresql://u:hunter2@127.0.0.1:1/x");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(LineCount(run.output), 1u) << run.output;
  EXPECT_NE(run.output.find("scripts/stack up"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("hunter2"), std::string::npos) << run.output;
}

class CliStackTest : public StackTest {};

TEST_F(CliStackTest, InitTwiceSecondSaysNothingToDo) {
  const std::string arguments = "init --db " + config_.db + " --topic " + config_.topic +
                                " --brokers " + config_.brokers;
  RunResult first = RunPosflow(arguments);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("init: done"), std::string::npos) << first.output;
  RunResult second = RunPosflow(arguments);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("nothing to do"), std::string::npos) << second.output;
}

}  // namespace
}  // namespace posflow::testing
