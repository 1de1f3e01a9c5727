#include "pipeline/dlq_job.h"

#include "event/parser.h"
#include "pg/connection.h"
#include "staging/staging_factory.h"

namespace posflow::pipeline {
namespace {

// An ETL dead letter back into PostgreSQL staging, from its staged row, marked replayed: ONE
// statement (data-modifying CTEs), so staging it and marking it commit together. The row keeps
// its Kafka coordinates and gets a new ingested_at (its lines the same one).
constexpr const char* kReplayEtlDeadLetterSql = R"sql(
with letter as (
  select convert_from(payload, 'UTF8')::jsonb as staged from ops.dead_letter
  where dead_letter_id = $1 and stage = 'etl' and replayed_at is null
    and payload_purged_at is null
  for update),
receipt as (
  insert into staging.pos_transaction
  select (jsonb_populate_record(null::staging.pos_transaction,
            staged->'transaction' || jsonb_build_object('ingested_at', now()))).*
  from letter
  returning transaction_id, ingested_at),
lines as (
  insert into staging.pos_line
  select (jsonb_populate_record(null::staging.pos_line,
            line || jsonb_build_object('ingested_at', (select ingested_at from receipt)))).*
  from letter, jsonb_array_elements(staged->'lines') line
  returning 1),
marked as (
  update ops.dead_letter set replayed_at = now(), replayed_as = (select transaction_id from receipt)
  where dead_letter_id = $1 and exists (select 1 from receipt)
  returning 1)
select (select transaction_id from receipt), (select count(*) from lines),
       (select count(*) from marked)
)sql";

// Stages an ETL dead letter's row again (after whatever refused it was fixed).
ReplayOutcome ReplayEtlDeadLetter(pg::Connection& connection, const ops::DeadLetterRow& letter,
                                  Status* failure) {
  ReplayOutcome outcome;
  outcome.id = letter.id;
  auto replayed = connection.Query(kReplayEtlDeadLetterSql, {std::to_string(letter.id)});
  if (!replayed.ok()) {
    if (replayed.status().code() == Status::Code::kFailedPrecondition) {
      outcome.problems.push_back({"db.refused:" + connection.last_sqlstate(),
                                  replayed.status().message()});
    } else {
      *failure = replayed.status().WithContext("replaying dead letter " +
                                               std::to_string(letter.id));
    }
    return outcome;
  }
  if (replayed->IsNull(0, 0)) {
    *failure = Status::Aborted("dead letter " + std::to_string(letter.id) +
                               " was replayed or purged meanwhile; nothing staged");
    return outcome;
  }
  outcome.transaction_id = replayed->Get(0, 0);
  outcome.staged = true;
  (void)connection.Execute("notify posflow_staged");
  return outcome;
}

}  // namespace

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

  for (const ops::DeadLetterRow& letter : letters) {
    if (letter.stage != "etl") continue;
    if (request.payload_override) {
      return Status::InvalidArgument(
          "dead letter " + std::to_string(letter.id) +
          " was refused by the ETL: it is replayed from its staged row, without --payload-file");
    }
    if (staging::UsesMongoStaging(config)) {
      return Status::InvalidArgument(
          "dead letter " + std::to_string(letter.id) +
          " was refused by the ETL: it goes back into PostgreSQL staging; replay it with "
          "--staging postgres, then load it with posflow etl --once --staging postgres");
    }
  }

  event::ParserOptions parser_options = request.validation;
  parser_options.max_message_bytes = request.max_message_bytes;
  event::Parser parser(parser_options);
  auto opened = staging::OpenStagingStore(config);
  if (!opened.ok()) return opened.status();
  staging::StagingStore& store = **opened;
  std::vector<ReplayOutcome> outcomes;
  // One transaction per dead letter: a refusal of one never holds back the others.
  for (const ops::DeadLetterRow& letter : letters) {
    if (letter.stage == "etl") {
      Status failure;
      outcomes.push_back(ReplayEtlDeadLetter(*connection, letter, &failure));
      if (!failure.ok()) return failure;
      continue;
    }
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
