#pragma once

// The staging store a configuration names: PostgreSQL staging (`staging: postgres`), or
// MongoDB staging (`staging: mongodb://host:port/db`: the staged transactions in MongoDB, the
// offsets, seen ids, duplicates and dead letters in PostgreSQL; see ExternalStaging).

#include <memory>

#include "common/config.h"
#include "common/status.h"
#include "staging/staging_store.h"

namespace posflow::staging {

// Whether `config` stages in MongoDB.
bool UsesMongoStaging(const Config& config);

// Opens (without connecting yet) the store `config` names. Failure: InvalidArgument for a
// malformed MongoDB URI.
Result<std::unique_ptr<StagingStore>> OpenStagingStore(const Config& config);

}  // namespace posflow::staging
