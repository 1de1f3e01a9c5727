#include "staging/batch_writer.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <string>
#include <unordered_set>
#include <utility>

#include "common/text.h"
#include "pg/copy_writer.h"
#include "staging/pg_staging_store.h"
#include "staging/staging_rows.h"

namespace posflow::staging {
namespace {

constexpr const char* kCopySeen =
    "copy ops.transaction_seen (transaction_id, topic, kafka_partition, kafka_offset) from stdin";

constexpr const char* kCopyDuplicates =
    "copy ops.duplicate_message (topic, kafka_partition, kafka_offset, transaction_id, total) "
    "from stdin";

constexpr const char* kCopyDeadLetters =
    "copy ops.dead_letter (topic, kafka_partition, kafka_offset, message_key, payload, reasons, "
    "details) from stdin";

// Offsets: compare-and-set from the offset the writer believed stored ($5 = -1: none yet).
constexpr const char* kAdvanceOffsets = R"sql(
with progress as (
  select * from unnest($2::text[], $3::integer[], $4::bigint[], $5::bigint[])
    as p(topic, kafka_partition, next_offset, expected_next)
), advanced as (
  update ops.kafka_offsets o
  set next_offset = p.next_offset, updated_at = now()
  from progress p
  where p.expected_next >= 0 and o.consumer_group = $1 and o.topic = p.topic
    and o.kafka_partition = p.kafka_partition and o.next_offset = p.expected_next
    and p.next_offset > p.expected_next  -- offsets never move backwards (nor stand still)
  returning 1
), created as (
  insert into ops.kafka_offsets (consumer_group, topic, kafka_partition, next_offset)
  select $1, topic, kafka_partition, next_offset from progress where expected_next < 0
  on conflict do nothing
  returning 1
)
select (select count(*) from advanced) + (select count(*) from created)
)sql";

// SQLSTATEs meaning "this data", not "this server" (pg::IsDataDependentSqlState: classes 22,
// 23, 54, P0): only those are worth bisecting for. 23505 (unique violation) is not about the
// row but about a concurrent writer (see the header).
constexpr const char* kUniqueViolation = "23505";
bool IsDataError(const std::string& sqlstate) {
  return sqlstate != kUniqueViolation && pg::IsDataDependentSqlState(sqlstate);
}

// Bounds of a dead letter's stored reason code and of each problem's message in its details.
constexpr std::size_t kMaxReasonBytes = 200;
constexpr std::size_t kMaxDetailBytes = 1000;

// How much of a transaction id a log line shows.
constexpr std::size_t kLoggedIdBytes = 80;

void AppendSeenRow(const ValidMessage& message, pg::CopyWriter* seen) {
  seen->Text(message.transaction->transaction_id);
  seen->Text(message.source.topic);
  seen->Int(message.source.partition);
  seen->Int(message.source.offset);
  seen->EndRow();
}

}  // namespace

RowTargets RowTargets::Staging() {
  return {std::string("copy staging.pos_transaction (") + kStagedTransactionColumns +
              ") from stdin",
          std::string("copy staging.pos_line (") + kStagedLineColumns + ") from stdin"};
}

RowTargets RowTargets::EtlTempTables() {
  return {std::string("copy etl_tx (") + kStagedTransactionColumns + ") from stdin",
          std::string("copy etl_line (") + kStagedLineColumns + ") from stdin"};
}

std::string ArrayLiteral(const std::vector<std::string>& values) {
  std::string literal = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) literal += ',';
    literal += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') literal += '\\';
      literal += c;
    }
    literal += '"';
  }
  return literal + "}";
}

