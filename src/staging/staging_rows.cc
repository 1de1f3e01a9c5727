#include "staging/staging_rows.h"

#include <cstdint>
#include <vector>

#include "event/transaction.h"

namespace posflow::staging {

void AppendStagedTransactionRow(const ValidMessage& message, std::string_view ingested_at,
                                 pg::CopyWriter* row) {
  const event::Transaction& transaction = *message.transaction;
  const event::Customer& customer = transaction.customer;
  const event::Store& store = transaction.store;
  row->Text(transaction.transaction_id);
  row->Timestamp(transaction.transaction_time);
  if (transaction.transaction_time.utc_offset_minutes) {
    row->Int(*transaction.transaction_time.utc_offset_minutes);
  } else {
    row->Null();
  }
  row->TextOrNull(customer.customer_id);
  row->TextOrNull(customer.first_name);
  row->TextOrNull(customer.last_name);
  row->TextOrNull(customer.email);
  row->TextOrNull(customer.street);
  row->TextOrNull(customer.city);
  row->TextOrNull(customer.province);
  row->TextOrNull(customer.postal_code);
  row->Text(store.store_id);
  row->TextOrNull(store.name);
  row->TextOrNull(store.address);
  row->TextOrNull(store.city);
  row->TextOrNull(store.province);
  row->TextOrNull(store.postal_code);
  row->Int(static_cast<std::int64_t>(transaction.lines.size()));
  row->Money(transaction.subtotal_cents);
  row->Money(transaction.tax_cents);
  row->Money(transaction.total_cents);
  row->Text(transaction.payment_type);
  row->Text(transaction.extra_json);
  row->Text(event::ShapeName(transaction.shape));
  row->Text(message.source.topic);
  row->Int(message.source.partition);
  row->Int(message.source.offset);
  if (!ingested_at.empty()) row->Text(ingested_at);
  row->EndRow();
}

void AppendStagedLineRows(const ValidMessage& message, pg::CopyWriter* row) {
  const auto& lines = message.transaction->lines;
  Cents running_total = 0;
  for (size_t index = 0; index < lines.size(); ++index) {
    const event::Line& line = lines[index];
    row->Text(message.transaction->transaction_id);
    row->Int(static_cast<std::int64_t>(index + 1));
    row->TextOrNull(line.product_id);
    row->Text(line.item);
    row->Money(line.unit_price_cents);
    row->Int(line.quantity);
    row->Money(line.line_total_cents);
    running_total += line.line_total_cents;
    row->Money(running_total);
    row->EndRow();
  }
}

}  // namespace posflow::staging
