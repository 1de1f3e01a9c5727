#include "warehouse/reference_loader.h"

#include <optional>
#include <string>
#include <vector>

#include "pg/copy_writer.h"

namespace posflow::warehouse {
namespace {

// pg_advisory_xact_lock key of reference loads ("posflow" in ASCII + 1; the migrator uses + 0).
constexpr const char* kLockSql = "select pg_advisory_xact_lock(31650110826786680)";

constexpr const char* kCreateTempTablesSql = R"sql(
create temp table ref_payment_type (name text not null) on commit drop;
create temp table ref_customer (
  customer_id text not null, first_name text not null, last_name text not null, email text,
  street text, city text, province text, postal_code text) on commit drop;
create temp table ref_store (
  store_id text not null, name text not null, address text not null, city text not null,
  province text not null, postal_code text not null, time_zone text not null) on commit drop;
create temp table ref_product (
  product_id text not null, name text not null, category text not null,
  unit_price numeric(12,2) not null) on commit drop;
create temp table ref_inventory (
  store_id text not null, product_id text not null, quantity integer not null,
  reorder_point integer not null) on commit drop;
)sql";

constexpr const char* kInsertDatesSql = R"sql(
with inserted as (
  insert into dw.dim_date (date_key, full_date, day_of_month, iso_weekday, weekday_name, iso_week,
                           iso_year, month, month_name, quarter, quarter_name, year, is_weekend)
  select to_char(d, 'YYYYMMDD')::integer, d, extract(day from d), extract(isodow from d),
         to_char(d, 'FMDay'), extract(week from d), extract(isoyear from d), extract(month from d),
         to_char(d, 'FMMonth'), extract(quarter from d), 'Q' || extract(quarter from d),
         extract(year from d), extract(isodow from d) >= 6
  from generate_series($1::date, $2::date, interval '1 day') as series(day)
       cross join lateral (select series.day::date) as calendar(d)
  on conflict (date_key) do nothing
  returning 1)
select count(*) from inserted
)sql";

// Day parts by hour, bounds inclusive: night 0-5, morning 6-11, afternoon 12-16, evening 17-23.
constexpr const char* kInsertTimesSql = R"sql(
with inserted as (
  insert into dw.dim_time (time_key, hour, minute, day_part)
  select (m / 60) * 100 + m % 60, m / 60, m % 60,
         case when m / 60 < 6 then 'night' when m / 60 < 12 then 'morning'
              when m / 60 < 17 then 'afternoon' else 'evening' end
  from generate_series(0, 1439) as series(m)
  on conflict (time_key) do nothing
  returning 1)
select count(*) from inserted
)sql";

constexpr const char* kFillPaymentTypesSql = R"sql(
update dw.dim_payment_type p set is_inferred = false
from ref_payment_type r where p.name = r.name and p.is_inferred
)sql";

constexpr const char* kInsertPaymentTypesSql = R"sql(
insert into dw.dim_payment_type (name)
select r.name from ref_payment_type r
where not exists (select 1 from dw.dim_payment_type p where p.name = r.name)
)sql";

constexpr const char* kUpdateCustomersSql = R"sql(
update dw.dim_customer c
set first_name = r.first_name, last_name = r.last_name, email = r.email, street = r.street,
    city = r.city, province = r.province, postal_code = r.postal_code, is_inferred = false
from ref_customer r
where c.customer_id = r.customer_id
  and (c.is_inferred
       or (c.first_name, c.last_name, c.email, c.street, c.city, c.province, c.postal_code)
          is distinct from
          (r.first_name, r.last_name, r.email, r.street, r.city, r.province, r.postal_code))
)sql";

constexpr const char* kInsertCustomersSql = R"sql(
insert into dw.dim_customer (customer_id, first_name, last_name, email, street, city, province,
                             postal_code)
select r.customer_id, r.first_name, r.last_name, r.email, r.street, r.city, r.province,
       r.postal_code
from ref_customer r
where not exists (select 1 from dw.dim_customer c where c.customer_id = r.customer_id)
)sql";

