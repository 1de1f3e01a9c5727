#!/usr/bin/env bash
# ETL benchmark (issue 5): stage N simulator transactions once (produce -> Kafka -> ingest), then
# time `posflow etl --once` over them at several batch sizes, each on an identical copy of the
# staged database, beside the PostgreSQL write limit measured in the same run:
#   - the write limit: psql \copy of the very fact rows the ETL wrote (dw.fact_transaction and
#     dw.fact_sales_line, exported to files) into identical empty tables: same columns,
#     defaults, primary keys and the same monthly partitions, in another schema.
# Each loaded copy must then pass `posflow check --no-kafka` (exit 0), or the script fails.
#
# Usage: bench/etl_bench.sh [--smoke] [--keep] [--profile] [N=1000000]
#   --smoke    N = 20 000 and batch sizes 2000 10000: a quick run (< 60 s) that the script works
#   --keep     keep the databases (and print their names) instead of dropping them
#   --profile  also run the default batch size once more with every statement logged with its
#              duration and plan (auto_explain) and print a per-statement table from the server
#              log (needs the local stack's log, $POSFLOW_HOME/logs/postgres.log)
# Environment:
#   POSFLOW_BUILD_DIR          build tree holding src/posflow (default build/release)
#   POSFLOW_BENCH_BATCHES      batch sizes to try (default "2000 10000 50000")
#   POSFLOW_BENCH_ETL_ARGS     more `posflow etl` options
#   POSFLOW_BENCH_LOCALE       create the database with this locale first (e.g. C, to measure
#                              text comparisons by byte instead of the cluster's C.UTF-8)
#   PGOPTIONS                  server settings for every session, e.g. "-c temp_buffers=256MB"
# Needs the local stack (scripts/stack up). Prints Markdown; the numbers go into bench/README.md
# by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib/copy_limit.sh
source bench/lib/copy_limit.sh

count=1000000
batches="${POSFLOW_BENCH_BATCHES:-2000 10000 50000}"
keep=0
profile=0
for arg in "$@"; do
	case "$arg" in
	--smoke) count=20000; batches="${POSFLOW_BENCH_BATCHES:-2000 10000}" ;;
	--keep) keep=1 ;;
	--profile) profile=1 ;;
	-h | --help) sed -n "2,24p" "$0"; exit 0 ;;
	[0-9]*) count="$arg" ;;
	*) echo "etl_bench: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
	esac
done

build="${POSFLOW_BUILD_DIR:-build/release}"
posflow="$build/src/posflow"
topic_tool="$build/bench/posflow_bench_topic"
if [ ! -x "$posflow" ] || [ ! -x "$topic_tool" ]; then
	if [ "$build" = build/release ]; then
		cmake --preset release >/dev/null && cmake --build --preset release
	else
		echo "etl_bench: $posflow or $topic_tool missing: build $build first" >&2
		exit 2
	fi
fi
pg_log="${POSFLOW_HOME:-.posflow}/logs/postgres.log"

