#pragma once

// Building librdkafka configurations from posflow's Config (internal to the kafka layer).

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/status.h"

struct rd_kafka_conf_s;  // librdkafka's rd_kafka_conf_t

namespace posflow::kafka {

struct ConfDeleter {
  void operator()(rd_kafka_conf_s* conf) const;
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_s, ConfDeleter>;

// A librdkafka configuration holding bootstrap.servers, posflow's `defaults` for this client
// kind, then the user's kafka_options (which win), and a log callback into posflow's log
// (librdkafka's text masked by value, common/secrets.h). Logs the properties set at debug
// level, secret values (IsSecretKafkaProperty) as "****".
// Failure: InvalidArgument naming the property librdkafka refused (secret values masked; the
// value of a property librdkafka does not know is not shown, since a misspelt secret
// property's name does not say it is one).
Result<ConfPtr> MakeConf(const Config& config,
                         const std::vector<std::pair<std::string, std::string>>& defaults);

}  // namespace posflow::kafka
