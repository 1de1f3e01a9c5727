#pragma once

// One staged transaction as a MongoDB staging document (the shape is in mongo_staging.h) and
// back: the document ingest writes for a message, the transaction a document holds, and the
// ETL's COPY rows (or quarantine record) of a document read from a sealed segment.
//
// Documents travel as their raw BSON bytes (std::string / std::string_view): libbson stays
// inside the .cc. Stateless functions, thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "event/transaction.h"
#include "staging/staging_store.h"

namespace posflow::staging {

// The document of `message`, staged at `ingested_millis` (ms since the epoch), as BSON bytes.
// REQUIRES: message.transaction is set.
std::string StagedDocumentBson(const ValidMessage& message, std::int64_t ingested_millis);

// A staged document read back: its transaction, its Kafka coordinates and when it was staged.
struct StagedDocument {
  event::Transaction transaction;
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t ingested_millis = 0;  // ms since the epoch
};

// Reads `bson` (one document), as ingest writes it, into `document` (overwriting it).
// Failure: Corruption naming what is missing or of the wrong type; `document->transaction`
// then holds at least the string _id, if there is one.
Status ParseStagedDocument(std::string_view bson, StagedDocument* document);

// `bson` as relaxed extended JSON (e.g. for a dead letter); "" when it cannot be read.
std::string DocumentJson(std::string_view bson);

// A field of `bson` by dotted path ("kafka.offset"): a string (nullopt when absent or not a
// string), an integer (int32, int64, date as ms, double truncated; nullopt otherwise).
std::optional<std::string> StringField(std::string_view bson, const char* path);
std::optional<std::int64_t> IntField(std::string_view bson, const char* path);

// A staged document the ETL cannot load as it is: not in the shape ingest writes, or text
// PostgreSQL cannot store (a NUL, invalid UTF-8: a real MongoDB stores both). It goes to the
// quarantine (ops.dead_letter, stage etl) instead of stopping the ETL.
struct MongoRefusedDocument {
  std::string transaction_id;  // the _id as text ("" when it is not a string)
  // Its Kafka coordinates; when the document does not say them: topic "mongodb:<segment>",
  // partition -1 and offset = its position in the segment.
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = 0;
  std::string reason;    // "etl.refused:document" (shape) or "etl.refused:text"
  std::string details;   // what is wrong, bounded
  std::string document;  // the document as relaxed extended JSON
};

// Staged documents read for the ETL: COPY text for its temp tables etl_tx (the columns of
// staging.pos_transaction, ingested_at last) and etl_line (those of staging.pos_line), and the
// documents that cannot be loaded.
struct MongoBatch {
  std::vector<std::string> ids;  // _id of every document read
  std::string transaction_rows;
  std::string line_rows;
  std::vector<MongoRefusedDocument> refused;  // read, but not in the rows above
};

// Adds the document `bson`, found at `position` of `segment`, to `batch`: its rows, or its
// refusal. `scratch`: a caller's StagedDocument the call parses into, kept between calls.
void AddDocumentToBatch(std::string_view bson, const std::string& segment, std::int64_t position,
                        StagedDocument* scratch, MongoBatch* batch);

}  // namespace posflow::staging
