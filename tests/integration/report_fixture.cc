#include "integration/report_fixture.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "integration/child_process.h"
#include "pipeline/init_job.h"
#include "warehouse/report.h"

namespace posflow::testing {

const std::string& HandMadeWarehouseSql() {
  static const std::string kSql = R"sql(
insert into dw.dim_store (store_key, store_id, name, address, city, province, postal_code,
                          time_zone, valid_from, valid_to, is_current)
overriding system value values
  (1, 'S001', 'Boreal Old Town', '1 King St', 'Toronto', 'ON', 'M5H 1A1', 'America/Toronto',
   '-infinity', '2024-02-01 00:00:00+00', false),
  (2, 'S001', 'Boreal Downtown', '1 King St', 'Toronto', 'ON', 'M5H 1A1', 'America/Toronto',
   '2024-02-01 00:00:00+00', null, true),
  (3, 'S002', 'Boreal "Quai", Québec', '2 Rue du Quai', 'Québec', 'QC', 'G1K 1A1',
   'America/Toronto', '-infinity', null, true),
  (4, 'S003', 'Boreal North', '3 Main St', 'Sudbury', 'ON', 'P3A 1A1', 'America/Toronto',
   '-infinity', null, true);
insert into dw.dim_product (product_key, product_id, name, category, unit_price, valid_from,
                            valid_to, is_current)
overriding system value values
  (1, 'P0001', 'Coffee, 1 kg', 'Grocery', 12.50, '-infinity', null, true),
  (2, 'P0002', 'Milk 2L', 'Dairy', 3.49, '-infinity', null, true),
  (3, 'P0003', 'Bread', 'Bakery', 4.99, '-infinity', '2024-02-01 00:00:00+00', false),
  (4, 'P0003', 'Sourdough Bread', 'Bakery', 5.25, '2024-02-01 00:00:00+00', null, true),
  (5, 'P0004', 'Apples', 'Produce', 0.99, '-infinity', null, true);
insert into dw.dim_payment_type (payment_type_key, name) overriding system value values
  (1, 'Cash'), (2, 'Credit Card'), (3, 'Debit Card');
-- January and February get their partitions; March stays in the default partition.
select dw.ensure_month_partitions('2024-01-01', '2024-02-29');
insert into dw.fact_transaction (transaction_id, sale_date, date_key, time_key, store_key,
  customer_key, payment_type_key, line_count, item_count, subtotal, tax, total, sold_at) values
  ('T1', '2024-01-15', 20240115,  905, 1, 0, 1, 2,  3, 28.49,  3.70, 32.19, '2024-01-15 09:05-05'),
  ('T2', '2024-01-15', 20240115,  940, 3, 0, 2, 1,  1,  4.99,  0.65,  5.64, '2024-01-15 09:40-05'),
  ('T3', '2024-02-03', 20240203, 1424, 2, 0, 2, 3,  6, 25.97,  3.38, 29.35, '2024-02-03 14:24-05'),
  ('T4', '2024-02-03', 20240203, 1450, 2, 0, 3, 1,  2,  6.98,  0.91,  7.89, '2024-02-03 14:50-05'),
  ('T5', '2024-02-03', 20240203, 1810, 3, 0, 1, 2,  6, 17.45,  2.27, 19.72, '2024-02-03 18:10-05'),
  ('T6', '2024-02-04', 20240204, 1405, 3, 0, 2, 1, -1, -3.49, -0.45, -3.94, '2024-02-04 14:05-05'),
  ('T7', '2024-03-01', 20240301,  915, 2, 0, 1, 3, 12, 18.64,  2.42, 21.06, '2024-03-01 09:15-05');
insert into dw.fact_sales_line (transaction_id, line_number, sale_date, date_key, time_key,
  store_key, customer_key, payment_type_key, product_key, quantity, unit_price, line_total,
  tax_share, sold_at)
select t.transaction_id, l.line_number, t.sale_date, t.date_key, t.time_key, t.store_key,
       t.customer_key, t.payment_type_key, l.product_key, l.quantity, l.unit_price,
       l.line_total, l.tax_share, t.sold_at
from (values
  ('T1', 1, 1,  2, 12.50, 25.00,  3.25), ('T1', 2, 2, 1,  3.49,  3.49, 0.45),
  ('T2', 1, 3,  1,  4.99,  4.99,  0.65),
  ('T3', 1, 1,  1, 12.50, 12.50,  1.63), ('T3', 2, 4, 2,  5.25, 10.50, 1.36),
  ('T3', 3, 5,  3,  0.99,  2.97,  0.39),
  ('T4', 1, 2,  2,  3.49,  6.98,  0.91),
  ('T5', 1, 5,  5,  0.99,  4.95,  0.64), ('T5', 2, 1, 1, 12.50, 12.50, 1.63),
  ('T6', 1, 2, -1,  3.49, -3.49, -0.45),
  ('T7', 1, 5, 10,  0.99,  9.90,  1.29), ('T7', 2, 2, 1,  3.49,  3.49, 0.45),
  ('T7', 3, 4,  1,  5.25,  5.25,  0.68)
) as l (transaction_id, line_number, product_key, quantity, unit_price, line_total, tax_share)
join dw.fact_transaction t using (transaction_id);
-- The aggregates as the ETL keeps them, derived from the facts above.
insert into dw.agg_daily_store_sales (date_key, store_id, transactions, items, subtotal, tax, total)
select t.date_key, s.store_id, count(*), sum(t.item_count), sum(t.subtotal), sum(t.tax),
       sum(t.total)
from dw.fact_transaction t join dw.dim_store s using (store_key) group by 1, 2;
insert into dw.agg_daily_product_sales (date_key, store_id, product_id, quantity, revenue)
select l.date_key, s.store_id, p.product_id, sum(l.quantity), sum(l.line_total)
from dw.fact_sales_line l join dw.dim_store s using (store_key)
join dw.dim_product p using (product_key) group by 1, 2, 3;
insert into dw.agg_hourly_store_sales (date_key, hour, store_id, transactions, items, total)
select t.date_key, t.time_key / 100, s.store_id, count(*), sum(t.item_count), sum(t.total)
from dw.fact_transaction t join dw.dim_store s using (store_key) group by 1, 2, 3;
insert into dw.agg_daily_payment_sales (date_key, store_id, payment_type, transactions, total)
select t.date_key, s.store_id, pt.name, count(*), sum(t.total)
from dw.fact_transaction t join dw.dim_store s using (store_key)
join dw.dim_payment_type pt using (payment_type_key) group by 1, 2, 3;
insert into inventory.on_hand (store_id, product_id, quantity, reorder_point) values
  ('S001', 'P0001', 5, 10), ('S001', 'P0002', 50, 10), ('S002', 'P0001', 0, 2),
  ('S002', 'P0004', -3, 5), ('S003', 'P0002', 10, 10);
insert into inventory.recorded_movement (store_id, product_id, kind, quantity_change)
select store_id, product_id, 'initial', quantity from inventory.on_hand;
)sql";
  return kSql;
}

