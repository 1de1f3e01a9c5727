#!/usr/bin/env bash
# PostgreSQL staging beside MongoDB staging (issue 6), same stream, same machine, same run:
# N simulator transactions pre-loaded into one topic, then for each staging store
#   `posflow ingest --staging S` until caught up, then `posflow etl --once --staging S`,
# each into its own fresh warehouse database, each reconciled by `posflow check` (exit 0).
# Usage: bench/staging_compare.sh [N=1000000]   (needs the local stack: scripts/stack up;
# MongoDB = the stack's FerretDB unless POSFLOW_BENCH_MONGO=host:port)
# Prints a Markdown table; the numbers go into bench/README.md by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-1000000}"
mongo_host="${POSFLOW_BENCH_MONGO:-127.0.0.1:27017}"
posflow=build/release/src/posflow
[ -x "$posflow" ] || { cmake --preset release >/dev/null && cmake --build --preset release; }

run_id="stcmp_$$"
topic="StagingCompare_$$"
work="$(mktemp -d)"
cleanup() {
	for store in pg mongo; do
		psql -h 127.0.0.1 -d postgres -qc "drop database if exists ${run_id}_$store with (force)" \
			>/dev/null 2>&1 || true
	done
	build/release/bench/posflow_bench_topic delete "$topic" >/dev/null 2>&1 || true
	build/release/bench/posflow_bench_topic delete "$topic.dlq" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

seconds_of() {
	local start end
	start=$(date +%s.%N)
	"$@" >/dev/null
	end=$(date +%s.%N)
	python3 -c "print(f'{$end - $start:.2f}')"
}

"$posflow" init --db "postgresql://127.0.0.1:5432/${run_id}_pg" --topic "$topic" >/dev/null
echo "loading $count transactions into $topic ..." >&2
"$posflow" produce --topic "$topic" --count "$count" --seed 43 --manifest "$work/manifest.json" >/dev/null

idle=1  # --exit-when-idle adds this much after the last message
printf '| staging | ingest s | ingest tx/s | etl s | etl tx/s | check |\n|---|---|---|---|---|---|\n'
for store in pg mongo; do
	db="postgresql://127.0.0.1:5432/${run_id}_$store"
	staging=postgres
	[ "$store" = mongo ] && staging="mongodb://$mongo_host/${run_id}"
	"$posflow" init --db "$db" --topic "$topic" --staging "$staging" >/dev/null
	ingest_s=$(seconds_of "$posflow" ingest --db "$db" --topic "$topic" --group "${run_id}_$store" \
		--staging "$staging" --metrics-addr off --exit-when-idle "$idle" --no-dlq-topic)
	etl_s=$(seconds_of "$posflow" etl --once --db "$db" --staging "$staging")
	verdict=OK
	"$posflow" check --db "$db" --staging "$staging" --manifest "$work/manifest.json" --no-kafka \
		>"$work/check_$store.txt" || verdict="DIFFERENCE (see below)"
	python3 - "$store" "$count" "$ingest_s" "$idle" "$etl_s" "$verdict" <<'PY'
import sys
store, count, ingest, idle, etl, verdict = sys.argv[1:]
count = int(count); ingest = max(0.01, float(ingest) - float(idle)); etl = float(etl)
name = "PostgreSQL" if store == "pg" else "MongoDB (FerretDB)"
print(f"| {name} | {ingest:.1f} | {count / ingest:,.0f} | {etl:.1f} | {count / etl:,.0f} | {verdict} |")
PY
	[ "$verdict" = OK ] || cat "$work/check_$store.txt" >&2
done
