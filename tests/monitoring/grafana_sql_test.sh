#!/usr/bin/env bash
# Runs every SQL panel of the Grafana dashboards (orchestration/grafana/dashboards/*.json) against
# a fresh test warehouse, so that a schema change that breaks a panel fails here, not in front of
# a user:
#   1. a new database on the local PostgreSQL, prepared by `posflow init` (no Kafka topics, a
#      three-month calendar), with a few hand-made rows in the aggregates, one returned line in
#      the facts and one product below its reorder point;
#   2. a role with SELECT on the dw and inventory schemas only (what Grafana's read-only role
#      needs), which every query runs as;
#   3. each template variable's query, then each panel's rawSql, with Grafana's variables
#      expanded as its SQL data sources do (multi-value: quoted, comma-separated; All: every
#      value) and its macros ($__timeFilter, $__timeFrom(), $__timeGroupAlias ...) as the
#      PostgreSQL data source does, for the time range 2024-02-01 .. 2024-02-29 (UTC), once with
#      store = All and once with the first store; run by psql -v ON_ERROR_STOP=1 inside a
#      temporary view, which also gives the result's column names and types;
#   4. checks: the query runs; time_series results have a "time" column (a time type or epoch
#      seconds) in ascending order and a numeric value column; stat, pie and bar panels have a
#      numeric column; every column has a value in at least one row; and the key figures equal
#      the fixture's (EXPECTED below).
# A failure names the dashboard, the panel's title and the selection, with PostgreSQL's error and
# the expanded SQL. The database and the role are dropped at exit.
#
#   tests/monitoring/grafana_sql_test.sh [POSFLOW_BINARY]
#
# POSFLOW_BINARY (argument, or environment): the posflow binary that runs `init` (default
# build/debug/src/posflow of this tree).
# Environment: POSFLOW_TEST_PG (default postgresql://127.0.0.1:5432/postgres): the admin
# connection, as the integration tests use it; the local stack's PostgreSQL (scripts/stack up
# postgres). Unreachable, the test fails, unless POSFLOW_SKIP_INTEGRATION=1 (exit 77: skipped).
# Needs psql and python3. Takes 2-5 s.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
posflow="${1:-${POSFLOW_BINARY:-$root/build/debug/src/posflow}}"
admin_url="${POSFLOW_TEST_PG:-postgresql://127.0.0.1:5432/postgres}"
dashboards="$root/orchestration/grafana/dashboards"
export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-5}"

fail() {
	echo "grafana_sql_test: $*" >&2
	exit 1
}

[[ -x "$posflow" ]] || fail "posflow binary not found at $posflow (pass it as the argument or POSFLOW_BINARY; build it with: cmake --build --preset debug --target posflow)"
command -v psql >/dev/null || fail "psql not found (scripts/bootstrap installs postgresql-client-15)"
command -v python3 >/dev/null || fail "python3 not found"

if ! psql -X -q -d "$admin_url" -Atc 'select 1' >/dev/null 2>&1; then
	if [[ "${POSFLOW_SKIP_INTEGRATION:-0}" == 1 ]]; then
		echo "grafana_sql_test: skipped (POSFLOW_SKIP_INTEGRATION=1; PostgreSQL not reachable at $admin_url)"
		exit 77
	fi
	fail "PostgreSQL not reachable at $admin_url (start it with: scripts/stack up postgres; or set POSFLOW_SKIP_INTEGRATION=1 to skip)"
fi

suffix="$$_${RANDOM}"
db="posflow_grafana_test_$suffix"
reader="posflow_grafana_reader_$suffix"
# The admin URL with our database instead of its own (query string, if any, kept).
db_url="$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$admin_url" "$db")"
work="$(mktemp -d)"

cleanup() {
	psql -X -q -d "$admin_url" -c "drop database if exists $db with (force)" >/dev/null 2>&1 ||
		echo "grafana_sql_test: warning: could not drop database $db" >&2
	psql -X -q -d "$admin_url" -c "drop role if exists $reader" >/dev/null 2>&1 ||
		echo "grafana_sql_test: warning: could not drop role $reader" >&2
	rm -rf "$work"
}
trap cleanup EXIT

