#!/usr/bin/env bash
# End-to-end benchmark of `posflow run`: the one-hop path (each consumed batch loaded straight into
# the warehouse with its offsets) beside the two-hop path (`run --via-staging`: ingest to staging,
# the ETL from it), in ONE run, on the same pre-loaded topic, beside the PostgreSQL write limit:
#   1. N simulator receipts (1 % malformed, 1 % duplicates) produced into a fresh 6-partition
#      topic, with a manifest;
#   2. `posflow run --via-staging --exit-when-idle 1` and `posflow run --exit-when-idle 1`, each
#      into its own fresh database (`posflow init`) with its own consumer group, after a
#      checkpoint; each followed by `posflow check --manifest` (must exit 0, and the facts must
#      match the manifest, or the script fails);
#   3. the \copy limit: psql \copy of the very fact rows one-hop wrote (dw.fact_transaction and
#      dw.fact_sales_line, exported to files) into identical empty tables (same columns, defaults,
#      primary keys, the same monthly partitions) in another schema;
#   4. freshness (sale -> visible in dw.fact_transaction) p50/p99 under `posflow run` at a steady
#      rate (bench/freshness_bench.cc, as bench/freshness_bench.sh) in a database and topic of
#      its own, then `posflow check` (must exit 0); the same for `--via-staging` unless disabled.
# Seconds of a catch-up run = from its start to its last batch's commit (the timestamp of its
# last "loaded" log line); the wall time until exit minus the idle second (as ingest_bench.sh)
# is printed too. Receipts/s count the receipts loaded (facts), not the messages.
#
# Usage: bench/e2e_bench.sh [--smoke] [--keep] [N=200000]
#   --smoke  N = 20 000, freshness 2 000/s for 10 s (one-hop only): every step, < 90 s, for CI
#   --keep   keep the databases (and print their names) instead of dropping them
# Environment:
#   POSFLOW_BUILD_DIR                build tree holding src/posflow (default build/release)
#   POSFLOW_BENCH_FRESH_RATE         freshness rate, receipts/s (default 5000; smoke 2000)
#   POSFLOW_BENCH_FRESH_SECONDS      freshness measured seconds (default 60; smoke 10)
#   POSFLOW_BENCH_FRESH_VIA_STAGING  1/0: freshness also for --via-staging (default 1; smoke 0)
#   POSFLOW_BENCH_FRESH_ARGS         more posflow_freshness_bench options, e.g. "--poll-ms 20"
#   POSFLOW_BENCH_RUN_ARGS           more `posflow run` options (every run)
# Targets (2 cores): one-hop >= 2.5x --via-staging and >= 13 000 receipts/s, >= 75 % of the \copy
# limit, freshness p99 < 250 ms at 5 000/s, peak RSS <= 256 MiB. A missed target is reported, not
# an error; the exit status is non-zero only when a check or a count fails.
# Needs the local stack (scripts/stack up). Prints Markdown; the numbers go into bench/README.md
# by hand.
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$self")/.."
# shellcheck source=bench/lib/copy_limit.sh
source bench/lib/copy_limit.sh
command_line="bench/e2e_bench.sh${*:+ $*}"
for var in POSFLOW_BUILD_DIR POSFLOW_BENCH_FRESH_RATE POSFLOW_BENCH_FRESH_SECONDS \
	POSFLOW_BENCH_FRESH_VIA_STAGING POSFLOW_BENCH_FRESH_ARGS POSFLOW_BENCH_RUN_ARGS; do
	[ -n "${!var:-}" ] && command_line="$var='${!var}' $command_line"
done

count=200000
smoke=0
keep=0
for arg in "$@"; do
	case "$arg" in
	--smoke) smoke=1; count=20000 ;;
	--keep) keep=1 ;;
	-h | --help) sed -n "2,35p" "$self"; exit 0 ;;
	[0-9]*) count="$arg" ;;
	*) echo "e2e_bench: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
	esac
done
if [ "$smoke" = 1 ]; then
	fresh_rate="${POSFLOW_BENCH_FRESH_RATE:-2000}"
	fresh_seconds="${POSFLOW_BENCH_FRESH_SECONDS:-10}"
	fresh_via="${POSFLOW_BENCH_FRESH_VIA_STAGING:-0}"
else
	fresh_rate="${POSFLOW_BENCH_FRESH_RATE:-5000}"
	fresh_seconds="${POSFLOW_BENCH_FRESH_SECONDS:-60}"
	fresh_via="${POSFLOW_BENCH_FRESH_VIA_STAGING:-1}"