namespace {

// $1 from, $2 to, $3 store, each null for no filter.
const char kFactFilter[] =
    "($1::date is null or t.sale_date >= $1::date) and ($2::date is null or t.sale_date <= "
    "$2::date) and ($3::text is null or s.store_id = $3::text)";

}  // namespace

std::string FactsQuery(const std::string& report) {
  const std::string filter = kFactFilter;
  if (report == "sales-by-store") {
    return "select s.store_id, cur.name, count(*), sum(t.item_count), sum(t.subtotal), "
           "sum(t.tax), sum(t.total), round(sum(t.total) / count(*), 2) "
           "from dw.fact_transaction t join dw.dim_store s on s.store_key = t.store_key "
           "left join dw.dim_store cur on cur.store_id = s.store_id and cur.is_current "
           "where " + filter + " group by s.store_id, cur.name "
           "order by sum(t.total) desc, s.store_id";
  }
  if (report == "sales-by-day") {
    return "select to_char(t.sale_date, 'YYYY-MM-DD'), trim(to_char(t.sale_date, 'Day')), "
           "count(distinct s.store_id), count(*), sum(t.item_count), sum(t.subtotal), "
           "sum(t.tax), sum(t.total), round(sum(t.total) / count(*), 2) "
           "from dw.fact_transaction t join dw.dim_store s on s.store_key = t.store_key "
           "where " + filter + " group by t.sale_date order by t.sale_date";
  }
  if (report == "top-products") {
    return "with p as (select v.product_id, sum(l.quantity) as quantity, "
           "  sum(l.line_total) as revenue "
           "  from dw.fact_sales_line l join dw.dim_product v on v.product_key = l.product_key "
           "  join dw.dim_store s on s.store_key = l.store_key, "
           "  lateral (select l.sale_date) as t(sale_date) "
           "  where " + filter + " group by v.product_id) "
           "select row_number() over (order by p.revenue desc, p.product_id), p.product_id, "
           "cur.name, cur.category, p.quantity, p.revenue, "
           "round(p.revenue * 100 / (select sum(revenue) from p), 2) "
           "from p left join dw.dim_product cur on cur.product_id = p.product_id "
           "and cur.is_current order by 1 limit $4::integer";
  }
  if (report == "hourly") {
    return "select extract(isodow from t.sale_date)::integer, trim(to_char(t.sale_date, 'Day')), "
           "t.time_key / 100, count(*), sum(t.item_count), sum(t.total), "
           "round(sum(t.total) / count(*), 2) "
           "from dw.fact_transaction t join dw.dim_store s on s.store_key = t.store_key "
           "where " + filter + " group by 1, 2, 3 order by 1, 3";
  }
  if (report == "basket") {
    // The basket size counted from the lines themselves, and units from their quantities.
    return "with r as (select t.transaction_id, t.total, "
           "  (select count(*) from dw.fact_sales_line l where l.transaction_id = "
           "   t.transaction_id and l.sale_date = t.sale_date) as lines, "
           "  (select sum(l.quantity) from dw.fact_sales_line l where l.transaction_id = "
           "   t.transaction_id and l.sale_date = t.sale_date) as units "
           "  from dw.fact_transaction t join dw.dim_store s on s.store_key = t.store_key "
           "  where " + filter + "), "
           "g as (select lines, count(*) as n, sum(total) as total, sum(units) as units "
           "  from r group by lines "
           "  union all select null, count(*), sum(total), sum(units) from r having count(*) > 0) "
           "select g.lines, g.n, round(g.n * 100.0 / (select count(*) from r), 2), g.total, "
           "round(g.total / g.n, 2), round(g.units::numeric / g.n, 2) "
           "from g order by g.lines is null, g.lines";
  }
  if (report == "payment-mix") {
    return "with m as (select pt.name, count(*) as n, sum(t.total) as total "
           "  from dw.fact_transaction t join dw.dim_store s on s.store_key = t.store_key "
           "  join dw.dim_payment_type pt on pt.payment_type_key = t.payment_type_key "
           "  where " + filter + " group by pt.name) "
           "select m.name, m.n, round(m.n * 100.0 / (select sum(n) from m), 2), m.total, "
           "round(m.total * 100 / (select sum(total) from m), 2) "
           "from m order by m.total desc, m.name";
  }
  ADD_FAILURE() << "no facts query for " << report;
  return "";
}