// SCD type 2, in three statements of one transaction (so now() is the same instant in all):
// fill inferred current versions in place, close changed current versions, then open a current
// version for every natural key left without one (-infinity for a key never seen, else now()).
constexpr const char* kFillStoresSql = R"sql(
update dw.dim_store d
set name = r.name, address = r.address, city = r.city, province = r.province,
    postal_code = r.postal_code, time_zone = r.time_zone, is_inferred = false
from ref_store r
where d.store_id = r.store_id and d.is_current and d.is_inferred
)sql";

constexpr const char* kCloseStoresSql = R"sql(
update dw.dim_store d set valid_to = now(), is_current = false
from ref_store r
where d.store_id = r.store_id and d.is_current
  and (d.name, d.address, d.city, d.province, d.postal_code, d.time_zone)
      is distinct from (r.name, r.address, r.city, r.province, r.postal_code, r.time_zone)
)sql";

constexpr const char* kOpenStoresSql = R"sql(
with inserted as (
  insert into dw.dim_store (store_id, name, address, city, province, postal_code, time_zone,
                            valid_from, valid_to, is_current, is_inferred)
  select r.store_id, r.name, r.address, r.city, r.province, r.postal_code, r.time_zone,
         case when exists (select 1 from dw.dim_store o where o.store_id = r.store_id)
              then now() else '-infinity'::timestamptz end,
         null, true, false
  from ref_store r
  where not exists (select 1 from dw.dim_store d where d.store_id = r.store_id and d.is_current)
  returning valid_from)
select count(*) filter (where valid_from = '-infinity'),
       count(*) filter (where valid_from <> '-infinity')
from inserted
)sql";

constexpr const char* kFillProductsSql = R"sql(
update dw.dim_product d
set name = r.name, category = r.category, unit_price = r.unit_price, is_inferred = false
from ref_product r
where d.product_id = r.product_id and d.is_current and d.is_inferred
)sql";

constexpr const char* kCloseProductsSql = R"sql(
update dw.dim_product d set valid_to = now(), is_current = false
from ref_product r
where d.product_id = r.product_id and d.is_current
  and (d.name, d.category, d.unit_price) is distinct from (r.name, r.category, r.unit_price)
)sql";

constexpr const char* kOpenProductsSql = R"sql(
with inserted as (
  insert into dw.dim_product (product_id, name, category, unit_price, valid_from, valid_to,
                              is_current, is_inferred)
  select r.product_id, r.name, r.category, r.unit_price,
         case when exists (select 1 from dw.dim_product o where o.product_id = r.product_id)
              then now() else '-infinity'::timestamptz end,
         null, true, false
  from ref_product r
  where not exists (select 1 from dw.dim_product d
                    where d.product_id = r.product_id and d.is_current)
  returning valid_from)
select count(*) filter (where valid_from = '-infinity'),
       count(*) filter (where valid_from <> '-infinity')
from inserted
)sql";

constexpr const char* kSeedInventorySql = R"sql(
with seeded as (
  insert into inventory.on_hand (store_id, product_id, quantity, reorder_point)
  select store_id, product_id, quantity, reorder_point from ref_inventory
  on conflict (store_id, product_id) do nothing
  returning store_id, product_id, quantity),
moved as (
  insert into inventory.recorded_movement (store_id, product_id, kind, quantity_change, note)
  select store_id, product_id, 'initial', quantity, 'opening stock from the reference data'
  from seeded)
select count(*) from seeded
)sql";

constexpr const char* kEnsurePartitionsSql =
    "select dw.ensure_month_partitions($1::date, $2::date)";

// The integer in the first cell of `sql`'s result.
Result<std::int64_t> QueryCount(pg::Connection& connection, const char* sql,
                                const std::vector<std::optional<std::string>>& params = {}) {
  auto rows = connection.Query(sql, params);
  if (!rows.ok()) return rows.status();
  return rows->GetInt64(0, 0);
}

// Runs one of the kOpen*Sql statements: versions opened for new natural keys, and for changed
// ones.
Status OpenVersions(pg::Connection& connection, const char* sql, std::int64_t* first_versions,
                    std::int64_t* later_versions) {
  auto rows = connection.Query(sql);
  if (!rows.ok()) return rows.status();
  auto first = rows->GetInt64(0, 0);
  if (!first.ok()) return first.status();
  auto later = rows->GetInt64(0, 1);
  if (!later.ok()) return later.status();
  *first_versions = *first;
  *later_versions = *later;
  return Status::Ok();
}

