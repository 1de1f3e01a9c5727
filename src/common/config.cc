#include "common/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "common/redact.h"
#include "common/secrets.h"

namespace posflow {
namespace {

std::string Trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

std::string EnvName(const std::string& key) {
  std::string name = "POSFLOW_";
  for (char c : key) name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

std::string* Field(Config& config, const std::string& key) {
  if (key == "brokers") return &config.brokers;
  if (key == "topic") return &config.topic;
  if (key == "group") return &config.group;
  if (key == "db") return &config.db;
  if (key == "staging") return &config.staging;
  if (key == "metrics_addr") return &config.metrics_addr;
  if (key == "db_statement_timeout_ms") return &config.db_statement_timeout_ms;
  if (key == "db_idle_in_transaction_timeout_ms") return &config.db_idle_in_transaction_timeout_ms;
  return nullptr;
}

std::string KnownKeysText() {
  std::string text;
  for (const std::string& key : ConfigKeys()) text += key + ", ";
  return text + "kafka, staging_db";
}

Status ParseKafkaOption(const std::string& text, const std::string& origin,
                        std::vector<std::pair<std::string, std::string>>* options) {
  size_t equals = text.find('=');
  if (equals == std::string::npos || equals == 0) {
    return Status::InvalidArgument(origin + ": expected key=value, got '" +
                                   RedactKafkaProperty(text, text) + "'");
  }
  options->emplace_back(Trim(text.substr(0, equals)), text.substr(equals + 1));
  return Status::Ok();
}

Status ApplyYamlFile(const std::string& path, Config* config) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Status::InvalidArgument("config file " + path + ": cannot be read");
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("config file " + path + ": not valid YAML: " + e.what());
  }
  if (root.IsNull()) return Status::Ok();  // an empty file is an empty config
  if (!root.IsMap()) {
    return Status::InvalidArgument("config file " + path + ": expected a mapping of keys");
  }
  bool has_staging = false;
  std::optional<std::string> staging_from_seed;
  for (const auto& entry : root) {
    const std::string key = entry.first.as<std::string>();
    const YAML::Node& value = entry.second;
    if (std::string* field = Field(*config, key)) {
      if (!value.IsScalar()) {
        return Status::InvalidArgument("config file " + path + ": '" + key +
                                       "' must be a single value");
      }
      *field = value.as<std::string>();
      has_staging = has_staging || key == "staging";
    } else if (key == "kafka") {
      if (!value.IsMap()) {
        return Status::InvalidArgument("config file " + path +
                                       ": 'kafka' must map librdkafka property names to values");
      }
      for (const auto& property : value) {
        if (!property.second.IsScalar()) {
          return Status::InvalidArgument("config file " + path + ": kafka." +
                                         property.first.as<std::string>() +
                                         " must be a single value");
        }
        config->kafka_options.emplace_back(property.first.as<std::string>(),
                                           property.second.as<std::string>());
      }
    } else if (key == "staging_db") {
      // The seed's staging_config.yaml shape: staging_db: {host, database}.
      if (!value.IsMap() || !value["host"] || !value["database"]) {
        return Status::InvalidArgument("config file " + path +
                                       ": 'staging_db' needs 'host' and 'database'");
      }
      for (const auto& member : value) {
        const std::string name = member.first.as<std::string>();
        if (name != "host" && name != "database") {
          return Status::InvalidArgument("config file " + path + ": unknown key 'staging_db." +
                                         name + "' (known: host, database)");
        }
      }
      staging_from_seed =
          "mongodb://" + value["host"].as<std::string>() + "/" + value["database"].as<std::string>();
    } else {
      return Status::InvalidArgument("config file " + path + ": unknown key '" + key +
                                     "' (known: " + KnownKeysText() + ")");
    }
  }
  if (staging_from_seed) {
    if (has_staging) {
      return Status::InvalidArgument("config file " + path +
                                     ": give either 'staging' or 'staging_db', not both");
    }
    config->staging = *staging_from_seed;
  }
  return Status::Ok();
}

bool IsValidTopicName(const std::string& name) {
  // Kafka's rule: 1..249 characters of [a-zA-Z0-9._-]; the ".dlq" suffix must still fit.
  if (name.empty() || name.size() + 4 > 249 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '-';
  });
}

bool IsValidHostPort(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) return false;
  const std::string port = address.substr(colon + 1);
  if (port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit)) return false;
  return std::stoi(port) <= 65535;  // at most 5 digits: cannot throw
}

}  // namespace

