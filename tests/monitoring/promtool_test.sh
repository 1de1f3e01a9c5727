#!/usr/bin/env bash
# The Prometheus side of the monitoring pack, checked without any service:
#   1. `promtool check rules` and `promtool test rules` on orchestration/prometheus/
#      posflow-rules.yml and its unit tests (posflow-rules.test.yml), and `promtool check config`
#      on the example prometheus.yml;
#   2. every alert of the rules has a test case where it fires and one where it must not;
#   3. the rules and the "Pipeline" dashboard use only the series documented at the top of
#      src/ops/metrics.h (a histogram's _bucket/_count/_sum included), with only their labels
#      (plus job, instance, le);
#   4. every PromQL query of the Grafana dashboards parses (promtool checks them as recording
#      rules, Grafana's variables replaced by sample values), and both dashboards are sound
#      Grafana 10 JSON: uid, title, schemaVersion, unique panel ids, panels inside the 24-column
#      grid, data sources only the provisioned warehouse or the ${datasource} variable.
#
#   tests/monitoring/promtool_test.sh
#
# Needs promtool (Debian's prometheus package; scripts/bootstrap installs it) and python3.
# Takes about a second.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rules_dir="$root/orchestration/prometheus"

fail() {
	echo "promtool_test: $*" >&2
	exit 1
}

command -v promtool >/dev/null ||
	fail "promtool not found: install Debian's prometheus package (scripts/bootstrap does; apt-get install prometheus)"
command -v python3 >/dev/null || fail "python3 not found"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# run WHAT CMD...: CMD's output only when it fails.
run() {
	local what="$1"
	shift
	if ! "$@" >"$work/out" 2>&1; then
		cat "$work/out" >&2
		fail "$what failed"
	fi
	echo "ok    $what"
}

run "promtool check rules posflow-rules.yml" promtool check rules "$rules_dir/posflow-rules.yml"
# Rule files in a test file are relative to it: run from its folder (in a subshell).
test_rules() (cd "$rules_dir" && promtool test rules posflow-rules.test.yml)
run "promtool test rules posflow-rules.test.yml" test_rules
run "promtool check config prometheus.yml" promtool check config "$rules_dir/prometheus.yml"

python3 - "$root" "$work" <<'PY'
import json
import pathlib
import re
import subprocess
import sys

root, work = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
rules_text = (root / "orchestration/prometheus/posflow-rules.yml").read_text()
tests_text = (root / "orchestration/prometheus/posflow-rules.test.yml").read_text()
dashboards = {path.name: json.loads(path.read_text())
              for path in sorted((root / "orchestration/grafana/dashboards").glob("*.json"))}
problems = []

# --- 2. each alert fires in a test and stays silent in another.
alerts = re.findall(r"^\s*- alert:\s*(\w+)", rules_text, re.M)
cases = re.findall(r"alertname:\s*(\w+)\s*\n\s*exp_alerts:\s*(\[\s*\])?", tests_text)
for alert in alerts:
    fires = [c for c in cases if c[0] == alert and not c[1]]
    silent = [c for c in cases if c[0] == alert and c[1]]
    if not fires or not silent:
        problems.append(f"alert {alert}: needs a test where it fires and one where it does not "
                        f"(has {len(fires)} and {len(silent)})")
unknown = {c[0] for c in cases} - set(alerts)
if unknown:
    problems.append(f"tests name alerts that do not exist: {sorted(unknown)}")
if not alerts:
    problems.append("no alert found in posflow-rules.yml")

# --- 3. only the documented series and labels.
series, histograms = {}, set()
header = (root / "src/ops/metrics.h").read_text().split("Histogram buckets")[0]
for name, labels, text in re.findall(r"^//\s+(posflow_\w+)(?:\{([\w,]*)\})?\s+(.*)$", header, re.M):
    series[name] = set(filter(None, labels.split(",")))
    if text.startswith("histogram"):
        histograms.add(name)
if len(series) < 10:
    problems.append(f"found only {len(series)} series at the top of src/ops/metrics.h")
known = dict(series)
for name in histograms:
    for suffix in ("_bucket", "_count", "_sum"):
        known[name + suffix] = series[name] | ({"le"} if suffix == "_bucket" else set())
all_labels = set().union(*series.values()) | {"job", "instance", "le"}


def check_names(where, text):
    for name in sorted(set(re.findall(r"\bposflow_[a-z0-9_]+\b", text))):
        if name not in known:
            problems.append(f"{where}: {name} is not a series of src/ops/metrics.h")
    for group in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", text):
        for label in filter(None, (l.strip() for l in group.split(","))):
            if label not in all_labels:
                problems.append(f"{where}: label {label!r} is not one of {sorted(all_labels)}")