Result<std::map<PartitionKey, std::int64_t>> LoadStoredOffsets(
    pg::Connection& connection, const std::string& consumer_group,
    const std::vector<PartitionKey>& partitions) {
  std::vector<std::string> topics;
  std::vector<std::string> numbers;
  for (const PartitionKey& key : partitions) {
    topics.push_back(key.topic);
    numbers.push_back(std::to_string(key.partition));
  }
  auto rows = connection.Query(
      "select o.topic, o.kafka_partition, o.next_offset from ops.kafka_offsets o "
      "join unnest($2::text[], $3::integer[]) as p(topic, kafka_partition) "
      "using (topic, kafka_partition) where o.consumer_group = $1",
      {consumer_group, ArrayLiteral(topics), ArrayLiteral(numbers)});
  if (!rows.ok()) return rows.status().WithContext("reading stored Kafka offsets");
  std::map<PartitionKey, std::int64_t> offsets;
  for (int row = 0; row < rows->rows(); ++row) {
    auto partition = rows->GetInt32(row, 1);
    auto next = rows->GetInt64(row, 2);
    if (!partition.ok()) return partition.status().WithContext("reading stored Kafka offsets");
    if (!next.ok()) return next.status().WithContext("reading stored Kafka offsets");
    offsets[PartitionKey{std::string(rows->Get(row, 0)), *partition}] = *next;
  }
  return offsets;
}

BatchWriter::BatchWriter(RowTargets targets, ExternalStaging* external)
    : targets_(std::move(targets)), external_(external) {}

Status BatchWriter::Write(pg::Connection& connection, const Batch& batch, BatchResult* result) {
  // Offsets first: a fenced batch fails fast, before any row is sent.
  POSFLOW_RETURN_IF_ERROR(AdvanceOffsets(connection, batch));
  POSFLOW_RETURN_IF_ERROR(SplitFreshFromDuplicates(connection, batch));
  Status status = external_ != nullptr ? StageExternally(connection, batch, result)
                                       : CopyValid(connection, batch, 0, fresh_.size(), result);
  if (!status.ok()) return status.WithContext("staging the batch");
  if (!batch.replayed_dead_letters.empty() && !result->refused.empty()) {
    // A replayed message is a dead letter already: it cannot become a second one.
    return Status::FailedPrecondition(result->refused.front().problems.front().message);
  }
  status = CopyDuplicates(connection, batch);
  if (!status.ok()) return status.WithContext("recording duplicates");
  result->duplicates += duplicates_.size();
  status = CopyDeadLetters(connection, batch, *result);
  if (!status.ok()) return status.WithContext("writing dead letters");
  if (!batch.replayed_dead_letters.empty()) POSFLOW_RETURN_IF_ERROR(MarkReplayed(connection, batch));
  result->dead_lettered += batch.dead.size() + result->refused.size();
  return Status::Ok();
}

Status BatchWriter::AdvanceOffsets(pg::Connection& connection, const Batch& batch) {
  std::vector<std::string> topics, partitions, nexts, expecteds;
  for (const PartitionProgress& progress : batch.progress) {
    topics.push_back(progress.partition.topic);
    partitions.push_back(std::to_string(progress.partition.partition));
    nexts.push_back(std::to_string(progress.next));
    expecteds.push_back(std::to_string(progress.expected_next));
  }
  auto rows = connection.Query(kAdvanceOffsets,
                               {batch.consumer_group, ArrayLiteral(topics),
                                ArrayLiteral(partitions), ArrayLiteral(nexts),
                                ArrayLiteral(expecteds)});
  if (!rows.ok()) return rows.status().WithContext("advancing Kafka offsets");
  auto counted = rows->GetInt64(0, 0);
  if (!counted.ok()) return counted.status().WithContext("advancing Kafka offsets");
  const auto advanced = static_cast<size_t>(*counted);
  if (advanced != batch.progress.size()) {
    return Status::Aborted("fenced: another consumer advanced the stored offsets of " +
                           std::to_string(batch.progress.size() - advanced) + " of " +
                           std::to_string(batch.progress.size()) +
                           " partitions since this batch began; batch discarded");
  }
  return Status::Ok();
}