run_id="etlbench_$$"
source_db="${run_id}_staged"
topic="EtlBench_$$"
work="$(mktemp -d)"
databases=("$source_db")
pg() { psql -h 127.0.0.1 -X -v ON_ERROR_STOP=1 "$@"; }
url() { echo "postgresql://127.0.0.1:5432/$1"; }
cleanup() {
	if [ "$keep" = 0 ]; then
		for db in "${databases[@]}"; do
			pg -d postgres -qc "drop database if exists $db with (force)" >/dev/null 2>&1 || true
		done
	else
		echo "kept databases: ${databases[*]}" >&2
	fi
	"$topic_tool" delete "$topic" >/dev/null 2>&1 || true
	"$topic_tool" delete "$topic.dlq" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

# Runs a command; prints "<seconds> <peak RSS KiB>". Its stdout goes to $work/last.out.
measure() {
	python3 - "$work/last.out" "$@" <<'PY'
import resource, subprocess, sys, time
out = open(sys.argv[1], "wb")
start = time.monotonic()
subprocess.run(sys.argv[2:], check=True, stdout=out)
elapsed = time.monotonic() - start
print(f"{elapsed:.3f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
PY
}

# 1. Stage N transactions once: init, produce into a fresh topic, ingest until caught up.
if [ -n "${POSFLOW_BENCH_LOCALE:-}" ]; then
	pg -d postgres -qc "create database $source_db template template0 locale '$POSFLOW_BENCH_LOCALE'"
fi
"$posflow" init --db "$(url "$source_db")" --topic "$topic" >/dev/null
echo "staging $count transactions (produce -> $topic -> ingest) ..." >&2
"$posflow" produce --topic "$topic" --count "$count" --seed 42 >/dev/null
"$posflow" ingest --db "$(url "$source_db")" --topic "$topic" --group "$run_id" \
	--metrics-addr off --exit-when-idle 2 >/dev/null
read -r staged staged_lines < <(pg -d "$source_db" -Atc \
	"select count(*), (select count(*) from staging.pos_line) from staging.pos_transaction" | tr '|' ' ')
[ "$staged" -eq "$count" ] || { echo "etl_bench: staged $staged of $count" >&2; exit 1; }
pg -d "$source_db" -qc "vacuum analyze" >/dev/null
pg -d postgres -qc "checkpoint" >/dev/null

# A fresh copy of the staged database (file copy: fast, and no WAL for the whole database).
clone() {
	databases+=("$1")
	pg -d postgres -qc "create database $1 template $source_db strategy file_copy" >/dev/null
}

# 2. The ETL at each batch size, each on its own copy; then `posflow check`.
declare -A etl_seconds etl_rss
last_db=""
for batch in $batches; do
	db="${run_id}_b$batch"
	clone "$db"
	pg -d postgres -qc "checkpoint" >/dev/null  # start every run from the same clean state
	echo "etl --once --batch-transactions $batch ..." >&2
	read -r seconds rss < <(measure "$posflow" etl --once --json --db "$(url "$db")" \
		--metrics-addr off --batch-transactions "$batch" ${POSFLOW_BENCH_ETL_ARGS:-})
	read -r loaded loaded_lines < <(python3 -c \
		"import json;s=json.load(open('$work/last.out'));print(s['transactions'],s['lines'])")
	if [ "$loaded" -ne "$staged" ] || [ "$loaded_lines" -ne "$staged_lines" ]; then
		echo "etl_bench: batch $batch loaded $loaded/$loaded_lines of $staged/$staged_lines" >&2
		exit 1
	fi
	if ! "$posflow" check --db "$(url "$db")" --topic "$topic" --group "$run_id" --no-kafka \
		>"$work/check_$batch.txt" 2>&1; then
		echo "etl_bench: posflow check failed after the ETL with batch $batch:" >&2
		cat "$work/check_$batch.txt" >&2
		exit 1
	fi
	etl_seconds[$batch]=$seconds
	etl_rss[$batch]=$rss
	last_db="$db"
done

# 3. The write limit: the same fact rows, \copy'd into identical empty partitioned tables.
copy_limit_prepare "$last_db" "$work"
read -r copy_s _ < <(measure psql -h 127.0.0.1 -X -v ON_ERROR_STOP=1 -d "$last_db" -q -f "$work/copy.sql")
copy_limit_verify "$last_db" "$staged" "$staged_lines" || exit 1

# 4. Report.
{
	echo "N = $count transactions ($staged_lines line rows); $(date -u +%F);" \
		"locale ${POSFLOW_BENCH_LOCALE:-of the cluster}; PGOPTIONS '${PGOPTIONS:-}';" \
		"load average now $(cut -d' ' -f1-3 /proc/loadavg) (2 cores, shared)"
	echo
	echo "| what | seconds | transactions/s | line rows/s | of the COPY limit | peak RSS |"
	echo "|---|---|---|---|---|---|"
	for batch in $batches; do
		python3 -c "
s, n, l, c = ${etl_seconds[$batch]}, $staged, $staged_lines, $copy_s
print(f'| posflow etl --once --batch-transactions $batch | {s:.2f} | {n/s:,.0f} | {l/s:,.0f} | '
      f'{100*c/s:.0f} % | {${etl_rss[$batch]}//1024} MiB |')"
	done
	python3 -c "
c, n, l = $copy_s, $staged, $staged_lines
print(f'| psql \\\\copy of the same fact rows into empty partitioned copies (write limit) | {c:.2f} | '
      f'{n/c:,.0f} | {l/c:,.0f} | 100 % | |')"
	echo
	echo "posflow check --no-kafka: passed after every run (goal: ETL >= 40 % of the COPY limit)"
} | tee "$work/report.md"

# 5. Optional: where the ETL's time goes, statement by statement, at the first batch size that
#    is 10 000 (else the first), from the server log (log_min_duration_statement + auto_explain).
if [ "$profile" = 1 ]; then
	batch=10000
	case " $batches " in *" 10000 "*) ;; *) batch="${batches%% *}" ;; esac
	db="${run_id}_profile"
	clone "$db"
	log_start=$(stat -c %s "$pg_log")
	PGOPTIONS="${PGOPTIONS:-} -c log_min_duration_statement=0 -c session_preload_libraries=auto_explain \
-c auto_explain.log_min_duration=0 -c auto_explain.log_analyze=on -c auto_explain.log_buffers=on \
-c auto_explain.log_nested_statements=on" \
		"$posflow" etl --once --db "$(url "$db")" --metrics-addr off --batch-transactions "$batch" \
		${POSFLOW_BENCH_ETL_ARGS:-} >/dev/null
	# This database's records, with their continuation lines (statement text, plans).
	tail -c +"$((log_start + 1))" "$pg_log" | awk -v tag="@$db " '
		/^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] / { keep = index($0, tag) > 0 }
		keep' >"$work/profile.log"
	cp "$work/profile.log" "/tmp/${db}.log"
	echo
	echo "Per statement (batch $batch; Σ over all batches; server log copied to /tmp/${db}.log):"
	python3 - "$work/profile.log" <<'PY'