fi

build="${POSFLOW_BUILD_DIR:-build/release}"
posflow="$build/src/posflow"
topic_tool="$build/bench/posflow_bench_topic"
fresh_tool="$build/bench/posflow_freshness_bench"
if [ ! -x "$posflow" ] || [ ! -x "$topic_tool" ] || [ ! -x "$fresh_tool" ]; then
	if [ "$build" = build/release ]; then
		cmake --preset release >/dev/null && cmake --build --preset release
	else
		echo "e2e_bench: $posflow, $topic_tool or $fresh_tool missing: build $build first" \
			"(cmake --build --preset ... --target posflow posflow_bench_topic posflow_freshness_bench)" >&2
		exit 2
	fi
fi
if ! "$posflow" run --help | grep -q -- --via-staging; then
	echo "e2e_bench: $posflow has no one-hop \`run\` (no --via-staging): build a newer tree" >&2
	exit 2
fi

run_id="e2ebench_$$"
topic="E2eBench_$$"
work="$(mktemp -d)"
databases=()
topics=("$topic")
run_pid=""
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
started_at=$(date -u '+%F %T UTC')
script_start=$(date +%s)
pg() { psql -h 127.0.0.1 -X -v ON_ERROR_STOP=1 "$@"; }
url() { echo "postgresql://127.0.0.1:5432/$1"; }
cleanup() {
	if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
		kill -INT "$run_pid" 2>/dev/null || true
		wait "$run_pid" 2>/dev/null || true
	fi
	# In parallel: each DROP DATABASE waits for a checkpoint, each topic deletion for the broker.
	local pids=()
	if [ "$keep" = 0 ]; then
		for db in "${databases[@]}"; do
			pg -d postgres -qc "drop database if exists $db with (force)" >/dev/null 2>&1 &
			pids+=($!)
		done
	elif [ "${#databases[@]}" -gt 0 ]; then
		echo "kept databases: ${databases[*]}" >&2
	fi
	for each in "${topics[@]}"; do
		"$topic_tool" delete "$each" >/dev/null 2>&1 &
		pids+=($!)
		"$topic_tool" delete "$each.dlq" >/dev/null 2>&1 &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do wait "$pid" || true; done
	rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "e2e_bench: $*" >&2; exit 1; }
step() { echo "[$(($(date +%s) - script_start)) s] $*" >&2; }

# Runs a command; prints "<seconds> <peak RSS KiB> <start, epoch seconds>". Its stdout goes to
# $work/last.out, its stderr to $work/last.err. Call it as `measure ... >file` (not in a process
# substitution) so that a failing command stops the script.
measure() {
	python3 - "$work/last.out" "$work/last.err" "$@" <<'PY'
import resource, subprocess, sys, time
out, err = open(sys.argv[1], "wb"), open(sys.argv[2], "wb")
wall = time.time()
start = time.monotonic()
code = subprocess.run(sys.argv[3:], stdout=out, stderr=err).returncode
elapsed = time.monotonic() - start
if code != 0:
    sys.exit(f"measure: {sys.argv[3]} exited with {code}")
print(f"{elapsed:.3f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss} {wall:.3f}")
PY
}

# Seconds from <start epoch> to the newest "loaded N transactions" log line of $work/last.err
# (one-hop logs it per batch at debug level, the ETL of --via-staging at info level).
seconds_to_last_load() {
	python3 - "$work/last.err" "$1" <<'PY'
import datetime, re, sys
last = None
for line in open(sys.argv[1], errors="replace"):
    match = re.match(r"(\d{4}-\d\d-\d\dT[0-9:.]+[+-]\d\d:\d\d) .*loaded \d+ transactions", line)
    if match:
        last = datetime.datetime.fromisoformat(match.group(1)).timestamp()
print(f"{last - float(sys.argv[2]):.3f}" if last is not None else "none")
PY
}