std::string TableRows(const warehouse::ReportTable& table) {
  std::string out;
  for (const auto& row : table.rows) {
    for (std::size_t column = 0; column < row.size(); ++column) {
      if (column > 0) out += '|';
      out += row[column].value_or("<null>");
    }
    out += '\n';
  }
  return out;
}

std::string QueryRows(pg::Connection& connection, const std::string& sql,
                      const std::vector<std::optional<std::string>>& params) {
  auto rows = connection.Query(sql, params);
  EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().ToString();
  if (!rows.ok()) return "<error>";
  std::string out;
  for (int row = 0; row < rows->rows(); ++row) {
    for (int column = 0; column < rows->columns(); ++column) {
      if (column > 0) out += '|';
      out += rows->IsNull(row, column) ? "<null>" : std::string(rows->Get(row, column));
    }
    out += '\n';
  }
  return out;
}

std::string ShellQuote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

void ReportFixture::SetUp() {
  StackTest::SetUp();
  if (IsSkipped() || HasFailure()) return;
  pipeline::InitOptions options;
  options.create_topics = false;
  options.load_reference_data = false;
  auto report = pipeline::RunInit(config_, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  auto connection = pg::Connection::Open(pg::OptionsFromConfig(config_));
  ASSERT_TRUE(connection.ok()) << connection.status().ToString();
  connection_.emplace(std::move(connection).value());
}

void ReportFixture::Exec(const std::string& sql) {
  Status status = db().Execute(sql);
  ASSERT_TRUE(status.ok()) << status.ToString();
}

std::string ReportFixture::Rows(const std::string& sql,
                                const std::vector<std::optional<std::string>>& params) {
  return QueryRows(db(), sql, params);
}

PosflowRun ReportFixture::Posflow(const std::vector<std::string>& arguments) {
  char err_template[] = "/tmp/posflow_report_stderr_XXXXXX";
  const int descriptor = ::mkstemp(err_template);
  if (descriptor >= 0) ::close(descriptor);
  std::string command = std::string(POSFLOW_BINARY);
  for (const std::string& argument : arguments) command += " " + ShellQuote(argument);
  command += " --db " + ShellQuote(config_.db) + " 2>" + err_template;

  PosflowRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe != nullptr) {
    char buffer[4096];
    std::size_t count;
    while ((count = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) run.out.append(buffer, count);
    const int status = ::pclose(pipe);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  run.err = ReadTextFile(err_template);
  ::unlink(err_template);
  return run;
}

}  // namespace posflow::testing
