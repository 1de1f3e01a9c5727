#pragma once

// The PostgreSQL connections of `posflow serve`'s request threads: each request borrows one
// and gives it back, so a page's burst of requests does not open a connection each. Every
// connection is read-only (default_transaction_read_only: the dashboard writes nothing) and
// its statements are bounded by the options' statement_timeout.
//
// Thread-safety: Acquire may be called from any thread; a Lease is used by one thread.

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "common/status.h"
#include "pg/connection.h"

namespace posflow::serve {

class ConnectionPool {
 public:
  // Keeps at most `max_idle` connections open between requests (more may be open during a
  // burst; they are closed when given back).
  ConnectionPool(pg::ConnectionOptions options, std::size_t max_idle);

  // A connection borrowed for one request. Given back when destroyed unless Discard() was called
  // (after a failure that may have left the session unusable).
  class Lease {
   public:
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) noexcept = delete;
    ~Lease();
    pg::Connection& operator*() { return *connection_; }
    pg::Connection* operator->() { return connection_.get(); }
    void Discard() { connection_.reset(); }

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, std::unique_ptr<pg::Connection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    ConnectionPool* pool_;
    std::unique_ptr<pg::Connection> connection_;
  };

  // An idle connection, or a new one. Failure: as pg::Connection::Open (Unavailable when
  // PostgreSQL cannot be reached, NotFound when the database does not exist).
  Result<Lease> Acquire();

 private:
  void GiveBack(std::unique_ptr<pg::Connection> connection);

  const pg::ConnectionOptions options_;
  const std::size_t max_idle_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<pg::Connection>> idle_;  // guarded by mutex_
};

}  // namespace posflow::serve
