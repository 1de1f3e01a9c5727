#include "sim/manifest.h"

#include <simdjson.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <tuple>

namespace posflow::sim {
namespace {

constexpr std::string_view kFormat = "posflow-manifest/1";

auto TimeKey(const CivilDateTime& time) {
  return std::tie(time.year, time.month, time.day, time.hour, time.minute, time.second);
}

template <typename Map>
std::map<std::string, typename Map::mapped_type> Sorted(const Map& map) {
  return {map.begin(), map.end()};
}

void AppendKey(std::string_view key, std::string* out) {
  event::AppendJsonString(key, out);
  out->push_back(':');
}

void AppendScalar(std::string_view key, std::int64_t value, std::string* out) {
  out->append("  ");
  AppendKey(key, out);
  out->append(std::to_string(value));
  out->append(",\n");
}

void AppendScalar(std::string_view key, std::string_view value, std::string* out) {
  out->append("  ");
  AppendKey(key, out);
  event::AppendJsonString(value, out);
  out->append(",\n");
}

// {"a": 1, "b": 2} on one line.
void AppendCounts(const std::map<std::string, std::int64_t>& counts, std::string* out) {
  out->push_back('{');
  bool first = true;
  for (const auto& [key, count] : counts) {
    if (!first) out->append(", ");
    first = false;
    AppendKey(key, out);
    out->append(std::to_string(count));
  }
  out->push_back('}');
}

// ---- Reading -------------------------------------------------------------------------------

namespace dom = simdjson::dom;

Status Bad(std::string_view what) {
  return Status::Corruption("manifest: " + std::string(what));
}

Status ReadInt(dom::object object, std::string_view key, std::int64_t* out, bool required) {
  dom::element element;
  if (object.at_key(key).get(element) != simdjson::SUCCESS) {
    return required ? Bad("missing \"" + std::string(key) + "\"") : Status::Ok();
  }
  if (element.get_int64().get(*out) != simdjson::SUCCESS) {
    return Bad("\"" + std::string(key) + "\" is not an integer");
  }
  return Status::Ok();
}

Status ReadString(dom::object object, std::string_view key, std::string* out) {
  dom::element element;
  if (object.at_key(key).get(element) != simdjson::SUCCESS) return Status::Ok();
  std::string_view text;
  if (element.get_string().get(text) != simdjson::SUCCESS) {
    return Bad("\"" + std::string(key) + "\" is not a string");
  }
  out->assign(text);
  return Status::Ok();
}

Status ReadCounts(dom::object object, std::string_view key,
                  std::map<std::string, std::int64_t>* out) {
  dom::element element;
  if (object.at_key(key).get(element) != simdjson::SUCCESS) return Status::Ok();
  dom::object counts;
  if (element.get_object().get(counts) != simdjson::SUCCESS) {
    return Bad("\"" + std::string(key) + "\" is not an object");
  }
  for (auto [name, value] : counts) {
    std::int64_t count;
    if (value.get_int64().get(count) != simdjson::SUCCESS) {
      return Bad("\"" + std::string(key) + "." + std::string(name) + "\" is not an integer");
    }
    (*out)[std::string(name)] = count;
  }
  return Status::Ok();
}

}  // namespace

// ---- ManifestBuilder -----------------------------------------------------------------------

void ManifestBuilder::CountMessage(std::string_view key) {
  ++messages_;
  // Heterogeneous lookup needs C++20 transparent hashing; a short key copy is cheap enough.
  ++messages_by_key_[std::string(key)];
}

void ManifestBuilder::AddValid(const event::Transaction& transaction) {
  CountMessage(transaction.store.store_id);
  ++valid_;
  lines_ += static_cast<std::int64_t>(transaction.lines.size());
  subtotal_cents_ += transaction.subtotal_cents;
  tax_cents_ += transaction.tax_cents;
  total_cents_ += transaction.total_cents;
  StoreAccumulator& store = stores_[transaction.store.store_id];
  ++store.totals.transactions;
  store.totals.total_cents += transaction.total_cents;
  for (const event::Line& line : transaction.lines) {
    quantity_ += line.quantity;
    store.quantity_by_product[line.product_id] += line.quantity;
  }
  const CivilDateTime& time = transaction.transaction_time;
  if (!has_time_ || TimeKey(time) < TimeKey(first_time_)) first_time_ = time;
  if (!has_time_ || TimeKey(last_time_) < TimeKey(time)) last_time_ = time;
  has_time_ = true;
}

void ManifestBuilder::AddDuplicate(std::string_view key) {
  CountMessage(key);
  ++duplicates_;
}

void ManifestBuilder::AddBad(std::string_view key, std::string_view code) {
  CountMessage(key);
  ++bad_total_;
  ++bad_[std::string(code)];
}

Manifest ManifestBuilder::Build() const {
  Manifest manifest;
  manifest.messages = messages_;
  manifest.valid = valid_;
  manifest.duplicates = duplicates_;
  manifest.bad_total = bad_total_;
  manifest.bad = Sorted(bad_);
  manifest.lines = lines_;
  manifest.quantity = quantity_;
  manifest.subtotal_cents = subtotal_cents_;
  manifest.tax_cents = tax_cents_;
  manifest.total_cents = total_cents_;
  if (has_time_) {
    manifest.first_time = FormatSeedDateTime(first_time_);
    manifest.last_time = FormatSeedDateTime(last_time_);
  }
  for (const auto& [store_id, store] : stores_) {
    manifest.by_store[store_id] = store.totals;
    manifest.by_store_product[store_id] = Sorted(store.quantity_by_product);
  }
  manifest.messages_by_key = Sorted(messages_by_key_);
  return manifest;
}

// ---- Manifest ------------------------------------------------------------------------------

std::string Manifest::ToJson() const {
  std::string out = "{\n";
  AppendScalar("format", kFormat, &out);
  AppendScalar("seed", static_cast<std::int64_t>(seed), &out);
  AppendScalar("sink", sink, &out);
  out.append("  \"complete\":");
  out.append(complete ? "true" : "false");
  out.append(",\n");
  AppendScalar("stopped_by", stopped_by, &out);
  AppendScalar("messages", messages, &out);
  AppendScalar("valid", valid, &out);
  AppendScalar("duplicates", duplicates, &out);
  AppendScalar("bad_total", bad_total, &out);
  out.append("  \"bad\":");
  AppendCounts(bad, &out);
  out.append(",\n");
  AppendScalar("lines", lines, &out);
  AppendScalar("quantity", quantity, &out);
  AppendScalar("subtotal_cents", subtotal_cents, &out);
  AppendScalar("tax_cents", tax_cents, &out);
  AppendScalar("total_cents", total_cents, &out);
  AppendScalar("first_time", first_time, &out);
  AppendScalar("last_time", last_time, &out);
  out.append("  \"by_store\":{");
  bool first = true;
  for (const auto& [store_id, totals] : by_store) {
    out.append(first ? "\n    " : ",\n    ");
    first = false;
    AppendKey(store_id, &out);
    out.append("{\"transactions\":" + std::to_string(totals.transactions) +
               ", \"total_cents\":" + std::to_string(totals.total_cents) + "}");
  }
  out.append(first ? "},\n" : "\n  },\n");
  out.append("  \"by_store_product\":{");
  first = true;
  for (const auto& [store_id, products] : by_store_product) {
    out.append(first ? "\n    " : ",\n    ");
    first = false;
    AppendKey(store_id, &out);
    AppendCounts(products, &out);
  }
  out.append(first ? "},\n" : "\n  },\n");
  out.append("  \"messages_by_key\":");
  AppendCounts(messages_by_key, &out);
  out.append(",\n  \"price_changes\":[");
  first = true;
  for (const ManifestPriceChange& change : price_changes) {
    out.append(first ? "\n    {" : ",\n    {");
    first = false;
    AppendKey("product_id", &out);
    event::AppendJsonString(change.product_id, &out);
    out.append(", ");
    AppendKey("effective_utc", &out);
    event::AppendJsonString(change.effective_utc, &out);
    out.append(", \"old_price_cents\":" + std::to_string(change.old_price_cents) +
               ", \"new_price_cents\":" + std::to_string(change.new_price_cents) + "}");
  }
  out.append(first ? "]\n}\n" : "\n  ]\n}\n");
  return out;
}

Result<Manifest> ParseManifest(std::string_view json) {
  dom::parser parser;
  dom::element root;
  const simdjson::padded_string padded(json);
  if (auto error = parser.parse(padded).get(root)) {
    return Bad(std::string("not JSON: ") + simdjson::error_message(error));
  }
  dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) return Bad("not a JSON object");
  std::string format;
  POSFLOW_RETURN_IF_ERROR(ReadString(object, "format", &format));
  if (format != kFormat) {
    return Bad("format is \"" + format + "\", expected \"" + std::string(kFormat) + "\"");
  }
  Manifest manifest;
  std::int64_t seed = 0;
  POSFLOW_RETURN_IF_ERROR(ReadInt(object, "seed", &seed, false));
  manifest.seed = static_cast<std::uint64_t>(seed);
  POSFLOW_RETURN_IF_ERROR(ReadString(object, "sink", &manifest.sink));
  bool complete = true;
  if (dom::element element; object.at_key("complete").get(element) == simdjson::SUCCESS &&
                            element.get_bool().get(complete) != simdjson::SUCCESS) {
    return Bad("\"complete\" is not a boolean");
  }
  manifest.complete = complete;
  POSFLOW_RETURN_IF_ERROR(ReadString(object, "stopped_by", &manifest.stopped_by));
  POSFLOW_RETURN_IF_ERROR(ReadInt(object, "messages", &manifest.messages, true));
  POSFLOW_RETURN_IF_ERROR(ReadInt(object, "valid", &manifest.valid, true));
  POSFLOW_RETURN_IF_ERROR(ReadInt(object, "duplicates", &manifest.duplicates, true));
  POSFLOW_RETURN_IF_ERROR(ReadInt(object, "bad_total", &manifest.bad_total, true));
  POSFLOW_RETURN_IF_ERROR(ReadCounts(object, "bad", &manifest.bad));
  POSFLOW_RETURN_IF_ERROR(ReadInt(object, "lines", &manifest.lines, true));
  POSFLOW_RETURN_IF_ERROR(ReadInt(object, "quantity", &manifest.quantity, true));
  POSFLOW_RETURN_IF_ERROR(ReadInt(object, "subtotal_cents", &manifest.subtotal_cents, true));
  POSFLOW_RETURN_IF_ERROR(ReadInt(object, "tax_cents", &manifest.tax_cents, true));
  POSFLOW_RETURN_IF_ERROR(ReadInt(object, "total_cents", &manifest.total_cents, true));
  POSFLOW_RETURN_IF_ERROR(ReadString(object, "first_time", &manifest.first_time));
  POSFLOW_RETURN_IF_ERROR(ReadString(object, "last_time", &manifest.last_time));
  if (dom::object stores; object["by_store"].get_object().get(stores) == simdjson::SUCCESS) {
    for (auto [store_id, value] : stores) {
      dom::object totals_object;
      if (value.get_object().get(totals_object) != simdjson::SUCCESS) {
        return Bad("by_store." + std::string(store_id) + " is not an object");
      }
      StoreTotals totals;
      POSFLOW_RETURN_IF_ERROR(ReadInt(totals_object, "transactions", &totals.transactions, true));
      POSFLOW_RETURN_IF_ERROR(ReadInt(totals_object, "total_cents", &totals.total_cents, true));
      manifest.by_store[std::string(store_id)] = totals;
    }
  }
  if (dom::object stores;
      object["by_store_product"].get_object().get(stores) == simdjson::SUCCESS) {
    for (auto [store_id, value] : stores) {
      dom::object products;
      if (value.get_object().get(products) != simdjson::SUCCESS) {
        return Bad("by_store_product." + std::string(store_id) + " is not an object");
      }
      auto& quantities = manifest.by_store_product[std::string(store_id)];
      for (auto [product_id, quantity_value] : products) {
        std::int64_t quantity;
        if (quantity_value.get_int64().get(quantity) != simdjson::SUCCESS) {
          return Bad("by_store_product quantity is not an integer");
        }
        quantities[std::string(product_id)] = quantity;
      }
    }
  }
  POSFLOW_RETURN_IF_ERROR(ReadCounts(object, "messages_by_key", &manifest.messages_by_key));
  if (dom::array changes; object["price_changes"].get_array().get(changes) == simdjson::SUCCESS) {
    for (dom::element element : changes) {
      dom::object change_object;
      if (element.get_object().get(change_object) != simdjson::SUCCESS) {
        return Bad("a price change is not an object");
      }
      ManifestPriceChange change;
      POSFLOW_RETURN_IF_ERROR(ReadString(change_object, "product_id", &change.product_id));
      POSFLOW_RETURN_IF_ERROR(ReadString(change_object, "effective_utc", &change.effective_utc));
      POSFLOW_RETURN_IF_ERROR(
          ReadInt(change_object, "old_price_cents", &change.old_price_cents, true));
      POSFLOW_RETURN_IF_ERROR(
          ReadInt(change_object, "new_price_cents", &change.new_price_cents, true));
      manifest.price_changes.push_back(std::move(change));
    }
  }
  return manifest;
}

Status WriteManifest(const Manifest& manifest, const std::string& path) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    if (!file) return Status::IoError("cannot write the manifest " + temporary);
    file << manifest.ToJson();
    file.flush();
    if (!file) return Status::IoError("writing the manifest " + temporary + " failed");
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    return Status::IoError("cannot rename " + temporary + " to " + path);
  }
  return Status::Ok();
}

Result<Manifest> ReadManifest(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status::IoError("cannot read the manifest " + path);
  std::ostringstream contents;
  contents << file.rdbuf();
  auto manifest = ParseManifest(contents.str());
  if (!manifest.ok()) return manifest.status().WithContext(path);
  return manifest;
}

}  // namespace posflow::sim
