#include "kafka/client_config.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include "common/redact.h"
#include "common/secrets.h"

namespace posflow::kafka {
namespace {

// librdkafka logs at syslog levels; route them into our log instead of raw stderr. It
// redacts its own configuration dumps, but its text is masked here too, like libpq's.
void LogToSpdlog(const rd_kafka_t* /*client*/, int level, const char* facility,
                 const char* raw_text) {
  const std::string text = RedactSecrets(raw_text == nullptr ? "" : raw_text);
  if (level <= 3) {
    spdlog::error("kafka {}: {}", facility, text);
  } else if (level <= 4) {
    spdlog::warn("kafka {}: {}", facility, text);
  } else if (level <= 6) {
    spdlog::info("kafka {}: {}", facility, text);
  } else {
    spdlog::debug("kafka {}: {}", facility, text);
  }
}

}  // namespace

void ConfDeleter::operator()(rd_kafka_conf_s* conf) const {
  if (conf != nullptr) rd_kafka_conf_destroy(conf);
}

Result<ConfPtr> MakeConf(const Config& config,
                         const std::vector<std::pair<std::string, std::string>>& defaults) {
  ConfPtr conf(rd_kafka_conf_new());
  char error[512];
  std::string applied;  // for the debug line below, secret values masked
  auto set = [&](const std::string& key, const std::string& value) -> Status {
    const rd_kafka_conf_res_t result =
        rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), error, sizeof(error));
    if (result == RD_KAFKA_CONF_UNKNOWN) {
      // A misspelt name ("sasl.pasword") is not known to be secret: its value is not shown.
      return Status::InvalidArgument("kafka option " + key + ": " + RedactSecrets(error));
    }
    if (result != RD_KAFKA_CONF_OK) {
      return Status::InvalidArgument("kafka option " + key + "=" +
                                     RedactKafkaProperty(key, value) + ": " +
                                     RedactSecrets(error));
    }
    applied += (applied.empty() ? "" : ", ") + key + "=" + RedactKafkaProperty(key, value);
    return Status::Ok();
  };
  POSFLOW_RETURN_IF_ERROR(set("bootstrap.servers", config.brokers));
  for (const auto& [key, value] : defaults) POSFLOW_RETURN_IF_ERROR(set(key, value));
  for (const auto& [key, value] : config.kafka_options) POSFLOW_RETURN_IF_ERROR(set(key, value));
  rd_kafka_conf_set_log_cb(conf.get(), &LogToSpdlog);
  spdlog::debug("kafka: client properties: {}", applied);
  return conf;
}

}  // namespace posflow::kafka
