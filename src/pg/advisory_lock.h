#pragma once

// Session advisory locks that name their holder: what keeps two ETLs, or two maintains, off one
// database at a time.

#include <string>

#include "common/status.h"
#include "pg/connection.h"

namespace posflow::pg {

// Takes the session advisory lock `key` (a bigint literal) without waiting. When another
// session holds it: AlreadyExists "another <what> is already running on this database: process
// <pid> (<application>, <address>) holds the <lock_name>; wait for it to finish". Failure: the
// query's own error, with "taking the <lock_name>" as context.
Status TryAdvisoryLock(Connection& connection, const std::string& key, const std::string& what,
                       const std::string& lock_name);

}  // namespace posflow::pg
