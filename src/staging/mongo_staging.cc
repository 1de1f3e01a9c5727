#include "staging/mongo_staging.h"

#include <bson/bson.h>
#include <mongoc/mongoc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string_view>
#include <utility>

#include "common/redact.h"
#include "common/secrets.h"
#include "common/text.h"
#include "staging/mongo_document.h"

namespace posflow::staging {
namespace {

constexpr const char* kCollection = "transactions";
constexpr const char* kSegmentPrefix = "loading_";
constexpr std::int32_t kDuplicateKey = 11000;

// libmongoc's log into ours, with registered secrets masked (common/secrets.h). Its "Couldn't
// send endSessions" at shutdown is FerretDB lacking sessions, not a problem: debug only.
void ForwardMongocLog(mongoc_log_level_t level, const char* domain, const char* message, void*) {
  const std::string text = RedactSecrets(message == nullptr ? "" : message);
  if (level <= MONGOC_LOG_LEVEL_WARNING && text.find("endSessions") == std::string::npos) {
    spdlog::warn("mongoc {}: {}", domain == nullptr ? "" : domain, text);
  } else {
    spdlog::debug("mongoc {}: {}", domain == nullptr ? "" : domain, text);
  }
}

void InitMongocOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    mongoc_init();
    mongoc_log_set_handler(ForwardMongocLog, nullptr);
  });
}

// bson_t with RAII.
class Bson {
 public:
  Bson() { bson_init(&doc_); }
  ~Bson() { bson_destroy(&doc_); }
  Bson(const Bson&) = delete;
  Bson& operator=(const Bson&) = delete;
  bson_t* get() { return &doc_; }
  const bson_t* get() const { return &doc_; }

 private:
  bson_t doc_;
};

// A document's raw bytes, for mongo_document.h (valid while `doc` is).
std::string_view BsonBytes(const bson_t* doc) {
  return std::string_view(reinterpret_cast<const char*>(bson_get_data(doc)), doc->len);
}

// Services unreachable (network, server selection, shutting down) are Unavailable: retried.
Status FromError(const bson_error_t& error, const std::string& what, const std::string& where) {
  const std::string message = what + " on MongoDB " + where + ": " + RedactSecrets(error.message);
  if (error.domain == MONGOC_ERROR_STREAM || error.domain == MONGOC_ERROR_SERVER_SELECTION ||
      error.domain == MONGOC_ERROR_CLIENT || error.code == 11600 || error.code == 91 ||
      error.code == 189 || error.code == 10107 || error.code == 13435) {
    return Status::Unavailable(message + " (for the local stack run: scripts/stack up)");
  }
  return Status::FailedPrecondition(message);
}

}  // namespace

struct MongoStaging::Handles {
  mongoc_uri_t* uri = nullptr;
  mongoc_client_t* client = nullptr;
  mongoc_collection_t* collection = nullptr;
  std::string database;
  // The segment being read.
  mongoc_collection_t* segment = nullptr;
  mongoc_cursor_t* cursor = nullptr;
  bool cursor_done = false;
  std::string segment_name;
  std::int64_t segment_position = 0;  // documents read from the open segment

  void CloseSegment() {
    if (cursor != nullptr) mongoc_cursor_destroy(cursor);
    if (segment != nullptr) mongoc_collection_destroy(segment);
    cursor = nullptr;
    segment = nullptr;
    cursor_done = false;
    segment_name.clear();
    segment_position = 0;
  }

  ~Handles() {
    CloseSegment();
    if (collection != nullptr) mongoc_collection_destroy(collection);
    if (client != nullptr) mongoc_client_destroy(client);
    if (uri != nullptr) mongoc_uri_destroy(uri);
  }
};

MongoStaging::MongoStaging(std::unique_ptr<Handles> handles, std::string description)
    : handles_(std::move(handles)), description_(std::move(description)) {}

MongoStaging::~MongoStaging() = default;

