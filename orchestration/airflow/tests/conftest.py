"""Fixtures of the posflow DAG tests.

They run under ``scripts/airflow test``, which provides a fresh AIRFLOW_HOME (migrated sqlite),
the DAG folder, the venv's ``airflow`` first on PATH and POSFLOW_BIN. The end-to-end tests use
the real local stack (``scripts/stack up``): each gets its own PostgreSQL database, Kafka topic
and consumer group, dropped (the database) at the end. Every subprocess has a timeout.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import subprocess
import sys
import tempfile
import urllib.parse
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

ORCHESTRATION = Path(__file__).resolve().parents[1]
DAGS = ORCHESTRATION / "dags"
sys.path.insert(0, str(DAGS))  # posflow_airflow, as the DAG folder is for Airflow

ADMIN_URL = os.environ.get("POSFLOW_TEST_PG", "postgresql://127.0.0.1:5432/postgres")
BROKERS = os.environ.get("POSFLOW_TEST_BROKERS", "127.0.0.1:9092")

# Logical dates of the DAG runs: distinct for every run of the session, whichever test makes it.
_RUN_HOURS = itertools.count()


def next_logical_date() -> str:
    when = datetime(2026, 1, 1, 10, tzinfo=timezone.utc) + timedelta(hours=next(_RUN_HOURS))
    return when.isoformat()


def posflow_bin() -> str:
    binary = os.environ.get("POSFLOW_BIN", "")
    if not binary or not os.access(binary, os.X_OK):
        pytest.fail("POSFLOW_BIN names no posflow binary (run the tests by scripts/airflow test)")
    return binary


def unique(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


def with_database(url: str, database: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + database))


def psql(url: str, sql: str) -> str:
    """One statement's rows, cells joined by '|', rows by newlines."""
    done = subprocess.run(
        ["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, f"psql failed: {sql}\n{done.stderr}"
    return done.stdout.strip()


def posflow(*arguments: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [posflow_bin(), *arguments], capture_output=True, text=True, timeout=timeout, check=False
    )


@dataclasses.dataclass
class Warehouse:
    """A posflow database of its own with its own topic, on the local stack."""

    url: str
    database: str
    topic: str
    group: str
    work_dir: Path

    def sql(self, statement: str) -> str:
        return psql(self.url, statement)

    def stage(self, name: str, *produce_arguments: str) -> dict:
        """Produces into the topic, ingests until idle; returns the producer's manifest."""
        manifest = self.work_dir / f"{name}.json"
        produced = posflow(
            "produce", "--brokers", BROKERS, "--topic", self.topic, "--manifest", str(manifest),
            *produce_arguments,
        )
        assert produced.returncode == 0, produced.stderr
        ingested = posflow(
            "ingest", "--exit-when-idle", "2", "--metrics-addr", "off", "--brokers", BROKERS,
            "--topic", self.topic, "--group", self.group, "--db", self.url, timeout=600,
        )
        assert ingested.returncode == 0, ingested.stdout + ingested.stderr
        return json.loads(manifest.read_text())

    def variables(self, **overrides: str) -> dict[str, str]:
        """The DAGs' Airflow Variables for this warehouse, as AIRFLOW_VAR_* environment."""
        values = {
            "posflow_db": self.url,
            "posflow_brokers": BROKERS,
            "posflow_topic": self.topic,
            "posflow_report_dir": str(self.work_dir / "reports"),
        }
        values.update(overrides)
        return {f"AIRFLOW_VAR_{key.upper()}": value for key, value in values.items()}


@pytest.fixture
def warehouse() -> Iterator[Warehouse]:
    database = unique("airflow_test")
    topic = unique("AirflowTest")
    url = with_database(ADMIN_URL, database)
    with tempfile.TemporaryDirectory(prefix="posflow_airflow_") as work_dir:
        initialised = posflow("init", "--db", url, "--topic", topic, "--brokers", BROKERS)
        try:
            assert initialised.returncode == 0, initialised.stdout + initialised.stderr
            yield Warehouse(url, database, topic, unique("airflow_group"), Path(work_dir))
        finally:
            psql(ADMIN_URL, f'drop database if exists "{database}" with (force)')


@dataclasses.dataclass
class DagRun:
    dag_id: str
    run_id: str
    returncode: int
    output: str

    def task_states(self) -> dict[str, str]:
        listed = airflow("tasks", "states-for-dag-run", self.dag_id, self.run_id, "-o", "json")
        assert listed.returncode == 0, listed.stdout
        return {row["task_id"]: row["state"] for row in json.loads(_json_part(listed.stdout))}

    def log_files(self, task_id: str) -> list[Path]:
        folder = (
            Path(os.environ["AIRFLOW_HOME"]) / "logs" / f"dag_id={self.dag_id}"
            / f"run_id={self.run_id}" / f"task_id={task_id}"
        )
        return sorted(folder.glob("attempt=*.log"))

    def log(self, task_id: str) -> str:
        return "\n".join(path.read_text() for path in self.log_files(task_id))


def _json_part(text: str) -> str:
    # The CLI may print warnings before its JSON.
    return text[text.index("[") :] if "[" in text else text


def airflow(*arguments: str, environment: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(environment or {})
    return subprocess.run(
        ["airflow", *arguments], capture_output=True, text=True, timeout=timeout, env=env,
        check=False,
    )


def run_dag(dag_id: str, variables: dict[str, str], *, logical_date: str | None = None,
            conf: dict | None = None, use_executor: bool = True, retries: int = 1) -> DagRun:
    """``airflow dags test``: one run of the DAG, its tasks run by the SequentialExecutor as
    separate ``airflow tasks run`` processes writing task log files (as under a scheduler), or
    in process. Retries are cut to ``retries`` with a 1 s first delay to keep failures quick."""
    logical_date = logical_date or next_logical_date()
    arguments = ["dags", "test", dag_id, logical_date]
    if conf is not None:
        arguments += ["-c", json.dumps(conf)]
    if use_executor:
        arguments.append("--use-executor")
    environment = dict(variables)
    environment.update(
        {"POSFLOW_AIRFLOW_RETRIES": str(retries), "POSFLOW_AIRFLOW_RETRY_DELAY_SECONDS": "1"}
    )
    done = airflow(*arguments, environment=environment, timeout=600)
    return DagRun(dag_id, f"manual__{logical_date}", done.returncode, done.stdout + done.stderr)