// Rows an INSERT/UPDATE changed.
Result<std::int64_t> Modify(pg::Connection& connection, const char* sql) {
  auto rows = connection.Query(sql);
  if (!rows.ok()) return rows.status();
  return static_cast<std::int64_t>(rows->AffectedRows());
}

Status CopyReferenceRows(pg::Connection& connection, const sim::ReferenceData& reference) {
  std::string buffer;
  pg::CopyWriter writer(&buffer);
  for (const sim::PaymentType& payment : reference.payment_types) {
    writer.Text(payment.name);
    writer.EndRow();
  }
  POSFLOW_RETURN_IF_ERROR(connection.CopyIn("copy ref_payment_type (name) from stdin", buffer));

  buffer.clear();
  for (const sim::CustomerInfo& info : reference.customers) {
    const event::Customer& customer = info.customer;
    if (customer.anonymous()) continue;
    writer.Text(customer.customer_id);
    writer.Text(customer.first_name);
    writer.Text(customer.last_name);
    writer.TextOrNull(customer.email);
    writer.TextOrNull(customer.street);
    writer.TextOrNull(customer.city);
    writer.TextOrNull(customer.province);
    writer.TextOrNull(customer.postal_code);
    writer.EndRow();
  }
  POSFLOW_RETURN_IF_ERROR(connection.CopyIn(
      "copy ref_customer (customer_id, first_name, last_name, email, street, city, province, "
      "postal_code) from stdin",
      buffer));

  buffer.clear();
  for (const sim::StoreInfo& info : reference.stores) {
    writer.Text(info.store.store_id);
    writer.Text(info.store.name);
    writer.Text(info.store.address);
    writer.Text(info.store.city);
    writer.Text(info.store.province);
    writer.Text(info.store.postal_code);
    writer.Text(info.time_zone);
    writer.EndRow();
  }
  POSFLOW_RETURN_IF_ERROR(connection.CopyIn(
      "copy ref_store (store_id, name, address, city, province, postal_code, time_zone) "
      "from stdin",
      buffer));

  buffer.clear();
  for (const sim::ProductInfo& product : reference.products) {
    writer.Text(product.product_id);
    writer.Text(product.name);
    writer.Text(product.category);
    writer.Money(product.unit_price_cents);
    writer.EndRow();
  }
  POSFLOW_RETURN_IF_ERROR(connection.CopyIn(
      "copy ref_product (product_id, name, category, unit_price) from stdin", buffer));

  buffer.clear();
  for (const sim::InventoryRecord& record : reference.inventory) {
    if (record.store >= reference.stores.size() || record.product >= reference.products.size()) {
      return Status::InvalidArgument("reference inventory names store index " +
                                     std::to_string(record.store) + " / product index " +
                                     std::to_string(record.product) + ", which do not exist");
    }
    writer.Text(reference.stores[record.store].store.store_id);
    writer.Text(reference.products[record.product].product_id);
    writer.Int(record.on_hand);
    writer.Int(record.reorder_point);
    writer.EndRow();
  }
  return connection.CopyIn(
      "copy ref_inventory (store_id, product_id, quantity, reorder_point) from stdin", buffer);
}

