"""Airflow operators that run posflow and turn its exit codes into task outcomes.

posflow's exit codes (``posflow --help``) map to:
  0                      success (a JSON summary on stdout becomes the task's XCom value)
  99 (--skip-exit-code)  skipped: nothing to do
  2 usage, 3 difference  failed at once, no retry: running it again cannot change the answer
  1 failure, 4 busy      failed and retried with exponential backoff (database down, another
                         ETL or maintain holding the lock)
Every line posflow writes on stderr, its one-line errors included, is copied to the task log.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

from airflow.exceptions import AirflowException, AirflowFailException, AirflowSkipException
from airflow.models import BaseOperator

from posflow_airflow.runner import (
    EXIT_DIFFERENCE,
    EXIT_NOTHING_TO_DO,
    EXIT_OK,
    EXIT_USAGE,
    PosflowResult,
    run_posflow,
)
from posflow_airflow.settings import PosflowSettings, SettingsError, load_settings

# The reports `publish_reports` writes, and whether each takes a date range (low-stock is the
# inventory as it is now).
DAY_REPORTS = (
    ("sales-by-store", True),
    ("sales-by-day", True),
    ("top-products", True),
    ("hourly", True),
    ("basket", True),
    ("payment-mix", True),
    ("low-stock", False),
)
REPORT_FORMATS = ("json", "csv")

# At most this many oversold items are named in a data-quality failure (all are in the log).
_OVERSOLD_NAMED = 10


def _settings() -> PosflowSettings:
    try:
        return load_settings()
    except SettingsError as error:
        # A configuration mistake: retrying cannot fix it.
        raise AirflowFailException(f"posflow settings: {error}") from error


def _raise_for(result: PosflowResult, command: str, skip_exit_codes: Sequence[int] = ()) -> None:
    """Raises the exception that gives `result` its task outcome (nothing for exit code 0)."""
    if result.exit_code == EXIT_OK:
        return
    message = result.describe(command)
    if result.exit_code in skip_exit_codes:
        raise AirflowSkipException(message)
    if result.exit_code in (EXIT_USAGE, EXIT_DIFFERENCE):
        raise AirflowFailException(message)
    raise AirflowException(message)


def _last_json_line(text: str) -> Any:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    try:
        return json.loads(lines[-1])
    except ValueError:
        return None


class PosflowOperator(BaseOperator):
    """Runs one posflow command.

    :param arguments: the command and its flags, e.g. ``["etl", "--once", "--json"]``
        (templated). The connection settings come from the environment (``settings.py``).
    :param settings_arguments: optional; returns more flags from the run-time settings (e.g. the
        retention Variables), appended to ``arguments``.
    :param skip_exit_codes: exit codes that mark the task skipped (default: 99, "nothing to do").
    """

    template_fields: Sequence[str] = ("arguments",)
    ui_color = "#e3eefa"

    def __init__(
        self,
        *,
        arguments: Sequence[str],
        settings_arguments: Callable[[PosflowSettings], list[str]] | None = None,
        skip_exit_codes: Sequence[int] = (EXIT_NOTHING_TO_DO,),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.arguments = list(arguments)
        self.settings_arguments = settings_arguments
        self.skip_exit_codes = tuple(skip_exit_codes)

    def execute(self, context: Any) -> Any:
        settings = _settings()
        arguments = list(self.arguments)
        if self.settings_arguments is not None:
            arguments += self.settings_arguments(settings)
        result = run_posflow(settings, arguments, self.log)
        _raise_for(result, arguments[0], self.skip_exit_codes)
        return _last_json_line(result.stdout)


class PublishReportsOperator(BaseOperator):
    """Writes the day's reports as files: ``<report_dir>/<date>/<report>.<format>`` for every
    report of DAY_REPORTS in JSON and CSV, each replaced atomically, then ``index.json`` naming
    them with their row counts.

    :param report_date: the store-local sale date, YYYY-MM-DD (templated); empty: the run's
        data_interval_end as a date in the ``posflow_timezone`` (default America/Toronto).
    """

    template_fields: Sequence[str] = ("report_date",)
    ui_color = "#e6f4e1"

    def __init__(self, *, report_date: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.report_date = report_date

    def execute(self, context: Any) -> dict[str, Any]:
        settings = _settings()
        day = (self.report_date or "").strip()
        if not day:
            day = context["data_interval_end"].in_timezone(settings.timezone).to_date_string()
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
            raise AirflowFailException(f"report date must be YYYY-MM-DD, got {day!r}")
        folder = os.path.join(settings.report_dir, day)
        files: dict[str, dict[str, Any]] = {}
        for report, dated in DAY_REPORTS:
            for format_name in REPORT_FORMATS:
                arguments = ["report", report, "--format", format_name]
                if dated:
                    arguments += ["--from", day, "--to", day]
                path = os.path.join(folder, f"{report}.{format_name}")
                result = run_posflow(settings, arguments, self.log, stdout_path=path)
                _raise_for(result, "report " + report)
                entry = {"file": os.path.basename(path), "bytes": os.path.getsize(path)}
                if format_name == "json":
                    with open(path, encoding="utf-8") as opened:
                        entry["rows"] = len(json.load(opened))
                files[f"{report}.{format_name}"] = entry
        index = {
            "date": day,
            "run_id": context["run_id"],
            "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "files": files,
        }
        _write_atomically(os.path.join(folder, "index.json"), json.dumps(index, indent=2) + "\n")
        self.log.info("published %d report files for %s in %s", len(files), day, folder)
        return {"date": day, "folder": folder, "files": sorted(files)}


class DataQualityOperator(BaseOperator):
    """Fails loudly, without retrying, when ``posflow check`` finds a difference or the low-stock
    report lists oversold items (on-hand below zero: sales recorded that the shelf could not
    have held). A database that cannot be reached fails the task with retries, as usual."""

    ui_color = "#fbe3e3"

    def execute(self, context: Any) -> dict[str, Any]:
        settings = _settings()
        check_arguments = ["check", "--json"] + ([] if settings.check_kafka else ["--no-kafka"])
        check = run_posflow(settings, check_arguments, self.log)
        if check.exit_code not in (EXIT_OK, EXIT_DIFFERENCE):
            _raise_for(check, "check")
        verdict = _last_json_line(check.stdout) or {}
        differences = [item for item in verdict.get("checks", []) if not item.get("ok")]

        low_stock = run_posflow(
            settings, ["report", "low-stock", "--format", "json"], self.log, log_stdout=False
        )
        _raise_for(low_stock, "report low-stock")
        rows = json.loads(low_stock.stdout or "[]")
        oversold = [row for row in rows if row["status"] == "oversold"]

        for item in differences:
            self.log.error("check difference: %s: %s", item.get("name"), item.get("detail"))
        for row in oversold:
            self.log.error(
                "oversold: store %s (%s) product %s (%s): on hand %s",
                row["store_id"], row.get("store"), row["product_id"], row.get("product"),
                row["quantity"],
            )
        if differences or oversold:
            problems = []
            if differences:
                names = ", ".join(str(item.get("name")) for item in differences)
                problems.append(f"posflow check found a difference in {names}")
            if oversold:
                named = ", ".join(
                    f"{row['store_id']}/{row['product_id']} ({row['quantity']})"
                    for row in oversold[:_OVERSOLD_NAMED]
                )
                more = len(oversold) - _OVERSOLD_NAMED
                problems.append(
                    f"{len(oversold)} oversold items: {named}"
                    + (f" and {more} more" if more > 0 else "")
                )
            raise AirflowFailException("data quality: " + "; ".join(problems))
        self.log.info(
            "data quality: %d checks agree, no oversold item", len(verdict.get("checks", []))
        )
        return {"checks": len(verdict.get("checks", [])), "differences": 0, "oversold": 0}


def _write_atomically(path: str, text: str) -> None:
    folder = os.path.dirname(path)
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".index.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as opened:
            opened.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