# 1. Fresh databases (`posflow init`), a fresh topic (init creates it with 6 partitions) pre-loaded
#    with N receipts. Nothing is timed yet, so the inits (each a few seconds) run side by side (two
#    inits of one topic: the second finds it created, as a re-run of init would).
pg_via="${run_id}_via"
pg_one="${run_id}_onehop"
fresh_tags=onehop
[ "$fresh_via" = 1 ] && fresh_tags="onehop via"
init_pids=()
init_db() {  # DB TOPIC, in the background; its pid goes to init_pids
	databases+=("$1")
	"$posflow" init --db "$(url "$1")" --topic "$2" >"$work/init_$1.txt" 2>&1 &
	init_pids+=($!)
}
wait_inits() {
	for pid in "${init_pids[@]}"; do
		wait "$pid" || { cat "$work"/init_*.txt >&2; fail "posflow init failed"; }
	done
	init_pids=()
}
step "posflow init of $pg_via, $pg_one (topic $topic) and the freshness databases ..."
init_db "$pg_via" "$topic"
init_db "$pg_one" "$topic"
for tag in $fresh_tags; do
	topics+=("${topic}_fresh_$tag")
	init_db "${run_id}_fresh_$tag" "${topic}_fresh_$tag"
done
wait_inits
step "producing $count receipts into $topic ..."
"$posflow" produce --topic "$topic" --count "$count" --seed 42 --bad-ratio 0.01 \
	--duplicate-ratio 0.01 --manifest "$work/manifest.json" >/dev/null
read -r valid valid_lines < <(python3 -c \
	"import json;m=json.load(open('$work/manifest.json'));print(m['valid'],m['lines'])")

# 2. The two catch-up runs, each into its own database with its own group; then the checks.
declare -A run_s run_wall run_rss
idle=1  # --exit-when-idle adds (at least) this much after the last message
for path in via onehop; do
	db="${run_id}_$path"
	flags=()
	[ "$path" = via ] && flags=(--via-staging)
	pg -d postgres -qc "checkpoint" >/dev/null  # both runs start from the same clean state
	step "posflow run ${flags[*]:-(one hop)} --exit-when-idle $idle over $count receipts ..."
	measure "$posflow" --log-level debug run "${flags[@]}" --db "$(url "$db")" --topic "$topic" \
		--group "${run_id}_$path" --metrics-addr off --exit-when-idle "$idle" \
		${POSFLOW_BENCH_RUN_ARGS:-} >"$work/measure.txt" ||
		{ tail -20 "$work/last.err" >&2; fail "posflow run ${flags[*]} failed"; }
	read -r wall rss start <"$work/measure.txt"
	loaded_s=$(seconds_to_last_load "$start")
	[ "$loaded_s" != none ] || fail "posflow run ${flags[*]}: no 'loaded' line in its log"
	run_s[$path]=$loaded_s
	run_wall[$path]=$(python3 -c "print(max(0.01, $wall - $idle))")
	run_rss[$path]=$rss
	cp "$work/last.out" "$work/run_$path.out"
	read -r facts fact_lines < <(pg -d "$db" -Atc \
		"select count(*), (select count(*) from dw.fact_sales_line) from dw.fact_transaction" | tr '|' ' ')
	if [ "$facts" -ne "$valid" ] || [ "$fact_lines" -ne "$valid_lines" ]; then
		fail "run ${flags[*]} loaded $facts receipts / $fact_lines lines, the manifest says $valid / $valid_lines"
	fi
	if ! "$posflow" check --db "$(url "$db")" --topic "$topic" --group "${run_id}_$path" \
		--manifest "$work/manifest.json" >"$work/check_$path.txt" 2>&1; then
		cat "$work/check_$path.txt" >&2
		fail "posflow check --manifest failed after run ${flags[*]:-(one hop)}"
	fi
	# Leave autovacuum nothing to do in this database while the next step is timed.
	pg -d "$db" -qc "vacuum analyze" >/dev/null
done

# 3. The \copy limit: the fact rows one-hop wrote, into identical empty partitioned tables.
copy_limit_prepare "$pg_one" "$work"
step "psql \\copy of the one-hop fact rows ..."
measure psql -h 127.0.0.1 -X -v ON_ERROR_STOP=1 -d "$pg_one" -q -f "$work/copy.sql" \
	>"$work/measure.txt" || { cat "$work/last.err" >&2; fail "\\copy failed"; }
read -r copy_s _ _ <"$work/measure.txt"
copy_limit_verify "$pg_one" "$valid" "$valid_lines" || fail "the \\copy limit's rows do not match"
# Its million fresh rows would be autovacuumed during the freshness runs below (insert-triggered
# vacuum), taking CPU and I/O from what is measured there: dropped now that they are counted.
pg -d "$pg_one" -qc "drop schema copy_limit cascade" >/dev/null

