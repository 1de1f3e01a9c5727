#pragma once

// `posflow dlq replay`: re-validates quarantined messages and stages those that now pass,
// exactly once (the staging and the "replayed" mark in one transaction; a dead letter already
// replayed is never staged again).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "event/parser.h"
#include "event/problem.h"
#include "ops/dead_letters.h"

namespace posflow::pipeline {

struct ReplayRequest {
  // Dead letters to replay by id; when empty, those matching `filter` whose payload was not
  // purged. A purged one named by id needs `payload_override`.
  std::vector<std::int64_t> ids;
  ops::DeadLetterFilter filter;
  // A corrected payload to stage instead of the stored bytes. REQUIRES: exactly one id.
  std::optional<std::string> payload_override;
  // As ingest's limit (message.too_large). Default 1 MiB.
  std::size_t max_message_bytes = 1u << 20;
  // As ingest's other limits (event/parser.h); its max_message_bytes is replaced by the above.
  event::ParserOptions validation;
};

struct ReplayOutcome {
  std::int64_t id = 0;
  bool staged = false;     // staged now
  bool duplicate = false;  // valid, but its transaction_id was staged before
  std::string transaction_id;
  std::vector<event::Problem> problems;  // still invalid: why
};

// Failure: NotFound for an unknown id, FailedPrecondition for an id already replayed or whose
// payload was purged (without a corrected payload), Aborted when a dead letter was replayed
// concurrently, Unavailable when PostgreSQL cannot be reached.
Result<std::vector<ReplayOutcome>> ReplayDeadLetters(const Config& config,
                                                     const ReplayRequest& request);

}  // namespace posflow::pipeline