// The body of the load; the caller owns the transaction.
Status LoadInTransaction(pg::Connection& connection, const sim::ReferenceData& reference,
                         const CivilDateRange& dates, ReferenceLoadReport* report) {
  const std::string first = FormatDate(dates.first);
  const std::string last = FormatDate(dates.last);
  auto take = [](Result<std::int64_t> count, std::int64_t* into, const char* what) -> Status {
    if (!count.ok()) return count.status().WithContext(what);
    *into = *count;
    return Status::Ok();
  };

  POSFLOW_RETURN_IF_ERROR(connection.Execute(kLockSql));
  POSFLOW_RETURN_IF_ERROR(connection.Execute(kCreateTempTablesSql));
  POSFLOW_RETURN_IF_ERROR(CopyReferenceRows(connection, reference));

  POSFLOW_RETURN_IF_ERROR(take(InsertCalendarDays(connection, first, last),
                               &report->dates_inserted, "filling dw.dim_date"));
  POSFLOW_RETURN_IF_ERROR(take(QueryCount(connection, kInsertTimesSql), &report->times_inserted,
                               "filling dw.dim_time"));

  POSFLOW_RETURN_IF_ERROR(take(Modify(connection, kFillPaymentTypesSql),
                               &report->payment_types_filled, "updating dw.dim_payment_type"));
  POSFLOW_RETURN_IF_ERROR(take(Modify(connection, kInsertPaymentTypesSql),
                               &report->payment_types_inserted, "filling dw.dim_payment_type"));
  POSFLOW_RETURN_IF_ERROR(take(Modify(connection, kUpdateCustomersSql),
                               &report->customers_updated, "updating dw.dim_customer"));
  POSFLOW_RETURN_IF_ERROR(take(Modify(connection, kInsertCustomersSql),
                               &report->customers_inserted, "filling dw.dim_customer"));

  POSFLOW_RETURN_IF_ERROR(take(Modify(connection, kFillStoresSql), &report->stores_filled,
                               "filling inferred stores"));
  // Every closed version gets its successor in the next statement, counted there.
  std::int64_t closed = 0;
  POSFLOW_RETURN_IF_ERROR(
      take(Modify(connection, kCloseStoresSql), &closed, "closing changed store versions"));
  POSFLOW_RETURN_IF_ERROR(OpenVersions(connection, kOpenStoresSql, &report->stores_inserted,
                                       &report->stores_versioned)
                              .WithContext("opening store versions"));

  POSFLOW_RETURN_IF_ERROR(take(Modify(connection, kFillProductsSql), &report->products_filled,
                               "filling inferred products"));
  POSFLOW_RETURN_IF_ERROR(
      take(Modify(connection, kCloseProductsSql), &closed, "closing changed product versions"));
  POSFLOW_RETURN_IF_ERROR(OpenVersions(connection, kOpenProductsSql, &report->products_inserted,
                                       &report->products_versioned)
                              .WithContext("opening product versions"));

  POSFLOW_RETURN_IF_ERROR(take(QueryCount(connection, kSeedInventorySql),
                               &report->inventory_seeded, "seeding inventory.on_hand"));
  return take(QueryCount(connection, kEnsurePartitionsSql, {first, last}),
              &report->partitions_created, "creating fact partitions");
}

}  // namespace

CivilDateRange DefaultWarehouseDates() { return {{2020, 1, 1}, {2030, 12, 31}}; }

bool ReferenceLoadReport::Changed() const {
  return dates_inserted + times_inserted + payment_types_inserted + payment_types_filled +
             customers_inserted + customers_updated + stores_inserted + stores_versioned +
             stores_filled + products_inserted + products_versioned + products_filled +
             inventory_seeded + partitions_created !=
         0;
}

Result<ReferenceLoadReport> LoadReferenceData(pg::Connection& connection,
                                              const sim::ReferenceData& reference,
                                              const CivilDateRange& dates) {
  if (dates.last < dates.first) {
    return Status::InvalidArgument("warehouse date range " + FormatDate(dates.first) + ".." +
                                   FormatDate(dates.last) + " ends before it starts");
  }
  ReferenceLoadReport report;
  POSFLOW_RETURN_IF_ERROR(connection.Execute("begin"));
  Status status = LoadInTransaction(connection, reference, dates, &report);
  if (status.ok()) status = connection.Execute("commit");
  if (!status.ok()) {
    const std::string sqlstate = connection.last_sqlstate();
    (void)connection.Execute("rollback");
    connection.set_last_sqlstate(sqlstate);
    return status.WithContext("loading reference data into the warehouse");
  }
  return report;
}

Result<std::int64_t> InsertCalendarDays(pg::Connection& connection, const std::string& first,
                                        const std::string& last) {
  return QueryCount(connection, kInsertDatesSql, {first, last});
}

}  // namespace posflow::warehouse
