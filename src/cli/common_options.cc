#include "cli/common_options.h"

#include <iostream>
#include <string>

#include "common/secrets.h"
#include "common/text.h"

namespace posflow::cli {
namespace {

void AddConfigFlag(CLI::App* command, ConfigSources* sources, const std::string& flag,
                   const std::string& key, const std::string& help) {
  const std::string env = "POSFLOW_" + [&] {
    std::string upper;
    for (char c : key) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return upper;
  }();
  command->add_option_function<std::string>(
      flag, [sources, key](const std::string& value) { sources->flags[key] = value; },
      help + " [env " + env + "]");
}

}  // namespace

void AddCommonOptions(CLI::App* command, ConfigSources* sources) {
  command->add_option("--config", sources->config_file,
                      "YAML configuration file [env POSFLOW_CONFIG]");
  AddConfigFlag(command, sources, "--brokers", "brokers",
                "Kafka bootstrap servers (default 127.0.0.1:9092)");
  AddConfigFlag(command, sources, "--topic", "topic",
                "input topic; dead letters go to <topic>.dlq (default PointOfSale)");
  AddConfigFlag(command, sources, "--group", "group", "Kafka consumer group (default posflow)");
  AddConfigFlag(command, sources, "--db", "db",
                "PostgreSQL URL (default postgresql://127.0.0.1:5432/posflow)");
  AddConfigFlag(command, sources, "--staging", "staging",
                "staging backend: postgres, or mongodb://host:port/db (default postgres)");
  command->add_option("--staging-config", sources->staging_config_file,
                      "the seed's staging_config.yaml (staging_db: {host, database}): stage in "
                      "that MongoDB")
      ->type_name("FILE");
  AddConfigFlag(command, sources, "--metrics-addr", "metrics_addr",
                "Prometheus /metrics and /healthz address, or 'off' (default 127.0.0.1:9464)");
  command->add_option("--kafka-opt", sources->kafka_option_flags,
                      "any librdkafka property as key=value (TLS, SASL, ...); repeatable")
      ->type_name("KEY=VALUE");
}

int ReportFailure(const std::string& command, const Status& status) {
  // A message can carry a library's or a server's text: secrets masked, controls escaped.
  std::cerr << "posflow " << command
            << ": error: " << EscapeControlChars(RedactSecrets(status.message())) << std::endl;
  switch (status.code()) {
    case Status::Code::kInvalidArgument:
      return kExitUsage;
    case Status::Code::kAlreadyExists:
      return kExitBusy;
    default:
      return kExitFailure;
  }
}

}  // namespace posflow::cli
