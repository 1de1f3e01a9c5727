#pragma once

// The COPY text rows of staged transactions, in the column order of staging.pos_transaction and
// staging.pos_line (kStagedTransactionColumns / kStagedLineColumns): shared by PostgreSQL
// staging and by the ETL's loading of batches from other staging stores into its temp tables.

#include <string_view>

#include "pg/copy_writer.h"
#include "staging/staging_store.h"

namespace posflow::staging {

// The columns AppendStagedTransactionRow writes, in order (without / with ingested_at).
inline constexpr const char* kStagedTransactionColumns =
    "transaction_id, transaction_time, utc_offset_minutes, customer_id, customer_first_name, "
    "customer_last_name, customer_email, customer_street, customer_city, customer_province, "
    "customer_postal_code, store_id, store_name, store_address, store_city, store_province, "
    "store_postal_code, line_count, subtotal, tax, total, payment_type, extra, source_shape, "
    "topic, kafka_partition, kafka_offset";
inline constexpr const char* kStagedLineColumns =
    "transaction_id, line_number, product_id, item, unit_price, quantity, line_total, "
    "running_line_total";

// One staging.pos_transaction row of `message`; with a non-empty `ingested_at` (a timestamptz
// literal) that column is written last too.
void AppendStagedTransactionRow(const ValidMessage& message, std::string_view ingested_at,
                                pg::CopyWriter* row);
// The staging.pos_line rows of `message`, numbered from 1, each with the running Σ line_total
// of the receipt up to and including it.
void AppendStagedLineRows(const ValidMessage& message, pg::CopyWriter* row);

}  // namespace posflow::staging
