#!/usr/bin/env bash
# Freshness benchmark (issue 5): the time from a sale (the receipt handed to the Kafka producer)
# to its row being visible in dw.fact_transaction, per receipt, while `posflow run` (ingest +
# ETL in one process) keeps up with a steady stream. The measuring is done by
# posflow_freshness_bench (bench/freshness_bench.cc): it produces at --rate, records every
# transaction_id's send time, polls the warehouse every --poll-ms and prints p50/p90/p99/p99.9/max.
# Afterwards `posflow check` (with Kafka) must exit 0, or the script fails.
#
# Usage: bench/freshness_bench.sh [--smoke] [--keep] [RATE=2000 [SECONDS=60]]
#   --smoke  RATE 500 for 10 s (after the 5 s warm-up): a quick run (< 60 s) that it works
#   --keep   keep the database (and print its name) instead of dropping it
# Environment:
#   POSFLOW_BUILD_DIR           build tree (default build/release)
#   POSFLOW_BENCH_RUN_ARGS      more `posflow run` options, e.g. "--batch-ms 20"
#   POSFLOW_BENCH_FRESH_ARGS    more posflow_freshness_bench options, e.g. "--poll-ms 20"
# Needs the local stack (scripts/stack up). Prints Markdown; the numbers go into bench/README.md
# by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

rate=2000
seconds=60
keep=0
positional=()
for arg in "$@"; do
	case "$arg" in
	--smoke) rate=500; seconds=10 ;;
	--keep) keep=1 ;;
	-h | --help) sed -n '2,18p' "$0"; exit 0 ;;
	[0-9]*) positional+=("$arg") ;;
	*) echo "freshness_bench: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
	esac
done
[ "${#positional[@]}" -ge 1 ] && rate="${positional[0]}"
[ "${#positional[@]}" -ge 2 ] && seconds="${positional[1]}"

build="${POSFLOW_BUILD_DIR:-build/release}"
posflow="$build/src/posflow"
bench="$build/bench/posflow_freshness_bench"
topic_tool="$build/bench/posflow_bench_topic"
if [ ! -x "$posflow" ] || [ ! -x "$bench" ] || [ ! -x "$topic_tool" ]; then
	if [ "$build" = build/release ]; then
		cmake --preset release >/dev/null && cmake --build --preset release
	else
		echo "freshness_bench: binaries missing in $build: build it first" >&2
		exit 2
	fi
fi

run_id="freshbench_$$"
db="postgresql://127.0.0.1:5432/$run_id"
topic="FreshBench_$$"
work="$(mktemp -d)"
run_pid=""
cleanup() {
	if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
		kill -INT "$run_pid" 2>/dev/null || true
		wait "$run_pid" 2>/dev/null || true
	fi
	if [ "$keep" = 0 ]; then
		psql -h 127.0.0.1 -X -d postgres -qc "drop database if exists $run_id with (force)" >/dev/null 2>&1 || true
	else
		echo "kept database: $run_id" >&2
	fi
	"$topic_tool" delete "$topic" >/dev/null 2>&1 || true
	"$topic_tool" delete "$topic.dlq" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

"$posflow" init --db "$db" --topic "$topic" >/dev/null

# posflow run in the background; it has joined the group once it logs its partitions' assignment
# (at info level), and the bench's warm-up covers the rest.
"$posflow" run --log-level info --db "$db" --topic "$topic" --group "$run_id" --metrics-addr off \
	${POSFLOW_BENCH_RUN_ARGS:-} >"$work/run.out" 2>"$work/run.err" &
run_pid=$!
for _ in $(seq 1 150); do
	grep -q "assigned [1-9]" "$work/run.err" 2>/dev/null && break
	kill -0 "$run_pid" 2>/dev/null || { cat "$work/run.err" >&2; exit 1; }
	sleep 0.1
done

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "freshness: $rate receipts/s for $seconds s (+5 s warm-up) through posflow run ..." >&2
"$bench" --db "$db" --topic "$topic" --rate "$rate" --duration "$seconds" --warmup 5 \
	${POSFLOW_BENCH_FRESH_ARGS:-} >"$work/bench.out"

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
kill -INT "$run_pid"
wait "$run_pid"
run_pid=""
if ! "$posflow" check --db "$db" --topic "$topic" --group "$run_id" >"$work/check.txt" 2>&1; then
	echo "freshness_bench: posflow check failed:" >&2
	cat "$work/check.txt" >&2
	exit 1
fi
# ETL batches: one loaded_at per batch (the transaction's start).
read -r batches mean_batch max_batch < <(psql -h 127.0.0.1 -X -d "$run_id" -Atc "
	select count(*), round(avg(n)), max(n) from
	(select loaded_at, count(*) n from dw.fact_transaction group by 1) b" | tr '|' ' ')

echo
echo "posflow run ${POSFLOW_BENCH_RUN_ARGS:-(defaults)}; poll ${POSFLOW_BENCH_FRESH_ARGS:-every 10 ms};" \
	"load average before $load_before, after $load_after (2 cores, shared)"
echo
echo "| load | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | mean ms |"
echo "|---|---|---|---|---|---|---|"
head -1 "$work/bench.out"
echo
tail -1 "$work/bench.out"
etl_seconds=$(grep -o 'etl: loaded [0-9]* transactions ([0-9]* lines) in [0-9.]* s' "$work/run.err" |
	awk '{print $(NF-1)}' | sort -n | awk '{v[NR]=$1; s+=$1} END {if (NR) printf "mean %.0f ms, p99 %.0f ms, max %.0f ms", 1000*s/NR, 1000*v[int(NR*0.99)+(NR*0.99>int(NR*0.99))], 1000*v[NR]}')
echo "ETL batches: $batches (mean $mean_batch receipts, largest $max_batch; time per batch $etl_seconds);" \
	"posflow check: passed"
tail -1 "$work/run.out"
