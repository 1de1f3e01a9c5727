#include "kafka/client_config.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include "common/redact.h"

namespace posflow::kafka {
namespace {

// librdkafka logs at syslog levels; route them into our log instead of raw stderr.
void LogToSpdlog(const rd_kafka_t* /*client*/, int level, const char* facility, const char* text) {
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
  auto set = [&](const std::string& key, const std::string& value) -> Status {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), error, sizeof(error)) !=
        RD_KAFKA_CONF_OK) {
      return Status::InvalidArgument("kafka option " + key + "=" +
                                     RedactKafkaProperty(key, value) + ": " + error);
    }
    return Status::Ok();
  };
  POSFLOW_RETURN_IF_ERROR(set("bootstrap.servers", config.brokers));
  for (const auto& [key, value] : defaults) POSFLOW_RETURN_IF_ERROR(set(key, value));
  for (const auto& [key, value] : config.kafka_options) POSFLOW_RETURN_IF_ERROR(set(key, value));
  rd_kafka_conf_set_log_cb(conf.get(), &LogToSpdlog);
  return conf;
}

}  // namespace posflow::kafka
