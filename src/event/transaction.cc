#include "event/transaction.h"

namespace posflow::event {

const char* ShapeName(Shape shape) {
  switch (shape) {
    case Shape::kSeedProducer:
      return "seed";
    case Shape::kFlattened:
      return "flattened";
    case Shape::kCamelCase:
      return "camel_case";
  }
  return "unknown";
}

void AppendJsonString(std::string_view text, std::string* out) {
  out->push_back('"');
  AppendJsonEscaped(text, out);
  out->push_back('"');
}

void AppendJsonEscaped(std::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Copy runs of plain characters at once; escape the rest.
  size_t run_begin = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte != '"' && byte != '\\') continue;
    out->append(text.data() + run_begin, i - run_begin);
    run_begin = i + 1;
    switch (byte) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        out->append("\\u00");
        out->push_back(kHex[byte >> 4]);
        out->push_back(kHex[byte & 0xf]);
    }
  }
  out->append(text.data() + run_begin, text.size() - run_begin);
}

namespace {

void AppendField(const char* name, std::string_view value, std::string* out) {
  out->push_back('"');
  out->append(name);
  out->append("\":");
  AppendJsonString(value, out);
}

void AppendMoneyField(const char* name, Cents cents, std::string* out) {
  out->push_back('"');
  out->append(name);
  out->append("\":");
  AppendCents(cents, out);
}

}  // namespace

void AppendSeedJson(const Transaction& transaction, std::string* out) {
  out->append("{");
  AppendField("transaction_id", transaction.transaction_id, out);
  out->append(",\"transaction_date\":\"");
  const CivilDateTime& time = transaction.transaction_time;
  if (time.utc_offset_minutes || time.microsecond != 0) {
    out->append(FormatIsoDateTime(time));  // the seed's form would lose them
  } else {
    AppendSeedDateTime(time, out);
  }
  out->append("\",\"customer\":");
  if (transaction.customer == Customer{}) {
    out->append("null");
  } else {
    const Customer& customer = transaction.customer;
    out->append("{");
    AppendField("customer_id", customer.customer_id, out);
    out->push_back(',');
    AppendField("first_name", customer.first_name, out);
    out->push_back(',');
    AppendField("last_name", customer.last_name, out);
    out->push_back(',');
    AppendField("email", customer.email, out);
    out->push_back(',');
    AppendField("street", customer.street, out);
    out->push_back(',');
    AppendField("city", customer.city, out);
    out->push_back(',');
    AppendField("province", customer.province, out);
    out->push_back(',');
    AppendField("postal_code", customer.postal_code, out);
    out->append("}");
  }
  out->append(",\"items\":[");
  for (size_t i = 0; i < transaction.lines.size(); ++i) {
    const Line& line = transaction.lines[i];
    if (i > 0) out->push_back(',');
    out->append("{");
    if (!line.product_id.empty()) {
      AppendField("product_id", line.product_id, out);
      out->push_back(',');
    }
    AppendField("item", line.item, out);
    out->push_back(',');
    AppendMoneyField("price", line.unit_price_cents, out);
    out->append(",\"quantity\":");
    out->append(std::to_string(line.quantity));
    out->push_back(',');
    AppendMoneyField("total_price", line.line_total_cents, out);
    out->append("}");
  }
  out->append("],");
  AppendMoneyField("subtotal", transaction.subtotal_cents, out);
  out->push_back(',');
  AppendMoneyField("tax", transaction.tax_cents, out);
  out->push_back(',');
  AppendMoneyField("total", transaction.total_cents, out);
  out->push_back(',');
  AppendField("payment_type", transaction.payment_type, out);
  out->append(",\"location\":{");
  const Store& store = transaction.store;
  AppendField("store_id", store.store_id, out);
  out->push_back(',');
  AppendField("name", store.name, out);
  out->push_back(',');
  AppendField("address", store.address, out);
  out->push_back(',');
  AppendField("city", store.city, out);
  out->push_back(',');
  AppendField("province", store.province, out);
  out->push_back(',');
  AppendField("postal_code", store.postal_code, out);
  out->append("}");
  // Extra fields: the members of the extra object, spliced in at the top level.
  if (transaction.extra_json.size() > 2) {
    out->push_back(',');
    out->append(transaction.extra_json, 1, transaction.extra_json.size() - 2);
  }
  out->append("}");
}

}  // namespace posflow::event
