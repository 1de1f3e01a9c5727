"""The operators against a stand-in posflow (a shell script): exit codes become task outcomes,
posflow's stderr reaches the task log, settings reach posflow, report files are replaced whole,
and a timed-out task leaves no posflow behind. No stack needed."""

from __future__ import annotations

import logging
import os
import signal
import stat
import time
from pathlib import Path

import pendulum
import pytest
from airflow.exceptions import AirflowException, AirflowFailException, AirflowSkipException

from posflow_airflow import runner
from posflow_airflow.operators import DataQualityOperator, PosflowOperator, PublishReportsOperator
from posflow_airflow.settings import load_settings

# The stand-in: prints FAKE_STDOUT, then FAKE_STDERR on stderr, records its arguments and
# environment, sleeps FAKE_SLEEP seconds, exits FAKE_EXIT. With FAKE_REPORT_FAIL set, `report`
# commands write half a report and fail.
FAKE_POSFLOW = r"""#!/usr/bin/env bash
echo "$$ $*" >>"$FAKE_CALLS"
echo "db=${POSFLOW_DB:-unset} topic=${POSFLOW_TOPIC:-unset}" >>"$FAKE_CALLS"
if [[ "$1" == report && -n "${FAKE_REPORT_FAIL:-}" ]]; then
  echo '[{"partial":'
  echo "posflow report: error: $FAKE_REPORT_FAIL" >&2
  exit 1
fi
if [[ "$1" == report && "$2" == low-stock ]]; then
  echo "${FAKE_LOW_STOCK:-[]}"
  exit 0
fi
if [[ "$1" == report ]]; then echo '[{"store_id":"S001","total":1.5}]'; exit 0; fi
[[ -n "${FAKE_STDOUT:-}" ]] && echo "$FAKE_STDOUT"
[[ -n "${FAKE_STDERR:-}" ]] && echo "$FAKE_STDERR" >&2
[[ -n "${FAKE_SLEEP:-}" ]] && sleep "$FAKE_SLEEP"
exit "${FAKE_EXIT:-0}"
"""


