#include "staging/mongo_document.h"

#include <bson/bson.h>

#include <cstdio>
#include <utility>

#include "common/civil_time.h"
#include "common/text.h"
#include "pg/copy_writer.h"
#include "staging/staging_rows.h"

namespace posflow::staging {
namespace {

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
  if (transaction.extra_json != "{}") {
    bson_error_t error;
    bson_t* extra = bson_new_from_json(reinterpret_cast<const std::uint8_t*>(
                                           transaction.extra_json.data()),
                                       static_cast<ssize_t>(transaction.extra_json.size()), &error);
    if (extra != nullptr && KeysAreFieldNames(extra)) {
      bson_append_document(doc, "extra", -1, extra);
    } else {
      AppendString(doc, "extra_json", transaction.extra_json);
    }
    if (extra != nullptr) bson_destroy(extra);
  }
  bson_t kafka;
  bson_append_document_begin(doc, "kafka", -1, &kafka);
  AppendString(&kafka, "topic", message.source.topic);
  bson_append_int32(&kafka, "partition", -1, message.source.partition);
  bson_append_int64(&kafka, "offset", -1, message.source.offset);
  bson_append_document_end(doc, &kafka);
  bson_append_date_time(doc, "ingested_at", -1, ingested_millis);
}

// A read-only bson_t over `bytes` (no copy). False when they are not a BSON document's.
bool View(std::string_view bytes, bson_t* doc) {
  return bson_init_static(doc, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

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

std::string StagedDocumentBson(const ValidMessage& message, std::int64_t ingested_millis) {
  bson_t doc;
  bson_init(&doc);
  BuildDocument(message, ingested_millis, &doc);
  std::string bytes(reinterpret_cast<const char*>(bson_get_data(&doc)), doc.len);
  bson_destroy(&doc);
  return bytes;
}

Status ParseStagedDocument(std::string_view bson, StagedDocument* document) {
  bson_t doc;
  if (!View(bson, &doc)) {
    document->transaction = event::Transaction{};
    return Status::Corruption("MongoDB staging document: not a BSON document");
  }
  return ParseDocument(&doc, &document->transaction, &document->topic, &document->partition,
                       &document->offset, &document->ingested_millis);
}

std::string DocumentJson(std::string_view bson) {
  bson_t doc;
  if (!View(bson, &doc)) return "";
  char* json = bson_as_relaxed_extended_json(&doc, nullptr);
  std::string text = json != nullptr ? json : "";
  bson_free(json);
  return text;
}

std::optional<std::string> StringField(std::string_view bson, const char* path) {
  bson_t doc;
  bson_iter_t iter;
  bson_iter_t found;
  if (!View(bson, &doc) || !bson_iter_init(&iter, &doc) ||
      !bson_iter_find_descendant(&iter, path, &found) || !BSON_ITER_HOLDS_UTF8(&found)) {
    return std::nullopt;
  }
  std::uint32_t length = 0;
  const char* text = bson_iter_utf8(&found, &length);
  return std::string(text, length);
}

std::optional<std::int64_t> IntField(std::string_view bson, const char* path) {
  bson_t doc;
  if (!View(bson, &doc)) return std::nullopt;
  return IntAt(&doc, path);
}

void AddDocumentToBatch(std::string_view bson, const std::string& segment, std::int64_t position,
                        StagedDocument* scratch, MongoBatch* batch) {
  event::Transaction& transaction = scratch->transaction;
  const Status parsed = ParseStagedDocument(bson, scratch);
  std::string unstorable;
  if (parsed.ok()) unstorable = UnstorableTextField(transaction, scratch->topic);
  if (!parsed.ok() || !unstorable.empty()) {
    MongoRefusedDocument refused;
    refused.transaction_id = StorableText(transaction.transaction_id, 200);
    if (parsed.ok()) {
      refused.topic = scratch->topic;
      refused.partition = scratch->partition;
      refused.offset = scratch->offset;
      refused.reason = "etl.refused:text";
      refused.details = "the staged document's " + unstorable +
                        " holds a NUL or invalid UTF-8, which PostgreSQL cannot store";
    } else {
      refused.topic = "mongodb:" + segment;
      refused.offset = position;
      refused.reason = "etl.refused:document";
      refused.details = StorableText(parsed.message(), 1000);
    }
    refused.document = StorableText(DocumentJson(bson), std::size_t{1} << 20);
    batch->refused.push_back(std::move(refused));
    batch->ids.push_back(transaction.transaction_id);
    return;
  }
  ValidMessage message;
  message.source = KafkaCoordinates{scratch->topic, scratch->partition, scratch->offset};
  message.transaction = &transaction;
  pg::CopyWriter transactions(&batch->transaction_rows);
  pg::CopyWriter lines(&batch->line_rows);
  AppendStagedTransactionRow(message, TimestamptzText(scratch->ingested_millis), &transactions);
  AppendStagedLineRows(message, &lines);
  batch->ids.push_back(transaction.transaction_id);
}

}  // namespace posflow::staging