Result<std::unique_ptr<MongoStaging>> MongoStaging::Open(const std::string& uri_text) {
  InitMongocOnce();
  const std::string description = RedactUrl(uri_text);
  for (const std::string& secret : ConnectionStringSecrets(uri_text)) RegisterSecret(secret);
  auto handles = std::make_unique<Handles>();
  bson_error_t error;
  handles->uri = mongoc_uri_new_with_error(uri_text.c_str(), &error);
  if (handles->uri == nullptr) {
    return Status::InvalidArgument("staging URI " + description + ": " +
                                   RedactSecrets(error.message));
  }
  // The password as libmongoc decoded it (forms as written were registered above).
  if (const char* password = mongoc_uri_get_password(handles->uri); password != nullptr) {
    RegisterSecret(password);
  }
  const char* database = mongoc_uri_get_database(handles->uri);
  if (database == nullptr || *database == '\0') {
    return Status::InvalidArgument("staging URI " + description +
                                   " names no database (mongodb://host:port/DATABASE)");
  }
  handles->database = database;
  if (mongoc_uri_get_option_as_int32(handles->uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 0) == 0) {
    mongoc_uri_set_option_as_int32(handles->uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 5000);
  }
  if (mongoc_uri_get_option_as_int32(handles->uri, MONGOC_URI_CONNECTTIMEOUTMS, 0) == 0) {
    mongoc_uri_set_option_as_int32(handles->uri, MONGOC_URI_CONNECTTIMEOUTMS, 5000);
  }
  handles->client = mongoc_client_new_from_uri_with_error(handles->uri, &error);
  if (handles->client == nullptr) {
    return Status::InvalidArgument("staging URI " + description + ": " +
                                   RedactSecrets(error.message));
  }
  mongoc_client_set_error_api(handles->client, MONGOC_ERROR_API_VERSION_2);
  mongoc_client_set_appname(handles->client, "posflow");
  handles->collection =
      mongoc_client_get_collection(handles->client, handles->database.c_str(), kCollection);
  return std::unique_ptr<MongoStaging>(new MongoStaging(std::move(handles), description));
}

Status MongoStaging::Prepare() {
  Bson command;
  BSON_APPEND_UTF8(command.get(), "createIndexes", kCollection);
  bson_t indexes;
  bson_t index;
  bson_t key;
  BSON_APPEND_ARRAY_BEGIN(command.get(), "indexes", &indexes);
  BSON_APPEND_DOCUMENT_BEGIN(&indexes, "0", &index);
  BSON_APPEND_DOCUMENT_BEGIN(&index, "key", &key);
  BSON_APPEND_INT32(&key, "ingested_at", 1);
  bson_append_document_end(&index, &key);
  BSON_APPEND_UTF8(&index, "name", "ingested_at");
  bson_append_document_end(&indexes, &index);
  bson_append_array_end(command.get(), &indexes);
  Bson reply;
  bson_error_t error;
  if (!mongoc_collection_write_command_with_opts(handles_->collection, command.get(), nullptr,
                                                 reply.get(), &error)) {
    return FromError(error, "creating the staging index", description_);
  }
  return Status::Ok();
}