import collections, re, sys
# Records: a line starting with the log_line_prefix's timestamp begins one; the rest continue it.
records, stamp = [], re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
for line in open(sys.argv[1], errors="replace"):
    if stamp.match(line) or not records:
        records.append(line)
    else:
        records[-1] += line
sent = collections.defaultdict(lambda: [0, 0.0])
plans = collections.defaultdict(lambda: [0, 0.0])
node = re.compile(r"^\s*(?:->\s*)?([^(\n]+?)\s+\(cost=", re.M)
for record in records:
    match = re.search(r"LOG:  duration: ([0-9.]+) ms  (statement|execute [^:]*|plan):(.*)", record, re.S)
    if not match:
        continue
    ms, kind, text = float(match.group(1)), match.group(2), match.group(3)
    if kind == "plan":
        top = node.search(text.split("Query Text:", 1)[-1])
        label = top.group(1).strip() if top else "?"
        if label in ("Aggregate", "Result", "Limit", "ProjectSet"):
            query = text.split("Query Text:", 1)[-1].split("(cost=", 1)[0].rsplit("\n", 1)[0]
            label += ": " + " ".join(query.split())[:70]
        table = plans
    else:
        label = " ".join(text.split())[:80]
        table = sent
    table[label][0] += 1
    table[label][1] += ms
def show(title, table):
    grand = sum(t for _, t in table.values()) or 1
    print(f"\n{title}\n\n| what | calls | total ms | share |\n|---|---|---|---|")
    for text, (calls, ms) in sorted(table.items(), key=lambda kv: -kv[1][1])[:25]:
        print(f"| `{text}` | {calls} | {ms:,.0f} | {100*ms/grand:.1f} % |")
show("Statements as the ETL sends them (log_min_duration_statement):", sent)
show("Planned statements, by top plan node (auto_explain, with per-node timing overhead):", plans)
PY
fi
