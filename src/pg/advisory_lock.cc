#include "pg/advisory_lock.h"

namespace posflow::pg {

Status TryAdvisoryLock(Connection& connection, const std::string& key, const std::string& what,
                       const std::string& lock_name) {
  auto taken = connection.Query("select pg_try_advisory_lock(" + key + ")");
  if (!taken.ok()) return taken.status().WithContext("taking the " + lock_name);
  if (taken->Get(0, 0) == "t") return Status::Ok();
  auto holder = connection.Query(
      "select a.pid, coalesce(a.application_name, ''), coalesce(a.client_addr::text, 'local') "
      "from pg_locks l join pg_stat_activity a on a.pid = l.pid "
      "where l.locktype = 'advisory' and l.granted and "
      "((l.classid::bigint << 32) | l.objid::bigint) = " +
      key + " limit 1");
  std::string who = "another session";
  if (holder.ok() && holder->rows() == 1) {
    who = "process " + std::string(holder->Get(0, 0)) + " (" + std::string(holder->Get(0, 1)) +
          ", " + std::string(holder->Get(0, 2)) + ")";
  }
  return Status::AlreadyExists("another " + what + " is already running on this database: " +
                               who + " holds the " + lock_name + "; wait for it to finish");
}

}  // namespace posflow::pg
