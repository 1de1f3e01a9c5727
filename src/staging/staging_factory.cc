#include "staging/staging_factory.h"

#include "pg/connection.h"
#include "staging/mongo_staging.h"
#include "staging/pg_staging_store.h"

namespace posflow::staging {

bool UsesMongoStaging(const Config& config) { return config.staging.rfind("mongodb://", 0) == 0; }

Result<std::unique_ptr<StagingStore>> OpenStagingStore(const Config& config) {
  std::unique_ptr<ExternalStaging> external;
  if (UsesMongoStaging(config)) {
    auto mongo = MongoStaging::Open(config.staging);
    if (!mongo.ok()) return mongo.status();
    external = std::move(*mongo);
  } else if (config.staging != "postgres") {
    return Status::InvalidArgument("staging must be 'postgres' or a mongodb://host:port/db URI");
  }
  return std::unique_ptr<StagingStore>(
      std::make_unique<PgStagingStore>(pg::OptionsFromConfig(config), std::move(external)));
}

}  // namespace posflow::staging
