#!/usr/bin/env bash
# What writing our own fact rows costs, today's DDL against migration 010's (dw.fact_sales_line
# without its primary key): fills a scratch database with the facts of N simulator receipts
# (posflow init, produce into a fresh topic, run until idle), exports both fact tables once,
# then times psql \copy of those rows into empty copies of the fact tables, each run in a fresh
# schema with the same monthly partitions and default partition as dw:
#   today     dw.fact_transaction PK (transaction_id, sale_date),
#             dw.fact_sales_line PK (transaction_id, line_number, sale_date)
#   proposed  the same without the dw.fact_sales_line PK (sql/migrations/010_*.sql)
# Per variant: median over the runs of the wall time, of the CPU time of the server backend doing
# the COPY (steadier than wall time when other work shares the cores), of the WAL written for the
# scratch database (pg_walinspect's records that touch it; where that extension or the WAL is
# gone, the LSN difference, which counts the whole cluster's concurrent work too) and the size of
# both tables with their indexes.
#
# Usage: bench/fact_write_bench.sh [--runs R] [--keep] [N=200000]
#   --runs R   measurements per variant, interleaved (default 3)
#   --keep     keep the scratch database (and print its name) instead of dropping it
# Environment:
#   POSFLOW_BUILD    existing build tree holding src/posflow (default build/release); its
#                    bench/posflow_bench_topic, when built, deletes the scratch topics at the end
#   POSFLOW_PG_PORT  PostgreSQL port on 127.0.0.1 (default 5432); Kafka: 127.0.0.1:9092
#   POSFLOW_BENCH_TIMEOUT  seconds any one step may take (default 900)
# Needs the local stack (scripts/stack up) and a superuser connection (checkpoint).
set -euo pipefail
cd "$(dirname "$0")/.."

count=200000
runs=3
keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs="${2:?--runs needs a number}"; shift ;;
	--keep) keep=1 ;;
	-h | --help) sed -n "2,24p" "$0"; exit 0 ;;
	[0-9]*) count="$1" ;;
	*) echo "fact_write_bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
[[ "$count" =~ ^[0-9]+$ && "$count" -gt 0 ]] || { echo "fact_write_bench: N must be > 0" >&2; exit 2; }
[[ "$runs" =~ ^[0-9]+$ && "$runs" -gt 0 ]] || { echo "fact_write_bench: --runs must be > 0" >&2; exit 2; }

build="${POSFLOW_BUILD:-build/release}"
posflow="$build/src/posflow"
topic_tool="$build/bench/posflow_bench_topic"
[ -x "$posflow" ] || { echo "fact_write_bench: $posflow missing: build $build first" >&2; exit 2; }
port="${POSFLOW_PG_PORT:-5432}"
limit="${POSFLOW_BENCH_TIMEOUT:-900}"
brokers=127.0.0.1:9092

db="factbench_$$"
topic="FactBench$$"
url="postgresql://127.0.0.1:$port/$db"
work="$(mktemp -d)"