if ! "$posflow" init --db "$db_url" --no-topics --metrics-addr off \
	--dates 2024-01-01:2024-03-31 >"$work/init.log" 2>&1; then
	cat "$work/init.log" >&2
	fail "posflow init --db $db_url failed"
fi

# The fixture: two stores' sales on 2024-01-15 (the previous period of February) and in
# February, in every aggregate the panels read; a returned line; an oversold product.
mapfile -t stores < <(psql -X -q -d "$db_url" -Atc \
	"select store_id from dw.dim_store where is_current order by store_id limit 2")
((${#stores[@]} == 2)) || fail "posflow init loaded fewer than 2 stores into dw.dim_store"
psql -X -q -v ON_ERROR_STOP=1 -d "$db_url" -v s1="${stores[0]}" -v s2="${stores[1]}" \
	-v reader="$reader" >/dev/null <<'SQL' || fail "loading the fixture failed (did the warehouse schema change? update the fixture above)"
create temp table fixture_product as
  select product_id, product_key, row_number() over (order by product_id) as n
  from dw.dim_product where is_current order by product_id limit 2;

insert into dw.agg_daily_store_sales (date_key, store_id, transactions, items, subtotal, tax, total)
values (20240115, :'s1', 10, 25, 100.00, 13.00, 113.00),
       (20240210, :'s1', 12, 30, 150.00, 19.50, 169.50),
       (20240211, :'s2', 5, 9, 40.00, 5.20, 45.20);
insert into dw.agg_hourly_store_sales (date_key, hour, store_id, transactions, items, total)
values (20240115, 10, :'s1', 10, 25, 113.00),
       (20240210, 14, :'s1', 12, 30, 169.50),
       (20240211, 9, :'s2', 5, 9, 45.20);
insert into dw.agg_daily_payment_sales (date_key, store_id, payment_type, transactions, total)
values (20240115, :'s1', 'Cash', 10, 113.00),
       (20240210, :'s1', 'Credit Card', 12, 169.50),
       (20240211, :'s2', 'Cash', 5, 45.20);
insert into dw.agg_daily_product_sales (date_key, store_id, product_id, quantity, revenue)
select v.date_key, v.store_id, p.product_id, v.quantity, v.revenue
from (values (20240115, :'s1', 1, 25, 100.00),
             (20240210, :'s1', 1, 20, 110.00),
             (20240210, :'s1', 2, 10, 40.00),
             (20240211, :'s2', 2, 9, 40.00)) as v (date_key, store_id, n, quantity, revenue)
join fixture_product p on p.n = v.n;

-- One line returned at the first store on 2024-02-10: 1 unit of 5.00.
insert into dw.fact_sales_line (transaction_id, line_number, sale_date, date_key, time_key,
  store_key, customer_key, payment_type_key, product_key, quantity, unit_price, line_total,
  tax_share, sold_at)
select 'grafana-test-return', 1, date '2024-02-10', 20240210, 1500, s.store_key, 0,
       (select min(payment_type_key) from dw.dim_payment_type), p.product_key, -1, 5.00, -5.00,
       -0.65, timestamptz '2024-02-10 15:00:00+00'
from dw.dim_store s, fixture_product p
where s.store_id = :'s1' and s.is_current and p.n = 1;

-- The first store's first product with a reorder point, oversold.
update inventory.on_hand set quantity = -2
where (store_id, product_id) = (select store_id, product_id from inventory.on_hand
                                where store_id = :'s1' and reorder_point > 0
                                order by product_id limit 1);

create role :"reader" nologin;
grant usage on schema dw, inventory to :"reader";
grant select on all tables in schema dw, inventory to :"reader";
SQL

python3 - "$db_url" "$reader" "$dashboards" <<'PY'
import json
import pathlib
import re
import subprocess
import sys
from datetime import datetime, timezone

db_url, reader, dashboards_dir = sys.argv[1:4]

# The dashboard time range of every run: February 2024, as Grafana sends it (UTC).
TIME_FROM = datetime(2024, 2, 1, 0, 0, 0, tzinfo=timezone.utc)
TIME_TO = datetime(2024, 2, 29, 23, 59, 59, 999000, tzinfo=timezone.utc)

# The first row a panel must return on the fixture, by (dashboard uid, panel title, selection):
# the fixture's February sales (169.50 + 45.20 over 12 + 5 receipts) against January's 113.00.
EXPECTED = {
    ("posflow-sales", "Sales", "All"): ["214.70"],
    ("posflow-sales", "Sales", "first store"): ["169.50"],
    ("posflow-sales", "Receipts", "All"): ["17"],
    ("posflow-sales", "Average basket", "All"): ["12.63"],
    ("posflow-sales", "Units", "All"): ["39"],
    ("posflow-sales", "Returns", "All"): ["5.00"],
    ("posflow-sales", "Returns", "first store"): ["5.00"],
    ("posflow-sales", "Sales vs previous period", "All"): ["90.0"],
    ("posflow-sales", "Sales vs previous period", "first store"): ["50.0"],
}
NUMERIC_TYPES = ("smallint", "integer", "bigint", "numeric", "real", "double precision")
TIME_TYPES = ("timestamp with time zone", "timestamp without time zone", "date")
RESULT_FORMATS = ("table", "time_series")
NEEDS_NUMBER = ("stat", "piechart", "barchart", "gauge", "bargauge", "timeseries")


class PanelError(Exception):
    pass


def rfc3339(moment):
    # Go's time.RFC3339Nano, as Grafana formats the range: no trailing zeros, "Z" for UTC.
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "Z"


def interval_seconds(text):
    match = re.fullmatch(r"'?(\d+)(ms|s|m|h|d|w)'?", text.strip())
    if not match:
        raise PanelError(f"cannot parse the interval {text!r}")
    factor = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[match[2]]
    seconds = int(match[1]) * factor
    return int(seconds) if seconds == int(seconds) else seconds


def expand_macro(name, args):
    """One PostgreSQL data source macro, as Grafana expands it."""
    frm, to = rfc3339(TIME_FROM), rfc3339(TIME_TO)
    frm_epoch, to_epoch = int(TIME_FROM.timestamp()), int(TIME_TO.timestamp())

    def column():
        if not args or not args[0]:
            raise PanelError(f"macro ${name} needs a column")
        return args[0]

    def group(expression_of):
        if len(args) < 2:
            raise PanelError(f"macro ${name} needs a column and an interval")
        seconds = interval_seconds(args[1])
        return expression_of(args[0], seconds)

    if name == "__time":
        return f'{column()} AS "time"'
    if name == "__timeEpoch":
        return f'extract(epoch from {column()}) AS "time"'
    if name == "__timeFilter":
        return f"{column()} BETWEEN '{frm}' AND '{to}'"
    if name == "__timeFrom":
        return f"'{frm}'"
    if name == "__timeTo":
        return f"'{to}'"
    if name in ("__timeGroup", "__timeGroupAlias"):
        grouped = group(lambda col, s: f"floor(extract(epoch from {col})/{s})*{s}")
        return grouped + (' AS "time"' if name.endswith("Alias") else "")
    if name == "__unixEpochFilter":
        return f"{column()} >= {frm_epoch} AND {column()} <= {to_epoch}"
    if name == "__unixEpochFrom":
        return str(frm_epoch)
    if name == "__unixEpochTo":
        return str(to_epoch)
    if name in ("__unixEpochGroup", "__unixEpochGroupAlias"):
        grouped = group(lambda col, s: f"floor({col}/{s})*{s}")
        return grouped + (' AS "time"' if name.endswith("Alias") else "")
    raise PanelError(f"unknown macro ${name} (Grafana refuses it too)")


def quote_literal(value):
    return "'" + str(value).replace("'", "''") + "'"


def expand(sql, variables, selection):
    """Grafana's template variables (frontend), then the data source's macros (backend)."""

    def variable_value(name):
        variable = variables[name]
        chosen = selection.get(name, "All")
        if chosen == "All" and variable.get("allValue"):
            return variable["allValue"]  # Grafana inserts a custom All value unformatted
        values = variable["values"] if chosen == "All" else [chosen]
        if variable.get("multi") or variable.get("includeAll"):
            return ",".join(quote_literal(v) for v in values)
        return str(values[0]).replace("'", "''")

    def replace_variable(match):
        name = match.group(1) or match.group(3) or match.group(4)
        if name not in variables:
            return match.group(0)  # a macro, or unknown: left as Grafana leaves it
        if match.group(2):
            raise PanelError(f"variable format ${{{name}:{match.group(2)}}} is not handled here")
        return variable_value(name)

    # $name, ${name}, ${name:format}, [[name]]
    sql = re.sub(r"\$\{(\w+)(?::([^}]*))?\}|\[\[(\w+)\]\]|\$(\w+)", replace_variable, sql)

    def replace_macro(match):
        args = [arg.strip() for arg in match.group(2).split(",")]
        return expand_macro(match.group(1), args)

    # As Grafana: a macro's arguments end at the first ")" (no function calls inside).
    sql = re.sub(r"\$(\w+)\(([^)]*)\)", replace_macro, sql)
    leftover = re.search(r"\$[A-Za-z_]\w*", sql)
    if leftover:
        raise PanelError(f"{leftover.group(0)} is neither a template variable nor a macro")
    return sql


def psql(script):
    return subprocess.run(
        ["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", db_url, "-f", "-"],
        input=script, capture_output=True, text=True, timeout=60)


def run_query(sql, time_column):
    """Runs `sql` as the reader in a temporary view; returns (columns, rows, first row)."""
    body = sql.strip().rstrip(";")
    script = f"""begin;
set local role "{reader}";
set local statement_timeout = '10s';
set local timezone = 'UTC';
create temp view grafana_panel as
{body}
;
select 'column', a.attname, format_type(a.atttypid, a.atttypmod)
from pg_attribute a
where a.attrelid = 'grafana_panel'::regclass and a.attnum > 0 and not a.attisdropped
order by a.attnum;
select 'rows', count(*), count(*) filter (where p is not null) from grafana_panel p;
select 'first', p.* from (select * from grafana_panel limit 1) p;
"""
    if time_column:
        # Through jsonb, so that a missing "time" column is check_panel's clear message rather
        # than an error here (in UTC, jsonb's text of timestamps sorts as they do).
        script += """select 'backwards', count(*) from (
  select to_jsonb(p) -> 'time' < lag(to_jsonb(p) -> 'time') over () as backwards
  from grafana_panel p) t
where backwards;
"""
    script += "rollback;\n"
    done = psql(script)
    if done.returncode != 0:
        raise PanelError(done.stderr.strip() or f"psql exited with {done.returncode}")
    columns, rows, complete, first, backwards = [], 0, 0, [], 0
    for line in done.stdout.splitlines():
        kind, *fields = line.split("\t")
        if kind == "column":
            columns.append((fields[0], fields[1]))
        elif kind == "rows":
            rows, complete = int(fields[0]), int(fields[1])
        elif kind == "first":
            first = fields
        elif kind == "backwards":
            backwards = int(fields[0])
    return columns, rows, complete, first, backwards


def check_panel(panel_type, target_format, columns, rows, complete, backwards):
    names = [name for name, _ in columns]
    numeric = [name for name, kind in columns if kind.startswith(NUMERIC_TYPES)]
    if rows == 0:
        raise PanelError("no rows on the fixture (a filter or join lost them)")
    if complete == 0:
        raise PanelError(f"no row has a value in every column {names}")
    if target_format == "time_series":
        kinds = dict(columns)
        if "time" not in kinds:
            raise PanelError(f'time_series needs a column named "time"; columns: {names}')
        if not kinds["time"].startswith(TIME_TYPES + NUMERIC_TYPES):
            raise PanelError(f'the "time" column is {kinds["time"]}, not a time or epoch')
        if not [name for name in numeric if name != "time"]:
            raise PanelError(f"time_series needs a numeric value column; columns: {columns}")
        if backwards:
            raise PanelError('time_series rows must be in ascending "time" order')
    elif panel_type in NEEDS_NUMBER and not numeric:
        raise PanelError(f"a {panel_type} panel needs a numeric column; columns: {columns}")


def walk(panels):
    for panel in panels:
        yield panel
        yield from walk(panel.get("panels", []))


def datasource_uid(ref):
    return ref.get("uid") if isinstance(ref, dict) else ref


passed = failed = 0
seen_expectations = set()
for path in sorted(pathlib.Path(dashboards_dir).glob("*.json")):
    dashboard = json.loads(path.read_text())
    uid = dashboard.get("uid", path.name)
    variables = {}
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable.get("query")
        query = query.get("rawSql", query.get("query")) if isinstance(query, dict) else query
        if datasource_uid(variable.get("datasource")) != "posflow-warehouse":
            continue  # a Prometheus variable: promtool_test.sh's business
        label = f"{path.name}: variable ${variable['name']}"
        try:
            done = psql(f'begin;\nset local role "{reader}";\n'
                        f"select __value from ({expand(query, {}, {})}) v;\nrollback;\n")
            if done.returncode != 0:
                raise PanelError(done.stderr.strip())
            values = done.stdout.split()
            if not values:
                raise PanelError("no values on the fixture")
            variables[variable["name"]] = dict(variable, values=values)
            print(f"ok    {label} ({len(values)} values)")
            passed += 1
        except PanelError as error:
            print(f"FAIL  {label}: {error}\n      query: {query}", file=sys.stderr)
            failed += 1
    selections = [("All", {})]
    if variables:
        selections.append(("first store",
                           {name: v["values"][0] for name, v in variables.items()}))
    for panel in walk(dashboard.get("panels", [])):
        for target in panel.get("targets", []):
            if "rawSql" not in target:
                continue
            title = panel.get("title", f"panel {panel.get('id')}")
            target_format = target.get("format", "time_series")
            for selection_name, selection in selections:
                label = f"{path.name}: {title!r} [{selection_name}]"
                sql = target["rawSql"]
                try:
                    ref = target.get("datasource", panel.get("datasource"))
                    if datasource_uid(ref) != "posflow-warehouse":
                        raise PanelError(f"datasource {ref!r} is not the provisioned posflow-warehouse")
                    if not target.get("rawQuery") or target_format not in RESULT_FORMATS:
                        raise PanelError("needs rawQuery true and format table or time_series")
                    sql = expand(target["rawSql"], variables, selection)
                    columns, rows, complete, first, backwards = run_query(
                        sql, target_format == "time_series")
                    check_panel(panel.get("type"), target_format, columns, rows, complete,
                                backwards)
                    key = (uid, title, selection_name)
                    if key in EXPECTED:
                        seen_expectations.add(key)
                        if first != EXPECTED[key]:
                            raise PanelError(f"first row {first}, expected {EXPECTED[key]}")
                    print(f"ok    {label} ({rows} rows: "
                          + ", ".join(f"{n} {k}" for n, k in columns[:4])
                          + (", ..." if len(columns) > 4 else "") + ")")
                    passed += 1
                except (PanelError, subprocess.TimeoutExpired) as error:
                    print(f"FAIL  {label}: {error}\n      SQL:\n{sql}", file=sys.stderr)
                    failed += 1

for key in sorted(set(EXPECTED) - seen_expectations):
    print(f"FAIL  expected figures for a panel that was not run: {key}", file=sys.stderr)
    failed += 1
print(f"grafana_sql_test: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
