#!/usr/bin/env bash
# Ingest benchmark (issue 4): pre-load N simulator transactions into a fresh topic, then time
# `posflow ingest` until caught up, beside the two limits it sits between, in the same run:
#   - the Kafka read limit:       kcat reading the same topic to /dev/null
#   - the PostgreSQL write limit: psql \copy of the same staged rows from CSV files into
#                                 identical empty tables
# Usage: bench/ingest_bench.sh [N=1000000]   (needs the local stack: scripts/stack up)
# POSFLOW_BENCH_INGEST_ARGS adds ingest options, e.g. "--batch-messages 20000".
# Prints a Markdown table; the numbers go into bench/README.md by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-1000000}"
posflow=build/release/src/posflow
[ -x "$posflow" ] || { cmake --preset release >/dev/null && cmake --build --preset release; }

run_id="bench_$$"
db="postgresql://127.0.0.1:5432/$run_id"
topic="Bench_$$"
work="$(mktemp -d)"
cleanup() {
	psql -h 127.0.0.1 -d postgres -qc "drop database if exists $run_id with (force)" >/dev/null 2>&1 || true
	build/release/bench/posflow_bench_topic delete "$topic" >/dev/null 2>&1 || true
	build/release/bench/posflow_bench_topic delete "$topic.dlq" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

# Runs a command; prints "<seconds> <peak RSS KiB>".
measure() {
	python3 - "$@" <<'PY'
import resource, subprocess, sys, time
start = time.monotonic()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
elapsed = time.monotonic() - start
print(f"{elapsed:.2f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
PY
}

"$posflow" init --db "$db" --topic "$topic" >/dev/null
echo "loading $count transactions into $topic ..." >&2
"$posflow" produce --topic "$topic" --count "$count" --seed 42 --manifest "$work/manifest.json" >/dev/null
bytes=$(python3 -c "import json;print(json.load(open('$work/manifest.json'))['messages'])")

read -r ingest_s ingest_rss < <(measure "$posflow" ingest --db "$db" --topic "$topic" \
	--group "$run_id" --metrics-addr off --exit-when-idle 1 ${POSFLOW_BENCH_INGEST_ARGS:-})
read -r staged lines < <(psql -h 127.0.0.1 -d "$run_id" -Atc \
	"select count(*), (select count(*) from staging.pos_line) from staging.pos_transaction" | tr '|' ' ')
idle=1  # --exit-when-idle adds this much after the last message
ingest_net=$(python3 -c "print(max(0.01, $ingest_s - $idle))")

read -r kcat_s _ < <(measure kcat -C -b 127.0.0.1:9092 -t "$topic" -o beginning -e -q)

# The write limit: the same rows as CSV, into identical empty tables, with \copy.
psql -h 127.0.0.1 -d "$run_id" -q <<SQL
\copy (select * from staging.pos_transaction) to '$work/transactions.csv' csv
\copy (select * from staging.pos_line) to '$work/lines.csv' csv
create schema copy_limit;
create table copy_limit.pos_transaction (like staging.pos_transaction including all);
create table copy_limit.pos_line (like staging.pos_line including all);
SQL
cat > "$work/copy.sql" <<SQL
\copy copy_limit.pos_transaction from '$work/transactions.csv' csv
\copy copy_limit.pos_line from '$work/lines.csv' csv
SQL
read -r copy_s _ < <(measure psql -h 127.0.0.1 -d "$run_id" -q -f "$work/copy.sql")

python3 - <<PY
count, staged, lines = $count, $staged, $lines
ingest, kcat, copy = $ingest_net, $kcat_s, $copy_s
limit = min(count / kcat, staged / copy)
print(f"| what | seconds | transactions/s | line rows/s |")
print(f"|---|---|---|---|")
print(f"| posflow ingest ({count} messages, {staged} staged; peak RSS {int($ingest_rss)//1024} MiB) | {ingest:.2f} | {count/ingest:,.0f} | {lines/ingest:,.0f} |")
print(f"| kcat read to /dev/null (Kafka read limit) | {kcat:.2f} | {count/kcat:,.0f} | |")
print(f"| psql \\\\copy into empty staging tables (PostgreSQL write limit) | {copy:.2f} | {staged/copy:,.0f} | {lines/copy:,.0f} |")
print(f"\ningest = {100 * (count/ingest) / limit:.0f}% of the lower limit ({limit:,.0f}/s)")
PY