namespace {

// Inserts docs[begin, end) into `collection` (see MongoStaging::Stage), adding refusals with
// indices into docs.
Status InsertRange(mongoc_collection_t* collection, const std::string& description,
                   const bson_t** docs, std::size_t begin, std::size_t end,
                   std::vector<ExternalStaging::Refusal>* refusals) {
  if (begin == end) return Status::Ok();
  Bson options;
  BSON_APPEND_BOOL(options.get(), "ordered", false);
  // Acknowledged only once a majority of the replica set has the batch in its journal: the
  // PostgreSQL bookkeeping that follows must never count a batch a failover could lose.
  mongoc_write_concern_t* concern = mongoc_write_concern_new();
  mongoc_write_concern_set_w(concern, MONGOC_WRITE_CONCERN_W_MAJORITY);
  mongoc_write_concern_set_journal(concern, true);
  const bool appended = mongoc_write_concern_append(concern, options.get());
  mongoc_write_concern_destroy(concern);
  if (!appended) return Status::Internal("cannot set MongoDB's write concern");
  Bson reply;
  bson_error_t error;
  const bool ok = mongoc_collection_insert_many(collection, docs + begin, end - begin,
                                                options.get(), reply.get(), &error);
  bson_iter_t iter;
  if (ok) {
    // Acknowledged, but the write concern may still have failed: then nothing is known to be
    // durable, and the batch is retried (inserting again is idempotent by _id).
    if (bson_iter_init_find(&iter, reply.get(), "writeConcernErrors") ||
        bson_iter_init_find(&iter, reply.get(), "writeConcernError")) {
      return Status::Unavailable("staging a batch on MongoDB " + description +
                                 ": the write concern (majority, journaled) was not satisfied");
    }
    return Status::Ok();
  }
  // Per-document write errors come back in the reply; anything else failed the whole call.
  bson_iter_t errors;
  if (!bson_iter_init_find(&iter, reply.get(), "writeErrors") || !BSON_ITER_HOLDS_ARRAY(&iter) ||
      !bson_iter_recurse(&iter, &errors)) {
    Status status = FromError(error, "staging a batch", description);
    if (status.code() == Status::Code::kUnavailable) return status;
    // The server refused the call as a whole, possibly after inserting part of it (FerretDB
    // refuses a document its PostgreSQL cannot store this way): halve the range until the
    // refused documents are alone. Documents inserted already count as staged on the retry.
    if (end - begin > 1) {
      const std::size_t middle = begin + (end - begin) / 2;
      POSFLOW_RETURN_IF_ERROR(InsertRange(collection, description, docs, begin, middle,
                                          refusals));
      return InsertRange(collection, description, docs, middle, end, refusals);
    }
    refusals->push_back(
        {begin, event::Problem{"mongo.refused:" + std::to_string(error.code),
                               "MongoDB refused the document: " + StorableText(error.message, 300)}});
    return Status::Ok();
  }
  while (bson_iter_next(&errors)) {
    std::uint32_t length = 0;
    const std::uint8_t* data = nullptr;
    if (!BSON_ITER_HOLDS_DOCUMENT(&errors)) continue;
    bson_iter_document(&errors, &length, &data);
    const std::string_view entry(reinterpret_cast<const char*>(data), length);
    const auto index = IntField(entry, "index");
    const auto code = IntField(entry, "code");
    if (!index || *index < 0 || static_cast<std::size_t>(*index) >= end - begin) {
      return Status::Internal("MongoDB reported a write error without a valid index");
    }
    if (code && *code == kDuplicateKey) continue;  // staged before: counts as staged
    const std::string code_text = code ? std::to_string(*code) : "unknown";
    refusals->push_back({begin + static_cast<std::size_t>(*index),
                         event::Problem{"mongo.refused:" + code_text,
                                        "MongoDB refused the document: " +
                                            StorableText(StringField(entry, "errmsg").value_or(""), 300)}});
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<ExternalStaging::Refusal>> MongoStaging::Stage(
    const std::vector<const ValidMessage*>& messages) {
  std::vector<Refusal> refusals;
  if (messages.empty()) return refusals;
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  // A plain array: bson_t's alignment attribute makes std::vector<bson_t*> warn.
  struct Documents {
    explicit Documents(std::size_t size) : docs(new const bson_t*[size]()), count(size) {}
    ~Documents() {
      for (std::size_t index = 0; index < count; ++index) {
        if (docs[index] != nullptr) bson_destroy(const_cast<bson_t*>(docs[index]));
      }
      delete[] docs;
    }
    const bson_t** docs;
    std::size_t count;
  } documents(messages.size());
  for (std::size_t index = 0; index < messages.size(); ++index) {
    const std::string bson = StagedDocumentBson(*messages[index], now);
    documents.docs[index] =
        bson_new_from_data(reinterpret_cast<const std::uint8_t*>(bson.data()), bson.size());
    if (documents.docs[index] == nullptr) {
      return Status::Internal("a staged document is not valid BSON");
    }
  }
  POSFLOW_RETURN_IF_ERROR(InsertRange(handles_->collection, description_, documents.docs, 0,
                                      messages.size(), &refusals));
  return refusals;
}


Result<std::vector<std::string>> MongoStaging::SealedSegments() {
  mongoc_database_t* database = mongoc_client_get_database(handles_->client, handles_->database.c_str());
  bson_error_t error;
  char** names = mongoc_database_get_collection_names_with_opts(database, nullptr, &error);
  mongoc_database_destroy(database);
  if (names == nullptr) return FromError(error, "listing staging segments", description_);
  std::vector<std::string> segments;
  for (char** name = names; *name != nullptr; ++name) {
    if (SealedAtMillis(*name) > 0) segments.emplace_back(*name);
  }
  bson_strfreev(names);
  // loading_<ms> with ms of equal width for centuries: name order is time order.
  std::sort(segments.begin(), segments.end());
  return segments;
}

std::int64_t MongoStaging::SealedAtMillis(const std::string& segment) {
  constexpr std::string_view kPrefix = kSegmentPrefix;
  if (segment.size() <= kPrefix.size() || segment.compare(0, kPrefix.size(), kPrefix) != 0) return 0;
  std::int64_t millis = 0;
  for (std::size_t index = kPrefix.size(); index < segment.size(); ++index) {
    const char c = segment[index];
    if (c < '0' || c > '9') return 0;
    millis = millis * 10 + (c - '0');
  }
  return millis;
}

Result<std::string> MongoStaging::Seal() {
  // Nothing to seal when `transactions` is empty or absent (a one-document find: cheap).
  Bson filter;
  Bson options;
  BSON_APPEND_INT64(options.get(), "limit", 1);
  mongoc_cursor_t* cursor =
      mongoc_collection_find_with_opts(handles_->collection, filter.get(), options.get(), nullptr);
  const bson_t* doc = nullptr;
  const bool any = mongoc_cursor_next(cursor, &doc);
  bson_error_t error;
  const bool failed = mongoc_cursor_error(cursor, &error);
  mongoc_cursor_destroy(cursor);
  if (failed) return FromError(error, "looking for staged documents", description_);
  if (!any) return std::string();
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  char name[64];
  std::snprintf(name, sizeof name, "%s%015lld", kSegmentPrefix, static_cast<long long>(now));
  // A handle of its own: a rename re-points the handle it is called on.
  mongoc_collection_t* staged =
      mongoc_client_get_collection(handles_->client, handles_->database.c_str(), kCollection);
  const bool renamed = mongoc_collection_rename_with_opts(staged, handles_->database.c_str(),
                                                          name, false, nullptr, &error);
  mongoc_collection_destroy(staged);
  if (!renamed) return FromError(error, "sealing staged documents", description_);
  return std::string(name);
}

Status MongoStaging::OpenSegment(const std::string& segment) {
  handles_->CloseSegment();
  handles_->segment =
      mongoc_client_get_collection(handles_->client, handles_->database.c_str(), segment.c_str());
  handles_->segment_name = segment;
  // Natural order (the order of insertion): a sealed segment is one slice of ingest order
  // already, and a sort would make FerretDB fetch and sort the whole segment in memory first.
  Bson filter;
  handles_->cursor =
      mongoc_collection_find_with_opts(handles_->segment, filter.get(), nullptr, nullptr);
  return Status::Ok();
}

Result<MongoBatch> MongoStaging::ReadSegment(std::int64_t limit) {
  MongoBatch batch;
  if (handles_->cursor == nullptr) return Status::Internal("ReadSegment without OpenSegment");
  const bson_t* doc = nullptr;
  StagedDocument scratch;
  // libmongoc refuses a next() after the end: remember it.
  while (!handles_->cursor_done && static_cast<std::int64_t>(batch.ids.size()) < limit) {
    if (!mongoc_cursor_next(handles_->cursor, &doc)) {
      handles_->cursor_done = true;
      break;
    }
    const std::int64_t position = handles_->segment_position++;
    AddDocumentToBatch(BsonBytes(doc), handles_->segment_name, position, &scratch, &batch);
  }
  bson_error_t error;
  if (mongoc_cursor_error(handles_->cursor, &error)) {
    handles_->CloseSegment();
    return FromError(error, "reading staged documents", description_);
  }
  return batch;
}

Status MongoStaging::InsertJsonDocument(const std::string& json) {
  bson_error_t error;
  bson_t* doc = bson_new_from_json(reinterpret_cast<const std::uint8_t*>(json.data()),
                                   static_cast<ssize_t>(json.size()), &error);
  if (doc == nullptr) return Status::InvalidArgument(std::string("not a document: ") + error.message);
  const bool inserted =
      mongoc_collection_insert_one(handles_->collection, doc, nullptr, nullptr, &error);
  bson_destroy(doc);
  if (!inserted) return FromError(error, "inserting a document", description_);
  return Status::Ok();
}

Status MongoStaging::DropSegment(const std::string& segment) {
  handles_->CloseSegment();
  mongoc_collection_t* collection =
      mongoc_client_get_collection(handles_->client, handles_->database.c_str(), segment.c_str());
  bson_error_t error;
  const bool dropped = mongoc_collection_drop_with_opts(collection, nullptr, &error);
  mongoc_collection_destroy(collection);
  // Dropped by an earlier attempt already: fine.
  if (!dropped && error.code != 26) return FromError(error, "dropping a loaded segment", description_);
  return Status::Ok();
}

Result<std::vector<StagedReceiptFigures>> MongoStaging::Documents() {
  auto segments = SealedSegments();
  if (!segments.ok()) return segments.status();
  std::vector<std::string> collections = *segments;
  collections.emplace_back(kCollection);
  std::vector<StagedReceiptFigures> documents;
  for (const std::string& name : collections) {
    mongoc_collection_t* collection =
        mongoc_client_get_collection(handles_->client, handles_->database.c_str(), name.c_str());
    Bson filter;
    mongoc_cursor_t* cursor =
        mongoc_collection_find_with_opts(collection, filter.get(), nullptr, nullptr);
    const bson_t* doc = nullptr;
    Status status = Status::Ok();
    StagedDocument staged;
    const event::Transaction& transaction = staged.transaction;
    while (status.ok() && mongoc_cursor_next(cursor, &doc)) {
      // A document not in ingest's shape is not a staged sale: the ETL quarantines it.
      if (!ParseStagedDocument(BsonBytes(doc), &staged).ok()) continue;
      StagedReceiptFigures document;
      document.transaction_id = transaction.transaction_id;
      document.store_id = transaction.store.store_id;
      document.total_cents = transaction.total_cents;
      for (const event::Line& line : transaction.lines) {
        document.lines.emplace_back(line.product_id.empty() ? "item:" + line.item : line.product_id,
                                    line.quantity);
      }
      documents.push_back(std::move(document));
    }
    bson_error_t error;
    if (status.ok() && mongoc_cursor_error(cursor, &error)) {
      status = FromError(error, "reading staged documents", description_);
    }
    mongoc_cursor_destroy(cursor);
    mongoc_collection_destroy(collection);
    if (!status.ok()) return status;
  }
  return documents;
}

}  // namespace posflow::staging