pg() { timeout "$limit" psql -h 127.0.0.1 -p "$port" -X -v ON_ERROR_STOP=1 "$@"; }
cleanup() {
	if [ "$keep" = 0 ]; then
		pg -d postgres -qc "drop database if exists $db with (force)" >/dev/null 2>&1 || true
	else
		echo "kept database: $db" >&2
	fi
	if [ -x "$topic_tool" ]; then
		timeout 60 "$topic_tool" delete "$topic" "$brokers" >/dev/null 2>&1 || true
		timeout 60 "$topic_tool" delete "$topic.dlq" "$brokers" >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

pg -d postgres -Atc "select 1" >/dev/null ||
	{ echo "fact_write_bench: no PostgreSQL on 127.0.0.1:$port (scripts/stack up)" >&2; exit 2; }

# 1. Realistic fact rows: the pipeline's own, for N receipts.
echo "filling $db with the facts of $count receipts (init, produce -> $topic, run) ..." >&2
timeout "$limit" "$posflow" init --db "$url" --topic "$topic" --brokers "$brokers" \
	--metrics-addr off >/dev/null
timeout "$limit" "$posflow" produce --topic "$topic" --brokers "$brokers" --count "$count" \
	--seed 42 >/dev/null
timeout "$limit" "$posflow" run --db "$url" --topic "$topic" --brokers "$brokers" \
	--group "$db" --metrics-addr off --exit-when-idle 2 >/dev/null
read -r receipts lines < <(pg -d "$db" -F' ' -Atc \
	"select count(*), (select count(*) from dw.fact_sales_line) from dw.fact_transaction")
[ "$receipts" -eq "$count" ] ||
	{ echo "fact_write_bench: $receipts of $count receipts loaded" >&2; exit 1; }
pg -d "$db" -qc "create extension if not exists pg_walinspect" >/dev/null 2>&1 || true
pg -d "$db" -q <<SQL
\copy (select * from dw.fact_transaction) to '$work/fact_transaction.csv' csv
\copy (select * from dw.fact_sales_line) to '$work/fact_sales_line.csv' csv
-- WAL bytes of this database between two positions; null when they cannot be read any more.
create function bench_wal_of_this_database(from_lsn pg_lsn, to_lsn pg_lsn) returns bigint
language plpgsql as \$\$
begin
  return (select coalesce(sum(record_length + fpi_length), 0)
          from pg_get_wal_records_info(from_lsn, to_lsn)
          where block_ref like '%/' || (select oid from pg_database
                                        where datname = current_database()) || '/%');
exception when others then
  return null;
end \$\$;
SQL

# 2. One measurement: empty copies of the facts in a fresh schema, then \copy of both files.
#    Prints: seconds, backend CPU seconds, WAL bytes, bytes of both tables with their indexes.
measure() {  # measure VARIANT SCHEMA
	local variant=$1 schema=$2 line_key=""
	[ "$variant" = today ] && line_key="primary key (transaction_id, line_number, sale_date)"
	pg -d "$db" -q >/dev/null <<SQL
set client_min_messages = warning;
drop schema if exists $schema cascade;
create schema $schema;
create table $schema.fact_transaction (like dw.fact_transaction including defaults
  including constraints, primary key (transaction_id, sale_date)) partition by range (sale_date);
create table $schema.fact_sales_line (like dw.fact_sales_line including defaults
  including constraints ${line_key:+, $line_key}) partition by range (sale_date);
select format('create table $schema.%I partition of $schema.%I %s', c.relname, p.relname,
              pg_get_expr(c.relpartbound, c.oid))
from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
where p.oid in ('dw.fact_transaction'::regclass, 'dw.fact_sales_line'::regclass)
\gexec
checkpoint;
SQL
	cat >"$work/copy.sql" <<SQL
select pg_current_wal_lsn() as lsn0,
       split_part(s, ' ', 14)::bigint + split_part(s, ' ', 15)::bigint as cpu0
from pg_read_file('/proc/self/stat') s \gset
\copy $schema.fact_transaction from '$work/fact_transaction.csv' csv
\copy $schema.fact_sales_line from '$work/fact_sales_line.csv' csv
select split_part(s, ' ', 14)::bigint + split_part(s, ' ', 15)::bigint - :cpu0, :'lsn0',
       pg_current_wal_lsn()
from pg_read_file('/proc/self/stat') s;
SQL
	local start end ticks lsn0 lsn1 wal bytes
	start=$(date +%s.%N)
	read -r ticks lsn0 lsn1 < <(pg -d "$db" -q -F' ' -At -f "$work/copy.sql")
	end=$(date +%s.%N)
	wal=$(pg -d "$db" -Atc "select coalesce(bench_wal_of_this_database('$lsn0', '$lsn1'),
		pg_wal_lsn_diff('$lsn1', '$lsn0')::bigint)" 2>/dev/null ||
		pg -d "$db" -Atc "select pg_wal_lsn_diff('$lsn1', '$lsn0')::bigint")
	bytes=$(pg -d "$db" -Atc "select sum(pg_total_relation_size(relid))
		from (select relid from pg_partition_tree('$schema.fact_transaction')
		      union all select relid from pg_partition_tree('$schema.fact_sales_line')) t")
	pg -d "$db" -qc "set client_min_messages = warning; drop schema $schema cascade" >/dev/null
	echo "$variant $(echo "$end - $start" | bc) $(echo "scale=2; $ticks / $(getconf CLK_TCK)" | bc) $wal $bytes"
}

echo "timing \\copy of $receipts receipts + $lines lines, $runs runs per variant ..." >&2
for run in $(seq 1 "$runs"); do
	for variant in today proposed; do
		measure "$variant" "bench_${variant}_$run" | tee -a "$work/runs.txt" >&2
	done
done

# 3. Report: medians per variant.
python3 - "$work/runs.txt" "$receipts" "$lines" "$runs" <<'PY'
import statistics, sys
rows, receipts, lines, runs = open(sys.argv[1]).read().split("\n"), *map(int, sys.argv[2:])
by = {}
for row in filter(None, rows):
    variant, *figures = row.split()
    by.setdefault(variant, []).append([float(x) for x in figures])
med = {v: [statistics.median(col) for col in zip(*r)] for v, r in by.items()}
print(f"N = {receipts} receipts ({lines} line rows); median of {runs} runs; "
      f"{open('/proc/loadavg').read().split()[0]} load average now (shared cores)")
print()
print("| DDL | wall s | backend CPU s | receipts/s | WAL MiB | tables + indexes MiB |")
print("|---|---|---|---|---|---|")
for variant, label in (("today", "today (both PKs)"), ("proposed", "010: no fact_sales_line PK")):
    s, cpu, wal, size = med[variant]
    print(f"| {label} | {s:.2f} | {cpu:.2f} | {receipts / s:,.0f} | {wal / 2**20:,.0f} | "
          f"{size / 2**20:,.0f} |")
t, p = med["today"], med["proposed"]
print()
print(f"proposed vs today: wall {100 * (p[0] / t[0] - 1):+.0f} %, CPU {100 * (p[1] / t[1] - 1):+.0f} %, "
      f"WAL {100 * (p[2] / t[2] - 1):+.0f} %, size {100 * (p[3] / t[3] - 1):+.0f} %")
PY