Status BatchWriter::StageExternally(pg::Connection& connection, const Batch& batch,
                                    BatchResult* result) {
  if (fresh_.empty()) return Status::Ok();
  std::vector<const ValidMessage*> messages;
  messages.reserve(fresh_.size());
  for (size_t index : fresh_) messages.push_back(&batch.valid[index]);
  auto refusals = external_->Stage(messages);
  if (!refusals.ok()) return refusals.status();
  std::vector<bool> refused(messages.size(), false);
  for (auto& refusal : *refusals) {
    const ValidMessage& message = *messages[refusal.index];
    spdlog::warn("staging refused transaction {} ({} partition {} offset {}): {}",
                 LoggableText(message.transaction->transaction_id, kLoggedIdBytes),
                 message.source.topic, message.source.partition, message.source.offset,
                 refusal.problem.message);
    refused[refusal.index] = true;
    DeadLetter letter;
    letter.source = message.source;
    letter.key = message.key;
    letter.payload = message.payload;
    letter.problems.push_back(std::move(refusal.problem));
    result->refused.push_back(std::move(letter));
  }
  seen_buffer_.clear();
  pg::CopyWriter seen(&seen_buffer_);
  for (size_t index = 0; index < messages.size(); ++index) {
    if (refused[index]) continue;
    AppendSeenRow(*messages[index], &seen);
    ++result->staged;
    result->staged_lines += messages[index]->transaction->lines.size();
  }
  if (seen_buffer_.empty()) return Status::Ok();
  return connection.CopyIn(kCopySeen, seen_buffer_);
}

Status BatchWriter::CopyValid(pg::Connection& connection, const Batch& batch, size_t begin,
                              size_t end, BatchResult* result) {
  if (begin == end) return Status::Ok();
  POSFLOW_RETURN_IF_ERROR(connection.Execute("savepoint copy_rows"));
  buffer_.clear();
  line_buffer_.clear();
  seen_buffer_.clear();
  pg::CopyWriter transactions(&buffer_);
  pg::CopyWriter lines(&line_buffer_);
  pg::CopyWriter seen(&seen_buffer_);
  for (size_t index = begin; index < end; ++index) {
    const ValidMessage& message = batch.valid[fresh_[index]];
    AppendStagedTransactionRow(message, "", &transactions);
    AppendStagedLineRows(message, &lines);
    AppendSeenRow(message, &seen);
  }
  Status status = connection.CopyIn(targets_.copy_transactions, buffer_);
  if (status.ok()) status = connection.CopyIn(targets_.copy_lines, line_buffer_);
  if (status.ok()) status = connection.CopyIn(kCopySeen, seen_buffer_);
  if (status.ok()) {
    for (size_t index = begin; index < end; ++index) {
      ++result->staged;
      result->staged_lines += batch.valid[fresh_[index]].transaction->lines.size();
    }
    return connection.Execute("release savepoint copy_rows");
  }

  const std::string sqlstate = connection.last_sqlstate();
  if (status.code() == Status::Code::kUnavailable || !IsDataError(sqlstate)) return status;
  POSFLOW_RETURN_IF_ERROR(connection.Execute("rollback to savepoint copy_rows"));
  POSFLOW_RETURN_IF_ERROR(connection.Execute("release savepoint copy_rows"));
  if (end - begin == 1) {
    const ValidMessage& message = batch.valid[fresh_[begin]];
    spdlog::warn("PostgreSQL refused transaction {} ({} partition {} offset {}): {}",
                 LoggableText(message.transaction->transaction_id, kLoggedIdBytes),
                 message.source.topic, message.source.partition, message.source.offset,
                 status.message());
    DeadLetter refused;
    refused.source = message.source;
    refused.key = message.key;
    refused.payload = message.payload;
    refused.problems.push_back(
        event::Problem{"db.refused:" + sqlstate, "PostgreSQL refused the row: " + status.message()});
    result->refused.push_back(std::move(refused));
    return Status::Ok();
  }
  const size_t middle = begin + (end - begin) / 2;
  POSFLOW_RETURN_IF_ERROR(CopyValid(connection, batch, begin, middle, result));
  return CopyValid(connection, batch, middle, end, result);
}

