#!/usr/bin/env bash
# The dashboard's browser test (dashboard.test.mjs), end to end on the local stack:
#   1. a warehouse of its own: `posflow init` of a new database and topic, two weeks of history
#      produced into the topic (with bad messages and duplicates), loaded by
#      `posflow run --exit-when-idle`;
#   2. a `posflow run` left running on the topic (the live sales and the bad message the test
#      sends are loaded while the page is open), and `posflow serve` on a free port;
#   3. the node test, driving Debian's chromium through playwright-core;
#   4. teardown: both processes stopped, the database dropped, the topics deleted.
# Screenshots and timings go to BUILD_DIR/browser-artifacts/.
#
#   tests/browser/run.sh [BUILD_DIR]      (default build/debug; ctest passes its own)
#
# Environment: POSFLOW_TEST_PG (maintenance database URL, default
# postgresql://127.0.0.1:5432/postgres), POSFLOW_TEST_BROKERS (default 127.0.0.1:9092),
# CHROMIUM (default /usr/bin/chromium), POSFLOW_SKIP_INTEGRATION=1 (exit 77: skipped),
# POSFLOW_DASHBOARD_PNG (also copy the dashboard's screenshot there, e.g. docs/dashboard.png).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
repo="$(cd "$here/../.." && pwd -P)"
build="$(cd "${1:-$repo/build/debug}" && pwd -P)"
posflow="$build/src/posflow"
topic_tool="$build/bench/posflow_bench_topic"
admin_url="${POSFLOW_TEST_PG:-postgresql://127.0.0.1:5432/postgres}"
brokers="${POSFLOW_TEST_BROKERS:-127.0.0.1:9092}"
chromium="${CHROMIUM:-/usr/bin/chromium}"
artifacts="$build/browser-artifacts"
SECONDS=0

say() { printf 'browser test: %s (%s s)\n' "$*" "$SECONDS"; }
die() {
	printf 'browser test: error: %s\n' "$*" >&2
	exit 1
}

if [[ "${POSFLOW_SKIP_INTEGRATION:-0}" == 1 ]]; then
	echo "browser test: skipped (POSFLOW_SKIP_INTEGRATION=1)"
	exit 77
fi
[[ -x "$posflow" ]] || die "no posflow binary at $posflow (build first)"
[[ -x "$chromium" ]] || die "no browser at $chromium (scripts/bootstrap installs Debian's chromium)"
command -v node >/dev/null || die "node not found (scripts/bootstrap installs nodejs)"
command -v kcat >/dev/null || die "kcat not found (scripts/bootstrap installs it)"
command -v psql >/dev/null || die "psql not found (scripts/bootstrap installs postgresql-client)"
if [[ ! -d "$here/node_modules/playwright-core" ]]; then
	say "installing playwright-core (npm ci; no browser is downloaded)"
	(cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent) ||
		die "npm ci in $here failed"
fi

# Names of our own: database and topic (Kafka names allow [A-Za-z0-9._-]) and consumer group.
suffix="$$_$RANDOM"
database="dash_browser_$suffix"
topic="DashBrowser_$suffix"
group="DashBrowser_$suffix"
db_url="${admin_url%/*}/$database"
work="$(mktemp -d /tmp/posflow-browser.XXXXXX)"
run_pid=""
serve_pid=""

cleanup() {
	local status=$?
	for pid in "$serve_pid" "$run_pid"; do
		if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
	psql -X -q "$admin_url" -c "drop database if exists \"$database\" with (force)" >/dev/null 2>&1 ||
		echo "browser test: warning: could not drop database $database" >&2
	if [[ -x "$topic_tool" ]]; then
		"$topic_tool" delete "$topic" "$brokers" >/dev/null 2>&1 || true
		"$topic_tool" delete "$topic.dlq" "$brokers" >/dev/null 2>&1 || true
	else
		echo "browser test: warning: $topic_tool not built: topics $topic(.dlq) left in Kafka" >&2
	fi
	if ((status != 0)); then
		for log in "$work"/*.log; do
			[[ -s "$log" ]] && { echo "--- $log (last lines)"; tail -n 20 "$log"; }
		done
	fi
	rm -rf "$work"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

common=(--db "$db_url" --topic "$topic" --group "$group" --brokers "$brokers")

"$posflow" init "${common[@]}" >"$work/init.log" 2>&1 || die "posflow init failed"
say "database $database and topic $topic created"
"$posflow" produce --topic "$topic" --brokers "$brokers" --count 6000 --seed 13 \
	--start-date "$(date -u -d '-13 days' +%F)" --days 14 --bad-ratio 0.01 \
	--duplicate-ratio 0.01 >"$work/produce.log" 2>&1 || die "posflow produce failed"
"$posflow" run "${common[@]}" --metrics-addr off --exit-when-idle 1 >"$work/catch-up.log" 2>&1 ||
	die "posflow run (catch-up) failed"
say "two weeks of history loaded: $(tail -n 1 "$work/catch-up.log")"

"$posflow" run "${common[@]}" --metrics-addr off >"$work/run.log" 2>&1 &
run_pid=$!
"$posflow" serve "${common[@]}" --http-addr 127.0.0.1:0 --refresh-seconds 2 >"$work/serve.log" 2>&1 &
serve_pid=$!
url=""
for _ in $(seq 100); do
	url="$(sed -n 's|^posflow serve: dashboard at \(http://[^ ]*\).*|\1|p' "$work/serve.log")"
	[[ -n "$url" ]] && break
	kill -0 "$serve_pid" 2>/dev/null || die "posflow serve exited: $(cat "$work/serve.log")"
	sleep 0.1
done
[[ -n "$url" ]] || die "posflow serve did not print its address"
say "posflow serve at $url, posflow run following $topic"

rm -rf "$artifacts"
mkdir -p "$artifacts"
POSFLOW_BIN="$posflow" POSFLOW_DB="$db_url" POSFLOW_TOPIC="$topic" POSFLOW_BROKERS="$brokers" \
	POSFLOW_SERVE_URL="$url" POSFLOW_ARTIFACTS="$artifacts" CHROMIUM="$chromium" \
	node --test --test-reporter=spec "$here/dashboard.test.mjs"
say "passed; screenshots in $artifacts"
if [[ -n "${POSFLOW_DASHBOARD_PNG:-}" ]]; then
	cp "$artifacts/dashboard.png" "$POSFLOW_DASHBOARD_PNG"
	say "dashboard screenshot copied to $POSFLOW_DASHBOARD_PNG"
fi