# 4. Freshness under `posflow run` at a steady rate, in a database and topic of its own.
# Writes $work/fresh_<tag>.json (the bench's summary + run's peak RSS and the load averages).
freshness() {
	local tag=$1
	shift
	local db="${run_id}_fresh_$tag" ftopic="${topic}_fresh_$tag" bench_rc=0 hwm load_before
	"$posflow" run "$@" --log-level info --db "$(url "$db")" --topic "$ftopic" --group "$db" \
		--metrics-addr off ${POSFLOW_BENCH_RUN_ARGS:-} >"$work/fresh_$tag.run.out" \
		2>"$work/fresh_$tag.run.err" &
	run_pid=$!
	for _ in $(seq 1 150); do  # joined once it logs its partitions' assignment; warm-up covers the rest
		grep -q "assigned [1-9]" "$work/fresh_$tag.run.err" 2>/dev/null && break
		kill -0 "$run_pid" 2>/dev/null || { cat "$work/fresh_$tag.run.err" >&2; fail "posflow run $* died"; }
		sleep 0.1
	done
	pg -d postgres -qc "checkpoint" >/dev/null  # the previous steps' dirty pages flushed first
	load_before=$(cut -d' ' -f1 /proc/loadavg)
	step "freshness ($tag): $fresh_rate receipts/s for $fresh_seconds s (+5 s warm-up) ..."
	"$fresh_tool" --db "$(url "$db")" --topic "$ftopic" --rate "$fresh_rate" \
		--duration "$fresh_seconds" --warmup 5 ${POSFLOW_BENCH_FRESH_ARGS:-} >"$work/fresh_$tag.bench.out" \
		2>"$work/fresh_$tag.bench.err" || bench_rc=$?
	if [ "$bench_rc" -ne 0 ]; then
		cat "$work/fresh_$tag.bench.err" >&2
		# Receipts not visible within the drain time: the path did not keep up; report it, and
		# let it catch up (bounded) so that `posflow check` judges a finished load, not a backlog.
		grep -q "never became visible" "$work/fresh_$tag.bench.err" ||
			fail "posflow_freshness_bench failed ($tag)"
		sent=$(python3 -c "import json;print(json.loads(open('$work/fresh_$tag.bench.out').read().splitlines()[-1])['sent'])")
		step "freshness ($tag): did not keep up; waiting (<= 600 s) until its $sent receipts are loaded ..."
		for _ in $(seq 1 600); do
			[ "$(pg -d "$db" -Atc "select count(*) from dw.fact_transaction")" -ge "$sent" ] && break
			kill -0 "$run_pid" 2>/dev/null || break
			sleep 1
		done
	fi
	hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$run_pid/status" 2>/dev/null || echo 0)
	kill -INT "$run_pid"
	wait "$run_pid" || { cat "$work/fresh_$tag.run.err" >&2; fail "posflow run $* failed"; }
	run_pid=""
	if ! "$posflow" check --db "$(url "$db")" --topic "$ftopic" --group "$db" \
		>"$work/check_fresh_$tag.txt" 2>&1; then
		cat "$work/check_fresh_$tag.txt" >&2
		fail "posflow check failed after the freshness run ($tag)"
	fi
	# Load batches: one loaded_at per batch (its transaction's start).
	read -r batches mean_batch < <(pg -d "$db" -Atc "select count(*), round(avg(n)) from
		(select loaded_at, count(*) n from dw.fact_transaction group by 1) b" | tr '|' ' ')
	python3 - "$work/fresh_$tag.bench.out" "$hwm" "$load_before" "$(cut -d' ' -f1 /proc/loadavg)" \
		"$batches" "$mean_batch" >"$work/fresh_$tag.json" <<'PY'
import json, sys
summary = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
summary.update(rss_kib=int(sys.argv[2]), load_before=sys.argv[3], load_after=sys.argv[4],
               batches=int(sys.argv[5]), mean_batch=sys.argv[6])
print(json.dumps(summary))
PY
}
freshness onehop
[ "$fresh_via" = 1 ] && freshness via --via-staging
step "done; dropping the databases and topics"

# 5. Report.
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$work" "$count" "$valid" "$valid_lines" "$copy_s" "$fresh_rate" "$fresh_tags" <<PY
import json, sys
work, count, valid, lines, copy_s, fresh_rate = sys.argv[1], *map(int, sys.argv[2:5]), \
    float(sys.argv[5]), float(sys.argv[6])
tags = sys.argv[7].split()
s = {"via": ${run_s[via]}, "onehop": ${run_s[onehop]}}
wall = {"via": ${run_wall[via]}, "onehop": ${run_wall[onehop]}}
rss = {"via": ${run_rss[via]} // 1024, "onehop": ${run_rss[onehop]} // 1024}
fresh = {tag: json.load(open(f"{work}/fresh_{tag}.json")) for tag in tags}
ratio = s["via"] / s["onehop"]
onehop_rate = valid / s["onehop"]
of_copy = copy_s / s["onehop"]
def verdict(ok): return "**pass**" if ok else "**FAIL**"

print(f"N = {count:,} messages = {valid:,} valid receipts ({lines:,} lines) + 1 % malformed + "
      f"1 % duplicates, seed 42, one 6-partition topic; ${started_at}; \`nproc\` $(nproc); "
      f"load average before ${load_start}, after ${load_end}; {$(date +%s) - ${script_start}} s in all")
print()
print("| what | seconds | receipts/s | ratio (one-hop / via-staging) | of the \\\\copy limit | peak RSS |")
print("|---|---|---|---|---|---|")
print(f"| posflow run --via-staging --exit-when-idle 1 | {s['via']:.2f} | {valid / s['via']:,.0f} | "
      f"1.00× | {100 * copy_s / s['via']:.0f} % | {rss['via']} MiB |")
print(f"| posflow run (one hop) --exit-when-idle 1 | {s['onehop']:.2f} | {onehop_rate:,.0f} | "
      f"**{ratio:.2f}×** | {100 * of_copy:.0f} % | {rss['onehop']} MiB |")
print(f"| psql \\\\copy of the one-hop fact rows into empty partitioned copies (write limit) | "
      f"{copy_s:.2f} | {valid / copy_s:,.0f} | | 100 % | |")
print()
print(f"Seconds: from the start of \`posflow run\` to its last batch's commit (log timestamps). Wall time "
      f"to exit minus the idle second (as ingest_bench.sh): via-staging {wall['via']:.2f} s, one-hop "
      f"{wall['onehop']:.2f} s ({valid / wall['onehop']:,.0f} receipts/s, ratio {wall['via'] / wall['onehop']:.2f}×, "
      f"{100 * copy_s / wall['onehop']:.0f} % of the limit).")
print()
print("| freshness (sale → fact visible) | rate achieved | p50 ms | p99 ms | max ms | missing | load batches (mean receipts) | peak RSS | load before → after |")
print("|---|---|---|---|---|---|---|---|---|")
names = {"onehop": "posflow run (one hop)", "via": "posflow run --via-staging"}
for tag in tags:
    f = fresh[tag]
    behind = (f" — DID NOT KEEP UP: {f['missing']:,} of {f['sent']:,} not visible within the drain, "
              "percentiles of the visible only") if f["missing"] else ""
    print(f"| {names[tag]}, {fresh_rate:,.0f}/s for {f['seconds']:.0f} s ({f['measured']:,} measured){behind} | "
          f"{'–' if f['missing'] else format(f['rate'], ',.0f') + '/s'} | "
          f"{f['p50_ms']:.0f} | {f['p99_ms']:.0f} | {f['max_ms']:.0f} | "
          f"{f['missing']} | {f['batches']:,} ({f['mean_batch']}) | {f['rss_kib'] // 1024} MiB | "
          f"{f['load_before']} → {f['load_after']} |")
print()
print("posflow check --manifest: OK after both catch-up runs (facts = the manifest's valid receipts "
      "and lines); posflow check: OK after " + ("both freshness runs" if len(tags) > 1 else "the freshness run"))
print()
one_rss = max(rss["onehop"], fresh["onehop"]["rss_kib"] // 1024)
p99 = fresh["onehop"]["p99_ms"]
at = "" if fresh_rate == 5000 else f" (measured at {fresh_rate:,.0f}/s, the target is for 5 000/s)"
print("Targets (one-hop):")
print(f"- ≥ 2.5× --via-staging in the same run: {ratio:.2f}× {verdict(ratio >= 2.5)}")
print(f"- ≥ 13 000 receipts/s: {onehop_rate:,.0f} {verdict(onehop_rate >= 13000)}")
print(f"- ≥ 75 % of the \\\\copy limit: {100 * of_copy:.0f} % {verdict(of_copy >= 0.75)}")
print(f"- freshness p99 < 250 ms at 5 000/s: {p99:.0f} ms{at} "
      f"{verdict(p99 < 250 and fresh['onehop']['missing'] == 0)}")
print(f"- peak RSS ≤ 256 MiB: {one_rss} MiB (catch-up {rss['onehop']}, freshness "
      f"{fresh['onehop']['rss_kib'] // 1024}) {verdict(one_rss <= 256)}")
print()
print("Command: \`${command_line}\`")
PY
