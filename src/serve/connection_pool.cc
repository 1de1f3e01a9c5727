#include "serve/connection_pool.h"

#include <utility>

namespace posflow::serve {

ConnectionPool::ConnectionPool(pg::ConnectionOptions options, std::size_t max_idle)
    : options_(std::move(options)), max_idle_(max_idle) {}

ConnectionPool::Lease::~Lease() {
  if (connection_ != nullptr && pool_ != nullptr) pool_->GiveBack(std::move(connection_));
}

Result<ConnectionPool::Lease> ConnectionPool::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<pg::Connection> connection = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(connection));
    }
  }
  auto opened = pg::Connection::Open(options_);
  if (!opened.ok()) return opened.status();
  auto connection = std::make_unique<pg::Connection>(std::move(opened).value());
  // Defence in depth: no endpoint writes, so no statement of this session may.
  POSFLOW_RETURN_IF_ERROR(connection->Execute("set default_transaction_read_only = on"));
  return Lease(this, std::move(connection));
}

void ConnectionPool::GiveBack(std::unique_ptr<pg::Connection> connection) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(connection));
}

}  // namespace posflow::serve