@pytest.fixture
def fake(tmp_path, monkeypatch) -> Path:
    script = tmp_path / "posflow"
    script.write_text(FAKE_POSFLOW)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    calls = tmp_path / "calls.log"
    monkeypatch.setenv("AIRFLOW_VAR_POSFLOW_BIN", str(script))
    monkeypatch.setenv("AIRFLOW_VAR_POSFLOW_REPORT_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("FAKE_CALLS", str(calls))
    for name in ("POSFLOW_DB", "POSFLOW_TOPIC", "POSFLOW_BROKERS", "POSFLOW_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return calls


CHECK_OK = '{"ok":true,"checks":[{"name":"facts","ok":true,"detail":""}]}'


def etl_operator() -> PosflowOperator:
    return PosflowOperator(
        task_id="etl", arguments=["etl", "--once", "--json", "--skip-exit-code", "99"]
    )


def test_success_returns_the_json_summary(fake, monkeypatch):
    monkeypatch.setenv("FAKE_STDOUT", '{"batches":1,"transactions":7}')
    assert etl_operator().execute({}) == {"batches": 1, "transactions": 7}


def test_nothing_to_do_skips_the_task(fake, monkeypatch):
    monkeypatch.setenv("FAKE_EXIT", "99")
    with pytest.raises(AirflowSkipException, match="exited 99 \\(nothing to do\\)"):
        etl_operator().execute({})


@pytest.mark.parametrize("code", [2, 3])
def test_usage_errors_and_differences_fail_without_retry(fake, monkeypatch, code):
    monkeypatch.setenv("FAKE_EXIT", str(code))
    with pytest.raises(AirflowFailException):
        etl_operator().execute({})


@pytest.mark.parametrize("code", [1, 4])
def test_run_time_failures_and_a_busy_lock_fail_to_be_retried(fake, monkeypatch, code):
    monkeypatch.setenv("FAKE_EXIT", str(code))
    with pytest.raises(AirflowException) as raised:
        etl_operator().execute({})
    assert not isinstance(raised.value, (AirflowFailException, AirflowSkipException))


def test_posflows_error_line_reaches_the_log_and_the_exception(fake, monkeypatch, caplog):
    message = "posflow etl: error: cannot connect to PostgreSQL at postgresql://127.0.0.1:1/x"
    monkeypatch.setenv("FAKE_STDERR", message)
    monkeypatch.setenv("FAKE_EXIT", "1")
    with caplog.at_level(logging.INFO), pytest.raises(AirflowException) as raised:
        etl_operator().execute({})
    assert message in str(raised.value)
    assert any(record.levelno == logging.ERROR and message in record.getMessage()
               for record in caplog.records)


def test_variables_win_over_the_environment_and_reach_posflow(fake, monkeypatch):
    monkeypatch.setenv("POSFLOW_DB", "postgresql://env-host/env")
    monkeypatch.setenv("POSFLOW_TOPIC", "FromEnvironment")
    monkeypatch.setenv("AIRFLOW_VAR_POSFLOW_DB", "postgresql://variable-host/variable")
    etl_operator().execute({})
    assert "db=postgresql://variable-host/variable topic=FromEnvironment" in fake.read_text()


def test_unset_connection_settings_leave_posflows_own_defaults(fake):
    etl_operator().execute({})
    assert "db=unset topic=unset" in fake.read_text()
    assert load_settings().timezone == "America/Toronto"


def test_a_missing_binary_fails_without_retry(fake, monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_VAR_POSFLOW_BIN", str(tmp_path / "no-such-posflow"))
    with pytest.raises(AirflowFailException, match="posflow_bin"):
        etl_operator().execute({})


def test_reports_are_written_for_the_given_day_with_an_index(fake, tmp_path):
    operator = PublishReportsOperator(task_id="publish_reports", report_date="2026-03-10")
    result = operator.execute({"run_id": "manual__test", "data_interval_end": pendulum.now("UTC")})
    folder = tmp_path / "reports" / "2026-03-10"
    assert result["folder"] == str(folder)
    assert len(result["files"]) == 14
    report = (folder / "sales-by-store.json").read_text().strip()
    assert report == '[{"store_id":"S001","total":1.5}]'
    calls = fake.read_text()
    assert "report sales-by-store --format csv --from 2026-03-10 --to 2026-03-10" in calls
    assert "report low-stock --format json" in calls
    assert '"run_id": "manual__test"' in (folder / "index.json").read_text()


def test_report_day_defaults_to_the_runs_date_in_the_stores_time_zone(fake, tmp_path):
    # 03:00 UTC on 2026-03-11 is still 2026-03-10 in Toronto.
    end = pendulum.datetime(2026, 3, 11, 3, 0, tz="UTC")
    result = PublishReportsOperator(task_id="publish_reports").execute(
        {"run_id": "r", "data_interval_end": end}
    )
    assert result["date"] == "2026-03-10"


def test_a_failing_report_leaves_the_previous_file_whole(fake, monkeypatch, tmp_path):
    folder = tmp_path / "reports" / "2026-03-10"
    folder.mkdir(parents=True)
    (folder / "sales-by-store.json").write_text("previous\n")
    monkeypatch.setenv("FAKE_REPORT_FAIL", "the database is gone")
    operator = PublishReportsOperator(task_id="publish_reports", report_date="2026-03-10")
    with pytest.raises(AirflowException, match="the database is gone"):
        operator.execute({"run_id": "r", "data_interval_end": pendulum.now("UTC")})
    assert (folder / "sales-by-store.json").read_text() == "previous\n"
    assert [path.name for path in folder.iterdir()] == ["sales-by-store.json"]


def test_data_quality_names_oversold_items_and_does_not_retry(fake, monkeypatch):
    monkeypatch.setenv("FAKE_STDOUT", CHECK_OK)
    monkeypatch.setenv(
        "FAKE_LOW_STOCK",
        '[{"store_id":"S001","store":"A","product_id":"P0001","product":"Bananas","quantity":-3,'
        '"reorder_point":5,"shortfall":8,"status":"oversold"},'
        '{"store_id":"S002","store":"B","product_id":"P0002","product":"Tea","quantity":0,'
        '"reorder_point":5,"shortfall":5,"status":"out"}]',
    )
    with pytest.raises(AirflowFailException, match=r"1 oversold items: S001/P0001 \(-3\)$"):
        DataQualityOperator(task_id="data_quality").execute({})


def test_data_quality_names_the_checks_that_differ(fake, monkeypatch):
    monkeypatch.setenv(
        "FAKE_STDOUT",
        '{"ok":false,"checks":[{"name":"facts","ok":false,"detail":"x"},'
        '{"name":"inventory","ok":false,"detail":"y"},{"name":"staging","ok":true,"detail":""}]}',
    )
    monkeypatch.setenv("FAKE_EXIT", "3")
    with pytest.raises(AirflowFailException, match="difference in facts, inventory"):
        DataQualityOperator(task_id="data_quality").execute({})


def test_data_quality_passes_a_clean_warehouse(fake, monkeypatch):
    monkeypatch.setenv("FAKE_STDOUT", CHECK_OK)
    assert DataQualityOperator(task_id="data_quality").execute({})["oversold"] == 0


def test_a_timed_out_task_stops_posflow(fake, monkeypatch):
    # Airflow's execution_timeout raises in the task's thread from a SIGALRM handler; do the same.
    monkeypatch.setenv("FAKE_SLEEP", "60")
    monkeypatch.setattr(runner, "_STOP_GRACE_SECONDS", 5)

    class Timeout(Exception):
        pass

    def on_alarm(signum, frame):
        raise Timeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(1)
    started = time.monotonic()
    try:
        with pytest.raises(Timeout):
            etl_operator().execute({})
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 10
    pid = int(fake.read_text().split()[0])
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
