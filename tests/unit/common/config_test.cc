#include "common/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "common/secrets.h"

namespace posflow {
namespace {

// A temporary directory holding the files one test writes.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("posflow_config_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    sources_.dotenv_path = (dir_ / "absent.env").string();
    sources_.getenv = [this](const char* name) -> const char* {
      auto it = env_.find(name);
      return it == env_.end() ? nullptr : it->second.c_str();
    };
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
  ConfigSources sources_;
};

TEST_F(ConfigTest, DefaultsPointAtTheLocalStack) {
  auto config = LoadConfig(sources_);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->brokers, "127.0.0.1:9092");
  EXPECT_EQ(config->topic, "PointOfSale");
  EXPECT_EQ(config->DlqTopic(), "PointOfSale.dlq");
  EXPECT_EQ(config->group, "posflow");
  EXPECT_EQ(config->db, "postgresql://127.0.0.1:5432/posflow");
  EXPECT_EQ(config->staging, "postgres");
  EXPECT_EQ(config->metrics_addr, "127.0.0.1:9464");
  EXPECT_TRUE(config->kafka_options.empty());
}

TEST_F(ConfigTest, FlagsBeatEnvironmentBeatsFileBeatsDefaults) {
  sources_.config_file = WriteFile("posflow.yaml",
                                   "brokers: file:1\n"
                                   "topic: FileTopic\n"
                                   "group: file-group\n");
  env_["POSFLOW_TOPIC"] = "EnvTopic";
  env_["POSFLOW_GROUP"] = "env-group";
  sources_.flags["group"] = "flag-group";
  auto config = LoadConfig(sources_);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->brokers, "file:1");
  EXPECT_EQ(config->topic, "EnvTopic");
  EXPECT_EQ(config->group, "flag-group");
  EXPECT_EQ(config->db, "postgresql://127.0.0.1:5432/posflow");
}

TEST_F(ConfigTest, ConfigFileComesFromEnvironmentWhenNoFlag) {
  env_["POSFLOW_CONFIG"] = WriteFile("c.yaml", "topic: FromEnvFile\n");
  auto config = LoadConfig(sources_);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->topic, "FromEnvFile");
}

TEST_F(ConfigTest, RejectsUnknownKeyInFile) {
  sources_.config_file = WriteFile("c.yaml", "brokers: a:1\nbrokerz: b:2\n");
  auto config = LoadConfig(sources_);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(config.status().message().find("unknown key 'brokerz'"), std::string::npos);
}

TEST_F(ConfigTest, RejectsMalformedYaml) {
  sources_.config_file = WriteFile("c.yaml", "brokers: [unclosed\n");
  auto config = LoadConfig(sources_);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), Status::Code::kInvalidArgument);
}

TEST_F(ConfigTest, RejectsMissingConfigFile) {
  sources_.config_file = (dir_ / "nope.yaml").string();
  auto config = LoadConfig(sources_);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("cannot be read"), std::string::npos);
}

TEST_F(ConfigTest, AcceptsSeedStagingConfigShape) {
  sources_.config_file =
      WriteFile("staging_config.yaml", "staging_db:\n  host: localhost:27017\n  database: pos\n");
  auto config = LoadConfig(sources_);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->staging, "mongodb://localhost:27017/pos");
}

TEST_F(ConfigTest, RejectsSeedStagingConfigWithoutDatabase) {
  sources_.config_file = WriteFile("staging_config.yaml", "staging_db:\n  host: localhost\n");
  EXPECT_FALSE(LoadConfig(sources_).ok());
}

TEST_F(ConfigTest, KafkaOptionsFromFileThenFlagsInOrder) {
  sources_.config_file =
      WriteFile("c.yaml", "kafka:\n  security.protocol: SSL\n  fetch.max.bytes: 1000000\n");
  sources_.kafka_option_flags = {"fetch.max.bytes=2000000"};
  auto config = LoadConfig(sources_);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->kafka_options.size(), 3u);
  EXPECT_EQ(config->kafka_options[0].first, "security.protocol");
  EXPECT_EQ(config->kafka_options[2].second, "2000000");
}