expressions = []  # (where, PromQL)
for match in re.finditer(r"- alert:\s*(\w+)\n(.*?)(?=\n\s*- alert:|\Z)", rules_text, re.S):
    check_names(f"rule {match[1]}", match[2])
    for label in re.findall(r"\$labels\.(\w+)", match[2]):
        if label not in all_labels:
            problems.append(f"rule {match[1]}: $labels.{label} is not a label of the series")

# --- 4. the dashboards.
ALLOWED_DATASOURCES = {"posflow-warehouse", "${datasource}", "$datasource"}
SAMPLE_VALUES = {"__rate_interval": "1m", "__interval": "1m", "__range": "1h",
                 "__range_s": "3600", "job": "posflow", "instance": ".*"}


def walk(panels):
    for panel in panels:
        yield panel
        yield from walk(panel.get("panels", []))


def datasource_uid(ref):
    return ref.get("uid") if isinstance(ref, dict) else ref


for file_name, dashboard in dashboards.items():
    where = file_name
    for key in ("uid", "title"):
        if not dashboard.get(key):
            problems.append(f"{where}: no {key}")
    if not 36 <= dashboard.get("schemaVersion", 0) <= 41:
        problems.append(f"{where}: schemaVersion {dashboard.get('schemaVersion')} is not Grafana 10's")
    if dashboard.get("id") is not None:
        problems.append(f"{where}: a provisioned dashboard has no fixed id (set \"id\" to null)")
    for variable in dashboard.get("templating", {}).get("list", []):
        ref = variable.get("datasource")
        if ref is not None and datasource_uid(ref) not in ALLOWED_DATASOURCES:
            problems.append(f"{where}: variable {variable.get('name')}: datasource {ref!r}")
    ids = set()
    for panel in walk(dashboard.get("panels", [])):
        title = f"{where}: panel {panel.get('title')!r}"
        if panel.get("id") in ids or not isinstance(panel.get("id"), int):
            problems.append(f"{title}: id {panel.get('id')!r} missing or not unique")
        ids.add(panel.get("id"))
        grid = panel.get("gridPos", {})
        if not all(isinstance(grid.get(k), int) for k in "xywh") or grid["x"] + grid["w"] > 24:
            problems.append(f"{title}: gridPos {grid} outside the 24-column grid")
        if panel.get("type") == "row":
            continue
        for ref in [panel.get("datasource")] + [t.get("datasource") for t in panel.get("targets", [])]:
            if ref is not None and datasource_uid(ref) not in ALLOWED_DATASOURCES:
                problems.append(f"{title}: datasource {ref!r} is neither posflow-warehouse nor "
                                "${datasource}")
        if not panel.get("targets"):
            problems.append(f"{title}: no query")
        for target in panel.get("targets", []):
            if "expr" in target:
                check_names(title, target["expr"])
                for label in re.findall(r"\{\{\s*(\w+)\s*\}\}", target.get("legendFormat", "")):
                    if label not in all_labels:
                        problems.append(f"{title}: legend label {label!r} is not a label of the series")
                expressions.append((f"{title} {target.get('refId')}", target["expr"]))
            elif "rawSql" not in target:
                problems.append(f"{title}: a target with neither expr nor rawSql")

# promtool parses each query as a recording rule.
rules = ["groups:", "  - name: dashboards", "    rules:"]
for number, (where, expr) in enumerate(expressions):
    def value(match):
        name = match.group(1) or match.group(2)
        if name not in SAMPLE_VALUES:
            problems.append(f"{where}: unknown variable ${name}")
            return match.group(0)
        return SAMPLE_VALUES[name]
    promql = re.sub(r"\$\{(\w+)\}|\$(\w+)", value, expr)
    rules += [f"      - record: dashboard:query_{number}", f"        expr: {json.dumps(promql)}"]
(work / "dashboard-queries.yml").write_text("\n".join(rules) + "\n")
if expressions:
    checked = subprocess.run(["promtool", "check", "rules", str(work / "dashboard-queries.yml")],
                             capture_output=True, text=True)
    if checked.returncode != 0:
        listing = "\n".join(f"  query_{n}: {w}" for n, (w, _) in enumerate(expressions))
        problems.append("a dashboard's PromQL does not parse:\n" + checked.stdout + checked.stderr
                        + "queries:\n" + listing)
else:
    problems.append("no PromQL query found in the dashboards")

for problem in problems:
    print(f"FAIL  {problem}", file=sys.stderr)
print(f"ok    {len(alerts)} alerts with firing and silent cases; {len(expressions)} dashboard "
      f"queries parse; {len(dashboards)} dashboards checked" if not problems else "")
sys.exit(1 if problems else 0)
PY
echo "promtool_test: passed"