const std::vector<std::string>& ConfigKeys() {
  static const std::vector<std::string> kKeys = {"brokers",
                                                 "topic",
                                                 "group",
                                                 "db",
                                                 "staging",
                                                 "metrics_addr",
                                                 "db_statement_timeout_ms",
                                                 "db_idle_in_transaction_timeout_ms"};
  return kKeys;
}

Result<std::map<std::string, std::string>> ReadDotenv(const std::string& path) {
  std::map<std::string, std::string> values;
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return values;
  std::ifstream in(path);
  if (!in) return Status::IoError("cannot read " + path);
  std::string line;
  while (std::getline(in, line)) {
    std::string text = Trim(line);
    if (text.empty() || text[0] == '#') continue;
    if (text.rfind("export ", 0) == 0) text = Trim(text.substr(7));
    size_t equals = text.find('=');
    if (equals == std::string::npos) continue;
    std::string key = Trim(text.substr(0, equals));
    std::string value = Trim(text.substr(equals + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    values[key] = value;
  }
  return values;
}

namespace {

// The staging_db section of the seed's staging_config.yaml as a MongoDB URI.
Result<std::string> StagingUriFromYaml(const YAML::Node& root, const std::string& origin) {
  if (!root.IsMap() || !root["staging_db"]) {
    return Status::InvalidArgument(origin + ": expected 'staging_db: {host: ..., database: ...}'");
  }
  for (const auto& entry : root) {
    const std::string key = entry.first.as<std::string>();
    if (key != "staging_db") {
      return Status::InvalidArgument(origin + ": unknown key '" + key + "' (known: staging_db)");
    }
  }
  const YAML::Node staging = root["staging_db"];
  if (!staging.IsMap() || !staging["host"] || !staging["database"] ||
      !staging["host"].IsScalar() || !staging["database"].IsScalar()) {
    return Status::InvalidArgument(origin + ": 'staging_db' needs 'host' and 'database'");
  }
  for (const auto& member : staging) {
    const std::string name = member.first.as<std::string>();
    if (name != "host" && name != "database") {
      return Status::InvalidArgument(origin + ": unknown key 'staging_db." + name +
                                     "' (known: host, database)");
    }
  }
  const std::string host = staging["host"].as<std::string>();
  const std::string database = staging["database"].as<std::string>();
  if (host.empty() || database.empty()) {
    return Status::InvalidArgument(origin + ": 'staging_db' host and database must not be empty");
  }
  // A host may be given as a URI already (the seed's pymongo accepts both).
  const std::string base = host.rfind("mongodb://", 0) == 0 ? host : "mongodb://" + host;
  return base + "/" + database;
}

// Registers every secret the configuration holds with the process's secret registry, so that
// it is masked by value wherever it shows up later (common/secrets.h). The connection strings
// are read by position here; the pg layer adds what libpq's own parser reads from `db`.
void RegisterConfigSecrets(const Config& config,
                           const std::function<const char*(const char*)>& getenv) {
  for (const std::string& url : {config.db, config.staging}) {
    for (const std::string& secret : ConnectionStringSecrets(url)) RegisterSecret(secret);
  }
  RegisterSecret(config.db_password);
  // libpq reads PGPASSWORD itself; posflow never prints it, but a server or library might.
  if (const char* password = getenv("PGPASSWORD"); password != nullptr) RegisterSecret(password);
  for (const auto& [key, value] : config.kafka_options) {
    if (IsSecretKafkaProperty(key)) RegisterSecret(value);
  }
}

}  // namespace

Result<std::string> ReadStagingConfig(const std::string& path) {
  const std::string origin = "staging config " + path;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Status::InvalidArgument(origin + ": cannot be read");
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(origin + ": not valid YAML: " + e.what());
  }
  try {
    return StagingUriFromYaml(root, origin);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(origin + ": " + e.what());
  }
}

Result<Config> LoadConfig(const ConfigSources& sources) {
  auto getenv = sources.getenv ? sources.getenv : [](const char* name) -> const char* {
    return std::getenv(name);
  };
  Config config;

  std::string config_file = sources.config_file;
  if (config_file.empty() && getenv("POSFLOW_CONFIG") != nullptr) {
    config_file = getenv("POSFLOW_CONFIG");
  }
  if (!config_file.empty()) POSFLOW_RETURN_IF_ERROR(ApplyYamlFile(config_file, &config));

  for (const std::string& key : ConfigKeys()) {
    const std::string env_name = EnvName(key);
    if (const char* value = getenv(env_name.c_str()); value != nullptr && *value != '\0') {
      *Field(config, key) = value;
    }
  }

  for (const auto& [key, value] : sources.flags) {
    std::string* field = Field(config, key);
    if (field == nullptr) return Status::Internal("flag for unknown config key '" + key + "'");
    *field = value;
  }
  if (!sources.staging_config_file.empty()) {
    if (sources.flags.count("staging") > 0) {
      return Status::InvalidArgument("give either --staging or --staging-config, not both");
    }
    auto staging = ReadStagingConfig(sources.staging_config_file);
    if (!staging.ok()) return staging.status();
    config.staging = *staging;
  }
  for (const std::string& option : sources.kafka_option_flags) {
    POSFLOW_RETURN_IF_ERROR(ParseKafkaOption(option, "--kafka-opt", &config.kafka_options));
  }

  // The seed's credentials: environment first, then the .env file.
  auto dotenv = ReadDotenv(sources.dotenv_path);
  if (!dotenv.ok()) return dotenv.status();
  auto credential = [&](const char* name) -> std::string {
    if (const char* value = getenv(name); value != nullptr) return value;
    auto it = dotenv->find(name);
    return it == dotenv->end() ? std::string() : it->second;
  };
  config.db_user = credential("PG_USERNAME");
  config.db_password = credential("PG_PASSWORD");

  RegisterConfigSecrets(config, getenv);
  POSFLOW_RETURN_IF_ERROR(config.Validate());
  return config;
}

std::vector<std::string> Config::Topics() const {
  std::vector<std::string> names;
  size_t begin = 0;
  while (true) {
    const size_t comma = topic.find(',', begin);
    names.push_back(Trim(topic.substr(begin, comma == std::string::npos ? comma : comma - begin)));
    if (comma == std::string::npos) return names;
    begin = comma + 1;
  }
}

Status Config::Validate() const {
  if (brokers.empty()) {
    return Status::InvalidArgument("brokers is empty: give --brokers host:port or POSFLOW_BROKERS");
  }
  for (size_t begin = 0; begin <= brokers.size();) {
    size_t end = brokers.find(',', begin);
    if (end == std::string::npos) end = brokers.size();
    const std::string broker = Trim(brokers.substr(begin, end - begin));
    if (!IsValidHostPort(broker)) {
      return Status::InvalidArgument("brokers: '" + broker + "' is not host:port");
    }
    begin = end + 1;
  }
  for (const std::string& name : Topics()) {
    if (!IsValidTopicName(name)) {
      return Status::InvalidArgument("topic: '" + name +
                                     "' is not a Kafka topic name ([a-zA-Z0-9._-], at most 245 "
                                     "characters so that '<topic>.dlq' fits)");
    }
  }
  if (group.empty()) return Status::InvalidArgument("group is empty");
  const bool is_url = db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0;
  const bool is_keywords = db.find('=') != std::string::npos;
  if (!is_url && !is_keywords) {
    return Status::InvalidArgument("db: '" + RedactUrl(db) +
                                   "' is not a PostgreSQL URL (postgresql://host:port/database)");
  }
  if (staging != "postgres" && staging.rfind("mongodb://", 0) != 0) {
    return Status::InvalidArgument("staging: '" + RedactUrl(staging) +
                                   "' must be 'postgres' or a mongodb://host:port/db URI");
  }
  if (metrics_addr != "off" && !IsValidHostPort(metrics_addr)) {
    return Status::InvalidArgument("metrics_addr: '" + metrics_addr +
                                   "' is not host:port (or 'off')");
  }
  for (const auto& [key, value] : kafka_options) {
    if (key.empty()) return Status::InvalidArgument("kafka option with an empty name");
  }
  for (const auto& [key, value] :
       {std::pair<const char*, const std::string*>{"db_statement_timeout_ms",
                                                   &db_statement_timeout_ms},
        {"db_idle_in_transaction_timeout_ms", &db_idle_in_transaction_timeout_ms}}) {
    const bool digits = !value->empty() && value->size() <= 9 &&
                        std::all_of(value->begin(), value->end(),
                                    [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) {
      return Status::InvalidArgument(std::string(key) + ": '" + *value +
                                     "' is not a number of milliseconds (0: no limit)");
    }
  }
  return Status::Ok();
}

}  // namespace posflow