TEST_F(ConfigTest, RejectsKafkaOptionWithoutEquals) {
  sources_.kafka_option_flags = {"sasl.password"};
  auto config = LoadConfig(sources_);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), Status::Code::kInvalidArgument);
}

TEST_F(ConfigTest, ReadsSeedCredentialsFromDotenv) {
  sources_.dotenv_path = WriteFile(".env",
                                   "# seed credentials\n"
                                   "export PG_USERNAME=retail\n"
                                   "PG_PASSWORD=\"s3cret word\"\n"
                                   "OTHER=ignored\n");
  auto config = LoadConfig(sources_);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->db_user, "retail");
  EXPECT_EQ(config->db_password, "s3cret word");
}

TEST_F(ConfigTest, EnvironmentCredentialsBeatDotenv) {
  sources_.dotenv_path = WriteFile(".env", "PG_USERNAME=fromfile\n");
  env_["PG_USERNAME"] = "fromenv";
  auto config = LoadConfig(sources_);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->db_user, "fromenv");
}

TEST_F(ConfigTest, RejectsBadValuesNamingTheKey) {
  const std::map<std::string, std::string> bad = {
      {"brokers", "no-port"},          {"topic", "bad topic!"},
      {"db", "mysql-ish"},             {"staging", "cassandra"},
      {"metrics_addr", "127.0.0.1:99999"}, {"group", ""}};
  for (const auto& [key, value] : bad) {
    ConfigSources sources = sources_;
    sources.flags[key] = value;
    auto config = LoadConfig(sources);
    ASSERT_FALSE(config.ok()) << key << "=" << value;
    EXPECT_EQ(config.status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(config.status().message().rfind(key, 0), 0u) << config.status().message();
  }
}

TEST_F(ConfigTest, ValidateRedactsPasswordFromDbErrors) {
  sources_.flags["db"] = "mysql://user:hunter2@host/db";
  auto config = LoadConfig(sources_);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message().find("hunter2"), std::string::npos);
}

TEST_F(ConfigTest, AcceptsMongoStagingAndMetricsOff) {
  sources_.flags["staging"] = "mongodb://127.0.0.1:27017/posflow";
  sources_.flags["metrics_addr"] = "off";
  auto config = LoadConfig(sources_);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
}

TEST_F(ConfigTest, RegistersEverySecretItHoldsForMaskingByValue) {
  // Values unique to this test: the registry is the process's, shared by every test here.
  sources_.flags["db"] = "postgresql://bob:Db%40Pass-cfg1@127.0.0.1:5432/x";
  sources_.flags["staging"] = "mongodb://app:Mongo%2FPass-cfg1@127.0.0.1:27017/staging";
  sources_.kafka_option_flags = {"sasl.password=Kafka-Pass-cfg1",
                                 "sasl.oauthbearer.config=principal=p clientSecret=cfg1",
                                 "ssl.key.password=Key-Pass-cfg1", "sasl.username=visible-cfg1"};
  sources_.dotenv_path = WriteFile(".env", "PG_PASSWORD=Dotenv-Pass-cfg1\n");
  env_["PGPASSWORD"] = "Env-Pass-cfg1";
  auto config = LoadConfig(sources_);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  for (const char* secret :
       {"Db@Pass-cfg1", "Db%40Pass-cfg1", "Mongo/Pass-cfg1", "Mongo%2FPass-cfg1", "Kafka-Pass-cfg1",
        "principal=p clientSecret=cfg1", "Key-Pass-cfg1", "Dotenv-Pass-cfg1", "Env-Pass-cfg1"}) {
    EXPECT_EQ(RedactSecrets(std::string("<") + secret + ">"), "<****>") << secret;
  }
  EXPECT_EQ(RedactSecrets("visible-cfg1"), "visible-cfg1");
}

TEST_F(ConfigTest, RegistersAConnectionStringsSecretsEvenWhenValidationFails) {
  sources_.flags["db"] = "host=h password = Bad-Config-Pass-cfg2 dbname=x";
  sources_.flags["metrics_addr"] = "not an address";
  auto config = LoadConfig(sources_);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(RedactSecrets("x Bad-Config-Pass-cfg2 y"), "x **** y");
}

}  // namespace
}  // namespace posflow
