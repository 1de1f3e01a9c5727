#include "cli/app.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "cli/common_options.h"
#include "cli/check_command.h"
#include "cli/dlq_command.h"
#include "cli/etl_command.h"
#include "cli/ingest_command.h"
#include "cli/init_command.h"
#include "cli/inventory_command.h"
#include "cli/maintain_command.h"
#include "cli/offsets_command.h"
#include "cli/produce_command.h"
#include "cli/redacting_sink.h"
#include "cli/report_command.h"
#include "cli/run_command.h"
#include "cli/serve_command.h"
#include "cli/validate_command.h"
#include "common/secrets.h"
#include "common/text.h"
#include "common/version.h"

namespace posflow::cli {
namespace {

// Every line goes through RedactingSink: secrets masked, control characters escaped.
void SetUpLogging(const std::string& level) {
  auto stderr_sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(
      "posflow", std::make_shared<RedactingSink>(std::move(stderr_sink)));
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

// CLI11 messages can span lines; operators get one.
std::string FirstLine(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{
      "posflow: exactly-once retail point-of-sale pipeline\n"
      "(simulator -> Kafka -> staging -> PostgreSQL star-schema warehouse + live inventory)",
      "posflow"};
  app.set_version_flag("--version", std::string("posflow ") + kVersion);
  app.require_subcommand(1);
  app.fallthrough();
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "log detail: trace, debug, info, warn, error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.footer(
      "Exit codes: 0 success, 1 failure at run time, 2 bad usage or configuration, 3 check "
      "found a difference, 4 busy (another ETL or maintain holds the database's lock; retry "
      "later), N nothing to do (etl --once --skip-exit-code N).\nRun 'posflow COMMAND --help' "
      "for a command's options.");

#ifdef POSFLOW_REQUIRES_AVX2
  // The JSON parser was compiled for AVX2; on an older CPU it would die of SIGILL instead.
  if (!__builtin_cpu_supports("avx2")) {
    std::cerr << "posflow: error: this build needs a CPU with AVX2; rebuild with "
                 "-DPOSFLOW_SIMD_HASWELL=OFF"
              << std::endl;
    return kExitFailure;
  }
#endif
  std::function<int()> run;
  RegisterInitCommand(app, &run);
  RegisterIngestCommand(app, &run);
  RegisterEtlCommand(app, &run);
  RegisterRunCommand(app, &run);
  RegisterCheckCommand(app, &run);
  RegisterOffsetsCommand(app, &run);
  RegisterDlqCommand(app, &run);
  RegisterValidateCommand(app, &run);
  RegisterProduceCommand(app, &run);
  RegisterReportCommand(app, &run);
  RegisterInventoryCommand(app, &run);
  RegisterMaintainCommand(app, &run);
  RegisterServeCommand(app, &run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "posflow: error: " << EscapeControlChars(FirstLine(e.what()))
              << " (see posflow --help)" << std::endl;
    return kExitUsage;
  }

  try {
    SetUpLogging(log_level);
    return run ? run() : kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "posflow: error: " << EscapeControlChars(RedactSecrets(FirstLine(e.what())))
              << std::endl;
    return kExitFailure;
  }
}

}  // namespace posflow::cli