Status BatchWriter::SplitFreshFromDuplicates(pg::Connection& connection, const Batch& batch) {
  fresh_.clear();
  duplicates_.clear();
  if (batch.valid.empty()) return Status::Ok();
  // First occurrence in the batch wins; later ones are duplicates.
  std::unordered_set<std::string_view> in_batch;
  std::vector<std::string_view> ids;
  std::vector<size_t> candidates;
  for (size_t index = 0; index < batch.valid.size(); ++index) {
    const std::string& id = batch.valid[index].transaction->transaction_id;
    if (in_batch.insert(id).second) {
      candidates.push_back(index);
      ids.push_back(id);
    } else {
      duplicates_.push_back(index);
    }
  }
  // The ids go in binary form: no literal is built from message content.
  auto seen = connection.QueryWithTextArray(
      "select transaction_id from ops.transaction_seen where transaction_id = any($1)", ids);
  if (!seen.ok()) return seen.status().WithContext("looking up transaction ids");
  std::unordered_set<std::string> staged_before;
  for (int row = 0; row < seen->rows(); ++row) staged_before.emplace(seen->Get(row, 0));
  for (size_t index : candidates) {
    if (staged_before.count(batch.valid[index].transaction->transaction_id) != 0) {
      duplicates_.push_back(index);
    } else {
      fresh_.push_back(index);
    }
  }
  return Status::Ok();
}

Status BatchWriter::CopyDuplicates(pg::Connection& connection, const Batch& batch) {
  if (duplicates_.empty()) return Status::Ok();
  buffer_.clear();
  pg::CopyWriter row(&buffer_);
  for (size_t index : duplicates_) {
    const ValidMessage& message = batch.valid[index];
    row.Text(message.source.topic);
    row.Int(message.source.partition);
    row.Int(message.source.offset);
    row.Text(message.transaction->transaction_id);
    row.Money(message.transaction->total_cents);
    row.EndRow();
  }
  return connection.CopyIn(kCopyDuplicates, buffer_);
}

Status BatchWriter::CopyDeadLetters(pg::Connection& connection, const Batch& batch,
                                    const BatchResult& result) {
  if (batch.dead.empty() && result.refused.empty()) return Status::Ok();
  buffer_.clear();
  pg::CopyWriter row(&buffer_);
  auto append = [&row](const DeadLetter& letter) {
    row.Text(letter.source.topic);
    row.Int(letter.source.partition);
    row.Int(letter.source.offset);
    if (letter.key.empty()) {
      row.Null();
    } else {
      row.Bytea(letter.key);
    }
    row.Bytea(letter.payload);
    // Reasons and details are ours, but may quote message content: stored in a form any text
    // column takes (valid UTF-8, no NUL, bounded), so that no dead letter can be refused.
    std::vector<std::string> storable_codes;
    std::string details;
    for (const event::Problem& problem : letter.problems) {
      storable_codes.push_back(StorableText(problem.code, kMaxReasonBytes));
      if (!details.empty()) details += '\n';
      details += StorableText(problem.message, kMaxDetailBytes);
    }
    std::vector<std::string_view> codes(storable_codes.begin(), storable_codes.end());
    row.TextArray(codes);
    row.Text(details);
    row.EndRow();
  };
  for (const DeadLetter& letter : batch.dead) append(letter);
  for (const DeadLetter& letter : result.refused) append(letter);
  return connection.CopyIn(kCopyDeadLetters, buffer_);
}

Status BatchWriter::MarkReplayed(pg::Connection& connection, const Batch& batch) {
  std::vector<std::string> ids;
  for (std::int64_t id : batch.replayed_dead_letters) ids.push_back(std::to_string(id));
  std::optional<std::string> replayed_as;
  if (batch.valid.size() == 1) replayed_as = batch.valid.front().transaction->transaction_id;
  auto marked = connection.Query(
      "update ops.dead_letter set replayed_at = now(), replayed_as = $2 "
      "where dead_letter_id = any($1::bigint[]) and replayed_at is null",
      {ArrayLiteral(ids), replayed_as});
  if (!marked.ok()) return marked.status().WithContext("marking dead letters replayed");
  if (marked->AffectedRows() != static_cast<long>(ids.size())) {
    return Status::Aborted("dead letter already replayed by someone else; nothing written");
  }
  return Status::Ok();
}

}  // namespace posflow::staging
