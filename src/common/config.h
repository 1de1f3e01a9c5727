#pragma once

// posflow's configuration and where it comes from.
//
// Precedence, highest first: command-line flags > POSFLOW_* environment > the YAML file given
// by --config (or POSFLOW_CONFIG) > defaults that point at the local stack. The seed's `.env`
// (PG_USERNAME, PG_PASSWORD) supplies PostgreSQL credentials when the URL names none.
// A key this code does not know is an error wherever it appears, never silently ignored.

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace posflow {

struct Config {
  // Kafka bootstrap servers, "host:port[,host:port...]". Default: the local stack's broker.
  std::string brokers = "127.0.0.1:9092";
  // Input topic, or several separated by commas (ingest consumes them all). Dead letters go to
  // "<topic>.dlq" of the topic they came from. Default "PointOfSale" (the seed's topic).
  std::string topic = "PointOfSale";
  // Kafka consumer group of ingest. Default "posflow".
  std::string group = "posflow";
  // PostgreSQL connection URL (or libpq keyword string). Default: the local stack's database.
  std::string db = "postgresql://127.0.0.1:5432/posflow";
  // PostgreSQL user and password from PG_USERNAME / PG_PASSWORD, used only when `db` names no
  // user. Empty: libpq's own defaults (the OS user, ~/.pgpass, PGPASSWORD).
  std::string db_user;
  std::string db_password;
  // Staging backend: "postgres" (tables in `db`), or a "mongodb://host:port/db" URI.
  std::string staging = "postgres";
  // PostgreSQL session limits of the pipeline's connections, in milliseconds (0: none), so that
  // a zombie's open transaction or a hung statement cannot hold the locks a new owner needs
  // for long. statement_timeout: any one statement; default 300 000 (5 min: an ETL batch
  // statement takes well under a second). idle_in_transaction_session_timeout: a session idle
  // inside a transaction is ended; default 60 000. A `options=` parameter in `db` replaces
  // both. (TCP keepalives are on: idle 30 s, interval 10 s, 3 probes; keepalives_* parameters
  // in `db` override them.)
  std::string db_statement_timeout_ms = "300000";
  std::string db_idle_in_transaction_timeout_ms = "60000";
  // Address of the Prometheus /metrics and /healthz endpoint, "host:port"; "off" disables it.
  std::string metrics_addr = "127.0.0.1:9464";
  // Extra librdkafka properties (TLS, SASL, tuning), applied in this order after posflow's own.
  std::vector<std::pair<std::string, std::string>> kafka_options;

  // The input topics (`topic` split at commas).
  std::vector<std::string> Topics() const;
  // The dead-letter topic of the first input topic: "<topic>.dlq".
  std::string DlqTopic() const { return Topics().front() + ".dlq"; }

  // Checks every field for shape only (no I/O): a bad value is InvalidArgument naming the key
  // and where a good value would come from.
  Status Validate() const;
};

// The names of the scalar keys, as used in YAML and (upper-cased, POSFLOW_ prefix) in the
// environment: brokers, topic, group, db, staging, metrics_addr, db_statement_timeout_ms,
// db_idle_in_transaction_timeout_ms.
const std::vector<std::string>& ConfigKeys();

// Everything LoadConfig reads, injectable for tests.
struct ConfigSources {
  // Path of the YAML config file; empty means POSFLOW_CONFIG, and if that is unset, none.
  std::string config_file;
  // Values given as flags, by key (see ConfigKeys()).
  std::map<std::string, std::string> flags;
  // "key=value" librdkafka properties given as --kafka-opt flags, in order.
  std::vector<std::string> kafka_option_flags;
  // Environment lookup; returns nullptr when unset. Default: ::getenv.
  std::function<const char*(const char*)> getenv;
  // The seed's staging_config.yaml (`staging_db: {host, database}`), given as --staging-config:
  // sets `staging` to mongodb://host/database. Empty: none.
  std::string staging_config_file;
  // The seed's dotenv file; read only if it exists. Default ".env" in the working directory.
  std::string dotenv_path = ".env";
};

// Reads the seed's staging_config.yaml shape and returns its MongoDB URI. Failure:
// InvalidArgument, one line naming the file and what is wrong.
Result<std::string> ReadStagingConfig(const std::string& path);

// Builds the configuration from its sources and validates it. Every secret it holds (the
// passwords of `db` and `staging`, PG_PASSWORD, PGPASSWORD, secret Kafka properties) is
// registered with the process's secret registry (common/secrets.h) before validation, so that
// it is masked by value in whatever is printed afterwards.
// Failure: InvalidArgument for an unreadable or malformed file, an unknown key, a bad value;
// the message names the file/variable/flag and never contains a password.
Result<Config> LoadConfig(const ConfigSources& sources);

// Parses a dotenv file ("KEY=value", "export KEY=value", quotes, # comments) into a map.
// Failure: IoError when the file exists but cannot be read; a missing file is an empty map.
Result<std::map<std::string, std::string>> ReadDotenv(const std::string& path);

}  // namespace posflow
