#include "pipeline/dlq_job.h"

#include "event/parser.h"
#include "pg/connection.h"
#include "staging/staging_factory.h"

namespace posflow::pipeline {

Result<std::vector<ReplayOutcome>> ReplayDeadLetters(const Config& config,
                                                     const ReplayRequest& request) {
  if (request.payload_override && request.ids.size() != 1) {
    return Status::InvalidArgument("a corrected payload replaces exactly one dead letter");
  }
  auto connection = pg::Connection::Open(pg::OptionsFromConfig(config));
  if (!connection.ok()) return connection.status();
  std::vector<ops::DeadLetterRow> letters;
  if (request.ids.empty()) {
    ops::DeadLetterFilter filter = request.filter;
    filter.with_payload = true;
    filter.include_purged = false;  // nothing left to replay
    auto listed = ops::ListDeadLetters(*connection, filter);
    if (!listed.ok()) return listed.status();
    letters = std::move(listed).value();
  } else {
    for (std::int64_t id : request.ids) {
      auto letter = ops::GetDeadLetter(*connection, id);
      if (!letter.ok()) return letter.status();
      if (!letter->replayed_at.empty()) {
        return Status::FailedPrecondition("dead letter " + std::to_string(id) +
                                          " was already replayed at " + letter->replayed_at +
                                          " as " + letter->replayed_as);
      }
      if (letter->purged() && !request.payload_override) {
        return Status::FailedPrecondition(
            "dead letter " + std::to_string(id) + ": its payload (" +
            std::to_string(letter->purged_payload_bytes) + " bytes) was purged at " +
            letter->payload_purged_at +
            " (past the dead-letter retention of posflow maintain) and is gone; stage a "
            "corrected message with --payload-file FILE");
      }
      letters.push_back(std::move(letter).value());
    }
  }

  event::Parser parser({.max_message_bytes = request.max_message_bytes});
  auto opened = staging::OpenStagingStore(config);
  if (!opened.ok()) return opened.status();
  staging::StagingStore& store = **opened;
  std::vector<ReplayOutcome> outcomes;
  // One transaction per dead letter: a refusal of one never holds back the others.
  for (const ops::DeadLetterRow& letter : letters) {
    ReplayOutcome outcome;
    outcome.id = letter.id;
    const std::string& payload = request.payload_override ? *request.payload_override
                                                          : letter.payload;
    event::Transaction transaction;
    if (!parser.Parse(payload, &transaction, &outcome.problems)) {
      outcomes.push_back(std::move(outcome));
      continue;
    }
    outcome.transaction_id = transaction.transaction_id;
    staging::Batch batch;
    batch.valid.push_back(
        {{letter.topic, letter.partition, letter.offset}, letter.key, payload, &transaction});
    batch.replayed_dead_letters.push_back(letter.id);
    auto result = store.WriteBatch(batch);
    if (!result.ok() && result.status().code() == Status::Code::kFailedPrecondition) {
      outcome.problems.push_back({"db.refused", result.status().message()});
    } else if (!result.ok()) {
      return result.status().WithContext("replaying dead letter " + std::to_string(letter.id));
    } else {
      outcome.staged = result->staged == 1;
      outcome.duplicate = result->duplicates == 1;
    }
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

}  // namespace posflow::pipeline
