#include "staging/staging_factory.h"

#include <utility>

#include "pg/connection.h"
#include "staging/mongo_staging.h"
#include "staging/mongo_staging_source.h"
#include "staging/pg_staging_source.h"
#include "staging/pg_staging_store.h"

namespace posflow::staging {
namespace {

constexpr const char* kBadStaging = "staging must be 'postgres' or a mongodb://host:port/db URI";

}  // namespace

bool UsesMongoStaging(const Config& config) { return config.staging.rfind("mongodb://", 0) == 0; }

Result<std::unique_ptr<StagingStore>> OpenStagingStore(const Config& config) {
  std::unique_ptr<ExternalStaging> external;
  if (UsesMongoStaging(config)) {
    auto mongo = MongoStaging::Open(config.staging);
    if (!mongo.ok()) return mongo.status();
    external = std::move(*mongo);
  } else if (config.staging != "postgres") {
    return Status::InvalidArgument(kBadStaging);
  }
  return std::unique_ptr<StagingStore>(
      std::make_unique<PgStagingStore>(pg::OptionsFromConfig(config), std::move(external)));
}

Result<std::unique_ptr<warehouse::BatchSource>> OpenBatchSource(const Config& config,
                                                                const BatchSourceOptions& options) {
  if (UsesMongoStaging(config)) {
    auto mongo = MongoStaging::Open(config.staging);
    if (!mongo.ok()) return mongo.status();
    pg::ConnectionOptions seal_connection = pg::OptionsFromConfig(config);
    seal_connection.application_name = "posflow etl seal";
    return std::unique_ptr<warehouse::BatchSource>(
        std::make_unique<MongoStagingSource>(std::move(*mongo), std::move(seal_connection)));
  }
  if (config.staging != "postgres") return Status::InvalidArgument(kBadStaging);
  return std::unique_ptr<warehouse::BatchSource>(
      std::make_unique<PgStagingSource>(options.staging_retention));
}

Result<std::string> PrepareStaging(const Config& config) {
  if (!UsesMongoStaging(config)) return std::string();
  auto mongo = MongoStaging::Open(config.staging);
  if (!mongo.ok()) return mongo.status();
  POSFLOW_RETURN_IF_ERROR((*mongo)->Prepare());
  return (*mongo)->description();
}

Result<std::optional<std::vector<StagedReceiptFigures>>> ReadReceiptsStagedOutsidePostgres(
    const Config& config) {
  if (!UsesMongoStaging(config)) return std::optional<std::vector<StagedReceiptFigures>>();
  auto mongo = MongoStaging::Open(config.staging);
  if (!mongo.ok()) return mongo.status();
  auto documents = (*mongo)->Documents();
  if (!documents.ok()) return documents.status().WithContext("reading MongoDB staging");
  return std::optional<std::vector<StagedReceiptFigures>>(std::move(*documents));
}

}  // namespace posflow::staging
