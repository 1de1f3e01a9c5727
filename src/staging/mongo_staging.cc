#include "staging/mongo_staging.h"

#include "common/text.h"

#include <bson/bson.h>
#include <mongoc/mongoc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>

#include "common/civil_time.h"
#include "common/redact.h"
#include "pg/copy_writer.h"
#include "staging/staging_rows.h"

namespace posflow::staging {
namespace {

constexpr const char* kCollection = "transactions";
constexpr const char* kSegmentPrefix = "loading_";
constexpr std::int32_t kDuplicateKey = 11000;

// libmongoc's log into ours. Its "Couldn't send endSessions" at shutdown is FerretDB lacking
// sessions, not a problem: debug only.
void ForwardMongocLog(mongoc_log_level_t level, const char* domain, const char* message, void*) {
  const std::string_view text = message == nullptr ? "" : message;
  if (level <= MONGOC_LOG_LEVEL_WARNING && text.find("endSessions") == std::string_view::npos) {
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

// Services unreachable (network, server selection, shutting down) are Unavailable: retried.
Status FromError(const bson_error_t& error, const std::string& what, const std::string& where) {
  const std::string message = what + " on MongoDB " + where + ": " + error.message;
  if (error.domain == MONGOC_ERROR_STREAM || error.domain == MONGOC_ERROR_SERVER_SELECTION ||
      error.domain == MONGOC_ERROR_CLIENT || error.code == 11600 || error.code == 91 ||
      error.code == 189 || error.code == 10107 || error.code == 13435) {
    return Status::Unavailable(message + " (for the local stack run: scripts/stack up)");
  }
  return Status::FailedPrecondition(message);
}

void AppendString(bson_t* doc, const char* key, std::string_view value) {
  bson_append_utf8(doc, key, -1, value.data(), static_cast<int>(value.size()));
}

void AppendStringOrNull(bson_t* doc, const char* key, std::string_view value) {
  if (value.empty()) {
    bson_append_null(doc, key, -1);
  } else {
    AppendString(doc, key, value);
  }
}

std::int64_t EpochMillis(const CivilDateTime& time) {
  const std::int64_t seconds = DaysFromCivil(time.year, time.month, time.day) * 86400 +
                               time.hour * 3600 + time.minute * 60 + time.second;
  return seconds * 1000 + time.microsecond / 1000;
}

CivilDateTime FromEpochMillis(std::int64_t millis) {
  CivilDateTime time;
  std::int64_t days = millis / 86400000;
  std::int64_t rest = millis % 86400000;
  if (rest < 0) {
    rest += 86400000;
    --days;
  }
  CivilFromDays(days, &time.year, &time.month, &time.day);
  time.hour = static_cast<int>(rest / 3600000);
  time.minute = static_cast<int>(rest / 60000 % 60);
  time.second = static_cast<int>(rest / 1000 % 60);
  time.microsecond = static_cast<int>(rest % 1000) * 1000;
  return time;
}

// "YYYY-MM-DD HH:MM:SS.mmm+00" for a timestamptz COPY field.
std::string TimestamptzText(std::int64_t millis) {
  const CivilDateTime time = FromEpochMillis(millis);
  char text[48];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d.%03d+00", time.year, time.month,
                time.day, time.hour, time.minute, time.second, time.microsecond / 1000);
  return text;
}

// Whether every top-level key of `extra` can be a MongoDB field name.
bool KeysAreFieldNames(const bson_t* extra) {
  bson_iter_t iter;
  if (!bson_iter_init(&iter, extra)) return false;
  while (bson_iter_next(&iter)) {
    const std::string_view key = bson_iter_key(&iter);
    if (key.empty() || key.front() == '$' || key.find('.') != std::string_view::npos) return false;
  }
  return true;
}

void BuildDocument(const ValidMessage& message, std::int64_t ingested_millis, bson_t* doc) {
  const event::Transaction& transaction = *message.transaction;
  AppendString(doc, "_id", transaction.transaction_id);
  bson_append_date_time(doc, "transaction_time", -1, EpochMillis(transaction.transaction_time));
  if (transaction.transaction_time.microsecond % 1000 != 0) {
    bson_append_int32(doc, "transaction_time_micros", -1,
                      transaction.transaction_time.microsecond % 1000);
  }
  if (transaction.transaction_time.utc_offset_minutes) {
    bson_append_int32(doc, "utc_offset_minutes", -1, *transaction.transaction_time.utc_offset_minutes);
  } else {
    bson_append_null(doc, "utc_offset_minutes", -1);
  }
  const event::Customer& customer = transaction.customer;
  if (customer.anonymous()) {
    bson_append_null(doc, "customer", -1);
  } else {
    bson_t sub;
    bson_append_document_begin(doc, "customer", -1, &sub);
    AppendString(&sub, "customer_id", customer.customer_id);
    AppendStringOrNull(&sub, "first_name", customer.first_name);
    AppendStringOrNull(&sub, "last_name", customer.last_name);
    AppendStringOrNull(&sub, "email", customer.email);
    AppendStringOrNull(&sub, "street", customer.street);
    AppendStringOrNull(&sub, "city", customer.city);
    AppendStringOrNull(&sub, "province", customer.province);
    AppendStringOrNull(&sub, "postal_code", customer.postal_code);
    bson_append_document_end(doc, &sub);
  }
  const event::Store& store = transaction.store;
  bson_t store_doc;
  bson_append_document_begin(doc, "store", -1, &store_doc);
  AppendString(&store_doc, "store_id", store.store_id);
  AppendStringOrNull(&store_doc, "name", store.name);
  AppendStringOrNull(&store_doc, "address", store.address);
  AppendStringOrNull(&store_doc, "city", store.city);
  AppendStringOrNull(&store_doc, "province", store.province);
  AppendStringOrNull(&store_doc, "postal_code", store.postal_code);
  bson_append_document_end(doc, &store_doc);
  bson_t lines;
  bson_append_array_begin(doc, "lines", -1, &lines);
  for (std::size_t index = 0; index < transaction.lines.size(); ++index) {
    const event::Line& line = transaction.lines[index];
    char key[24];
    std::snprintf(key, sizeof key, "%zu", index);
    bson_t line_doc;
    bson_append_document_begin(&lines, key, -1, &line_doc);
    AppendStringOrNull(&line_doc, "product_id", line.product_id);
    AppendString(&line_doc, "item", line.item);
    bson_append_int64(&line_doc, "unit_price_cents", -1, line.unit_price_cents);
    bson_append_int32(&line_doc, "quantity", -1, line.quantity);
    bson_append_int64(&line_doc, "line_total_cents", -1, line.line_total_cents);
    bson_append_document_end(&lines, &line_doc);
  }
  bson_append_array_end(doc, &lines);
  bson_append_int32(doc, "line_count", -1, static_cast<std::int32_t>(transaction.lines.size()));
  bson_append_int64(doc, "subtotal_cents", -1, transaction.subtotal_cents);
  bson_append_int64(doc, "tax_cents", -1, transaction.tax_cents);
  bson_append_int64(doc, "total_cents", -1, transaction.total_cents);
  AppendString(doc, "payment_type", transaction.payment_type);
  AppendString(doc, "source_shape", event::ShapeName(transaction.shape));
  Bson extra;
  bson_error_t error;
  if (transaction.extra_json != "{}") {
    if (bson_init_from_json(extra.get(), transaction.extra_json.data(),
                            static_cast<ssize_t>(transaction.extra_json.size()), &error) &&
        KeysAreFieldNames(extra.get())) {
      bson_append_document(doc, "extra", -1, extra.get());
    } else {
      AppendString(doc, "extra_json", transaction.extra_json);
    }
  }
  bson_t kafka;
  bson_append_document_begin(doc, "kafka", -1, &kafka);
  AppendString(&kafka, "topic", message.source.topic);
  bson_append_int32(&kafka, "partition", -1, message.source.partition);
  bson_append_int64(&kafka, "offset", -1, message.source.offset);
  bson_append_document_end(doc, &kafka);
  bson_append_date_time(doc, "ingested_at", -1, ingested_millis);
}

// Reading documents back -------------------------------------------------------------------------

std::string StringAt(const bson_t* doc, const char* path) {
  bson_iter_t iter;
  bson_iter_t found;
  if (!bson_iter_init(&iter, doc) || !bson_iter_find_descendant(&iter, path, &found) ||
      !BSON_ITER_HOLDS_UTF8(&found)) {
    return "";
  }
  std::uint32_t length = 0;
  const char* text = bson_iter_utf8(&found, &length);
  return std::string(text, length);
}

std::optional<std::int64_t> IntAt(const bson_t* doc, const char* path) {
  bson_iter_t iter;
  bson_iter_t found;
  if (!bson_iter_init(&iter, doc) || !bson_iter_find_descendant(&iter, path, &found)) {
    return std::nullopt;
  }
  if (BSON_ITER_HOLDS_INT32(&found)) return bson_iter_int32(&found);
  if (BSON_ITER_HOLDS_INT64(&found)) return bson_iter_int64(&found);
  if (BSON_ITER_HOLDS_DATE_TIME(&found)) return bson_iter_date_time(&found);
  if (BSON_ITER_HOLDS_DOUBLE(&found)) return static_cast<std::int64_t>(bson_iter_double(&found));
  return std::nullopt;
}

// A document back into a transaction, its coordinates (topic kept in `topic`) and ingest time.
Status ParseDocument(const bson_t* doc, event::Transaction* transaction, std::string* topic,
                     std::int32_t* partition, std::int64_t* offset, std::int64_t* ingested_millis) {
  *transaction = event::Transaction{};
  transaction->transaction_id = StringAt(doc, "_id");
  auto corrupt = [&](const char* what) {
    return Status::Corruption("MongoDB staging document '" + transaction->transaction_id +
                              "': " + what);
  };
  const auto time = IntAt(doc, "transaction_time");
  const auto ingested = IntAt(doc, "ingested_at");
  const auto subtotal = IntAt(doc, "subtotal_cents");
  const auto tax = IntAt(doc, "tax_cents");
  const auto total = IntAt(doc, "total_cents");
  const auto kafka_partition = IntAt(doc, "kafka.partition");
  const auto kafka_offset = IntAt(doc, "kafka.offset");
  if (transaction->transaction_id.empty()) return corrupt("no string _id");
  if (!time || !ingested) return corrupt("no transaction_time or ingested_at date");
  if (!subtotal || !tax || !total) return corrupt("no subtotal/tax/total cents");
  if (!kafka_partition || !kafka_offset) return corrupt("no kafka coordinates");
  transaction->transaction_time = FromEpochMillis(*time);
  if (auto micros = IntAt(doc, "transaction_time_micros")) {
    transaction->transaction_time.microsecond += static_cast<int>(*micros);
  }
  if (auto offset_minutes = IntAt(doc, "utc_offset_minutes")) {
    transaction->transaction_time.utc_offset_minutes = static_cast<int>(*offset_minutes);
  }
  event::Customer& customer = transaction->customer;
  customer.customer_id = StringAt(doc, "customer.customer_id");
  customer.first_name = StringAt(doc, "customer.first_name");
  customer.last_name = StringAt(doc, "customer.last_name");
  customer.email = StringAt(doc, "customer.email");
  customer.street = StringAt(doc, "customer.street");
  customer.city = StringAt(doc, "customer.city");
  customer.province = StringAt(doc, "customer.province");
  customer.postal_code = StringAt(doc, "customer.postal_code");
  event::Store& store = transaction->store;
  store.store_id = StringAt(doc, "store.store_id");
  store.name = StringAt(doc, "store.name");
  store.address = StringAt(doc, "store.address");
  store.city = StringAt(doc, "store.city");
  store.province = StringAt(doc, "store.province");
  store.postal_code = StringAt(doc, "store.postal_code");
  if (store.store_id.empty()) return corrupt("no store.store_id");
  transaction->subtotal_cents = *subtotal;
  transaction->tax_cents = *tax;
  transaction->total_cents = *total;
  transaction->payment_type = StringAt(doc, "payment_type");
  const std::string shape = StringAt(doc, "source_shape");
  transaction->shape = shape == "flattened"    ? event::Shape::kFlattened
                       : shape == "camel_case" ? event::Shape::kCamelCase
                                               : event::Shape::kSeedProducer;
  bson_iter_t iter;
  if (bson_iter_init_find(&iter, doc, "extra") && BSON_ITER_HOLDS_DOCUMENT(&iter)) {
    std::uint32_t length = 0;
    const std::uint8_t* data = nullptr;
    bson_iter_document(&iter, &length, &data);
    bson_t extra;
    if (bson_init_static(&extra, data, length)) {
      char* json = bson_as_relaxed_extended_json(&extra, nullptr);
      if (json != nullptr) {
        transaction->extra_json = json;
        bson_free(json);
      }
    }
  } else if (std::string extra_json = StringAt(doc, "extra_json"); !extra_json.empty()) {
    transaction->extra_json = std::move(extra_json);
  }
  bson_iter_t lines;
  if (!bson_iter_init_find(&iter, doc, "lines") || !BSON_ITER_HOLDS_ARRAY(&iter) ||
      !bson_iter_recurse(&iter, &lines)) {
    return corrupt("no lines array");
  }
  while (bson_iter_next(&lines)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&lines)) return corrupt("a line is not a document");
    std::uint32_t length = 0;
    const std::uint8_t* data = nullptr;
    bson_iter_document(&lines, &length, &data);
    bson_t line_doc;
    if (!bson_init_static(&line_doc, data, length)) return corrupt("unreadable line");
    event::Line line;
    line.product_id = StringAt(&line_doc, "product_id");
    line.item = StringAt(&line_doc, "item");
    const auto price = IntAt(&line_doc, "unit_price_cents");
    const auto quantity = IntAt(&line_doc, "quantity");
    const auto line_total = IntAt(&line_doc, "line_total_cents");
    if (!price || !quantity || !line_total) return corrupt("a line lacks its cents or quantity");
    line.unit_price_cents = *price;
    line.quantity = static_cast<std::int32_t>(*quantity);
    line.line_total_cents = *line_total;
    transaction->lines.push_back(std::move(line));
  }
  if (transaction->lines.empty()) return corrupt("no lines");
  *topic = StringAt(doc, "kafka.topic");
  *partition = static_cast<std::int32_t>(*kafka_partition);
  *offset = *kafka_offset;
  *ingested_millis = *ingested;
  return Status::Ok();
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
  auto handles = std::make_unique<Handles>();
  bson_error_t error;
  handles->uri = mongoc_uri_new_with_error(uri_text.c_str(), &error);
  if (handles->uri == nullptr) {
    return Status::InvalidArgument("staging URI " + description + ": " + error.message);
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
    return Status::InvalidArgument("staging URI " + description + ": " + error.message);
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
    bson_t entry;
    if (!bson_init_static(&entry, data, length)) continue;
    const auto index = IntAt(&entry, "index");
    const auto code = IntAt(&entry, "code");
    if (!index || *index < 0 || static_cast<std::size_t>(*index) >= end - begin) {
      return Status::Internal("MongoDB reported a write error without a valid index");
    }
    if (code && *code == kDuplicateKey) continue;  // staged before: counts as staged
    const std::string code_text = code ? std::to_string(*code) : "unknown";
    refusals->push_back({begin + static_cast<std::size_t>(*index),
                         event::Problem{"mongo.refused:" + code_text,
                                        "MongoDB refused the document: " +
                                            StorableText(StringAt(&entry, "errmsg"), 300)}});
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
    bson_t* doc = bson_new();
    BuildDocument(*messages[index], now, doc);
    documents.docs[index] = doc;
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

namespace {

// The name of the first text field of `transaction` (or the topic) that PostgreSQL's text type
// would refuse (a NUL, invalid UTF-8); "" when there is none.
std::string UnstorableTextField(const event::Transaction& transaction, const std::string& topic) {
  const auto storable = [](std::string_view text) {
    return text.find('\0') == std::string_view::npos && IsValidUtf8(text);
  };
  const event::Customer& customer = transaction.customer;
  const event::Store& store = transaction.store;
  const std::pair<const char*, const std::string*> fields[] = {
      {"transaction_id", &transaction.transaction_id},
      {"topic", &topic},
      {"payment_type", &transaction.payment_type},
      {"extra", &transaction.extra_json},
      {"customer.customer_id", &customer.customer_id},
      {"customer.first_name", &customer.first_name},
      {"customer.last_name", &customer.last_name},
      {"customer.email", &customer.email},
      {"customer.street", &customer.street},
      {"customer.city", &customer.city},
      {"customer.province", &customer.province},
      {"customer.postal_code", &customer.postal_code},
      {"store.store_id", &store.store_id},
      {"store.name", &store.name},
      {"store.address", &store.address},
      {"store.city", &store.city},
      {"store.province", &store.province},
      {"store.postal_code", &store.postal_code}};
  for (const auto& [name, value] : fields) {
    if (!storable(*value)) return name;
  }
  for (std::size_t index = 0; index < transaction.lines.size(); ++index) {
    const event::Line& line = transaction.lines[index];
    if (!storable(line.item) || !storable(line.product_id)) {
      return "lines[" + std::to_string(index) + "]";
    }
  }
  return "";
}

}  // namespace

Result<MongoBatch> MongoStaging::ReadSegment(std::int64_t limit) {
  MongoBatch batch;
  if (handles_->cursor == nullptr) return Status::Internal("ReadSegment without OpenSegment");
  pg::CopyWriter transactions(&batch.transaction_rows);
  pg::CopyWriter lines(&batch.line_rows);
  const bson_t* doc = nullptr;
  event::Transaction transaction;
  std::string topic;
  // libmongoc refuses a next() after the end: remember it.
  while (!handles_->cursor_done && static_cast<std::int64_t>(batch.ids.size()) < limit) {
    if (!mongoc_cursor_next(handles_->cursor, &doc)) {
      handles_->cursor_done = true;
      break;
    }
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::int64_t ingested = 0;
    const std::int64_t position = handles_->segment_position++;
    Status parsed = ParseDocument(doc, &transaction, &topic, &partition, &offset, &ingested);
    std::string unstorable;
    if (parsed.ok()) unstorable = UnstorableTextField(transaction, topic);
    if (!parsed.ok() || !unstorable.empty()) {
      MongoRefusedDocument refused;
      refused.transaction_id = StorableText(transaction.transaction_id, 200);
      if (parsed.ok()) {
        refused.topic = topic;
        refused.partition = partition;
        refused.offset = offset;
        refused.reason = "etl.refused:text";
        refused.details = "the staged document's " + unstorable +
                          " holds a NUL or invalid UTF-8, which PostgreSQL cannot store";
      } else {
        refused.topic = "mongodb:" + handles_->segment_name;
        refused.offset = position;
        refused.reason = "etl.refused:document";
        refused.details = StorableText(parsed.message(), 1000);
      }
      char* json = bson_as_relaxed_extended_json(doc, nullptr);
      refused.document = json != nullptr ? StorableText(json, std::size_t{1} << 20) : "";
      bson_free(json);
      batch.refused.push_back(std::move(refused));
      batch.ids.push_back(transaction.transaction_id);
      continue;
    }
    ValidMessage message;
    message.source = KafkaCoordinates{topic, partition, offset};
    message.transaction = &transaction;
    AppendStagedTransactionRow(message, TimestamptzText(ingested), &transactions);
    AppendStagedLineRows(message, &lines);
    batch.ids.push_back(transaction.transaction_id);
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

Result<std::vector<MongoStagedDocument>> MongoStaging::Documents() {
  auto segments = SealedSegments();
  if (!segments.ok()) return segments.status();
  std::vector<std::string> collections = *segments;
  collections.emplace_back(kCollection);
  std::vector<MongoStagedDocument> documents;
  for (const std::string& name : collections) {
    mongoc_collection_t* collection =
        mongoc_client_get_collection(handles_->client, handles_->database.c_str(), name.c_str());
    Bson filter;
    mongoc_cursor_t* cursor =
        mongoc_collection_find_with_opts(collection, filter.get(), nullptr, nullptr);
    const bson_t* doc = nullptr;
    Status status = Status::Ok();
    event::Transaction transaction;
    std::string topic;
    while (status.ok() && mongoc_cursor_next(cursor, &doc)) {
      std::int32_t partition = 0;
      std::int64_t offset = 0;
      std::int64_t ingested = 0;
      // A document not in ingest's shape is not a staged sale: the ETL quarantines it.
      if (!ParseDocument(doc, &transaction, &topic, &partition, &offset, &ingested).ok()) continue;
      MongoStagedDocument document;
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
