# shellcheck shell=bash disable=SC2034
# (SC2034: the variables below are used by the scripts that source this file)
# Shared helpers for scripts/bootstrap and scripts/stack. Source it; do not run it.

# ---- pinned versions (single source of truth) -------------------------------
KAFKA_VERSION=4.1.1
FERRETDB_VERSION=v1.24.2
PG_MAJOR=15

# ---- locations ---------------------------------------------------------------
POSFLOW_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
POSFLOW_REPO_ROOT="$(cd "$POSFLOW_SCRIPTS_DIR/.." && pwd -P)"
POSFLOW_CACHE="${POSFLOW_CACHE:-$HOME/.cache/posflow}"
KAFKA_LIBS="$POSFLOW_CACHE/kafka-$KAFKA_VERSION/libs"
FERRETDB_BIN="$POSFLOW_CACHE/ferretdb-$FERRETDB_VERSION/ferretdb"
PG_BIN="/usr/lib/postgresql/$PG_MAJOR/bin"

# Go lives in /usr/local/go on our machines; it is not always on PATH.
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	PATH="$PATH:/usr/local/go/bin"
fi

# ---- messages ------------------------------------------------------------------
PROG="$(basename "$0")"

die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit 1
}

warn() {
	printf '%s: warning: %s\n' "$PROG" "$*" >&2
}

# now: wall clock in seconds with microseconds (bash 5 EPOCHREALTIME).
now() {
	printf '%s' "${EPOCHREALTIME/,/.}"
}

# elapsed START -> "3.1" (seconds since START, one decimal).
elapsed() {
	awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1f", e - s }'
}

# ---- processes and ports -------------------------------------------------------

# pid_alive PID: true if PID is a live (non-zombie) process.
pid_alive() {
	local pid="$1" state
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	state="$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" || return 1
	[[ "$state" != "Z" ]]
}

# pid_cmdline PID: the command line of PID with NULs turned into spaces.
pid_cmdline() {
	tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true
}

# port_listeners PORT: "pid=123(java) ..." for every TCP listener on PORT (any address),
# empty if the port is free.
port_listeners() {
	local port="$1" out
	out="$(ss -Hltnp "( sport = :$port )" 2>/dev/null)" || return 0
	[[ -n "$out" ]] || return 0
	# users:(("java",pid=123,fd=45)) -> pid=123(java)
	local procs
	procs="$(grep -o '"[^"]*",pid=[0-9]*' <<<"$out" | sed -E 's/"([^"]*)",pid=([0-9]+)/pid=\2(\1)/' | sort -u | tr '\n' ' ')"
	printf '%s' "${procs:-unknown process}"
}

# port_listener_pids PORT: the pids listening on PORT, one per line.
port_listener_pids() {
	ss -Hltnp "( sport = :$1 )" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
}

# kill_and_wait PID TIMEOUT_S: SIGTERM, wait up to TIMEOUT_S, then SIGKILL.
# Returns 0 when the process is gone; prints "killed" on stdout if SIGKILL was needed.
kill_and_wait() {
	local pid="$1" timeout="$2" deadline
	pid_alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	deadline=$((SECONDS + timeout))
	while pid_alive "$pid"; do
		if ((SECONDS >= deadline)); then
			kill -KILL "$pid" 2>/dev/null || true
			sleep 0.2
			echo killed
			break
		fi
		sleep 0.1
	done
	! pid_alive "$pid"
}

# The demo's dashboard (`posflow serve`, started by scripts/demo) lives as long as the stack:
# its pid file, and stop_dashboard for `scripts/stack down`.
DASHBOARD_PID_FILE="${POSFLOW_HOME:-$POSFLOW_REPO_ROOT/.posflow}/run/serve.pid"
stop_dashboard() {
	local pid
	[[ -s "$DASHBOARD_PID_FILE" ]] || return 0
	pid="$(cat "$DASHBOARD_PID_FILE")"
	if pid_alive "$pid" && [[ "$(pid_cmdline "$pid")" == *" serve "* ]]; then
		kill_and_wait "$pid" 10 >/dev/null || true
		echo "dashboard: stopped (posflow serve, pid $pid)"
	fi
	rm -f "$DASHBOARD_PID_FILE"
}
