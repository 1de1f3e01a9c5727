"""Where posflow is and what it talks to, resolved when a task runs.

Each setting comes from the Airflow Variable ``posflow_<name>`` if it is set, else from the
environment variable named below, else from the default. The defaults point at the local stack
(``scripts/stack``): posflow's own defaults are PostgreSQL ``postgresql://127.0.0.1:5432/posflow``,
Kafka ``127.0.0.1:9092`` and topic ``PointOfSale``, so the connection settings are passed to
posflow only when they are set; a YAML file (``posflow_config``) can hold them instead.

No secret belongs in a Variable or a DAG file: give the database password to posflow through
``PGPASSWORD``/``PG_PASSWORD`` in the worker's environment or ``~/.pgpass``, and Kafka SASL
credentials through the YAML file (posflow masks both in every message).

Parse-time settings (read when the scheduler parses the DAG files, from the environment only,
since reading Variables there would query the metadata database at every parse):
schedules, retries and the first retry delay; see ``dag_settings``.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from datetime import timedelta

# name: (environment variable, default). None: not set, posflow's own default applies.
_RUN_TIME = {
    "bin": ("POSFLOW_BIN", "posflow"),
    "db": ("POSFLOW_DB", None),
    "brokers": ("POSFLOW_BROKERS", None),
    "topic": ("POSFLOW_TOPIC", None),
    "config": ("POSFLOW_CONFIG", None),
    "report_dir": ("POSFLOW_REPORT_DIR", None),  # default: $AIRFLOW_HOME/posflow-reports
    "timezone": ("POSFLOW_TIMEZONE", "America/Toronto"),
    "check_kafka": ("POSFLOW_CHECK_KAFKA", "true"),
    "months_ahead": ("POSFLOW_MONTHS_AHEAD", "3"),
    "staging_retention_hours": ("POSFLOW_STAGING_RETENTION_HOURS", "168"),
    "dead_letter_retention_days": ("POSFLOW_DEAD_LETTER_RETENTION_DAYS", "90"),
}

# posflow's environment variable for each connection setting passed through.
_POSFLOW_ENV = {
    "db": "POSFLOW_DB",
    "brokers": "POSFLOW_BROKERS",
    "topic": "POSFLOW_TOPIC",
    "config": "POSFLOW_CONFIG",
}


class SettingsError(ValueError):
    """A setting has a value posflow's tasks cannot use."""


@dataclasses.dataclass(frozen=True)
class PosflowSettings:
    """The run-time settings of posflow's tasks (see the module docstring for their sources)."""

    bin: str
    db: str | None
    brokers: str | None
    topic: str | None
    config: str | None
    report_dir: str
    timezone: str
    check_kafka: bool
    months_ahead: int
    staging_retention_hours: int
    dead_letter_retention_days: int

    def child_environment(self) -> dict[str, str]:
        """The environment of a posflow process: the worker's, with the set connection settings."""
        environment = dict(os.environ)
        for name, variable in _POSFLOW_ENV.items():
            value = getattr(self, name)
            if value:
                environment[variable] = value
        return environment


def _variable(name: str) -> str | None:
    # Imported here so that the module can be imported (and unit-tested) cheaply.
    from airflow.models import Variable

    return Variable.get(f"posflow_{name}", default_var=None)


def _integer(name: str, text: str, lowest: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"posflow_{name} must be a whole number, got {text!r}") from None
    if value < lowest:
        raise SettingsError(f"posflow_{name} must be at least {lowest}, got {value}")
    return value


def load_settings() -> PosflowSettings:
    """Resolves every run-time setting: Variable, then environment, then default."""
    values: dict[str, str | None] = {}
    for name, (variable, default) in _RUN_TIME.items():
        value = _variable(name)
        if value is None or value == "":
            value = os.environ.get(variable) or default
        values[name] = value
    binary = values["bin"] or "posflow"
    resolved = shutil.which(binary)
    if resolved is None:
        raise SettingsError(
            f"the posflow binary {binary!r} was not found or is not executable: set the Airflow "
            "Variable posflow_bin (or POSFLOW_BIN) to its path"
        )
    report_dir = values["report_dir"] or os.path.join(
        os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow")), "posflow-reports"
    )
    check_kafka = (values["check_kafka"] or "true").strip().lower()
    if check_kafka not in ("true", "false"):
        raise SettingsError(f"posflow_check_kafka must be true or false, got {check_kafka!r}")
    return PosflowSettings(
        bin=resolved,
        db=values["db"],
        brokers=values["brokers"],
        topic=values["topic"],
        config=values["config"],
        report_dir=report_dir,
        timezone=values["timezone"] or "America/Toronto",
        check_kafka=check_kafka == "true",
        months_ahead=_integer("months_ahead", values["months_ahead"] or "3", 0),
        staging_retention_hours=_integer(
            "staging_retention_hours", values["staging_retention_hours"] or "168", 0
        ),
        dead_letter_retention_days=_integer(
            "dead_letter_retention_days", values["dead_letter_retention_days"] or "90", 0
        ),
    )


@dataclasses.dataclass(frozen=True)
class DagSettings:
    """Parse-time settings, from the environment only."""

    batch_schedule: str
    maintenance_schedule: str
    retries: int
    retry_delay: timedelta
    max_retry_delay: timedelta

    def default_args(self) -> dict:
        """Every posflow task's retry policy: exponential backoff up to max_retry_delay."""
        return {
            "owner": "posflow",
            "retries": self.retries,
            "retry_delay": self.retry_delay,
            "retry_exponential_backoff": True,
            "max_retry_delay": self.max_retry_delay,
        }


def dag_settings() -> DagSettings:
    """Schedules and retry policy.

    POSFLOW_AIRFLOW_BATCH_SCHEDULE (cron, default every 5 minutes),
    POSFLOW_AIRFLOW_MAINTENANCE_SCHEDULE (cron, default 02:30 UTC daily),
    POSFLOW_AIRFLOW_RETRIES (default 3), POSFLOW_AIRFLOW_RETRY_DELAY_SECONDS (the first retry's
    delay, doubled for each later one up to 10 minutes; default 30).
    """
    retries = _integer("airflow_retries", os.environ.get("POSFLOW_AIRFLOW_RETRIES", "3"), 0)
    delay = _integer(
        "airflow_retry_delay_seconds",
        os.environ.get("POSFLOW_AIRFLOW_RETRY_DELAY_SECONDS", "30"),
        1,
    )
    return DagSettings(
        batch_schedule=os.environ.get("POSFLOW_AIRFLOW_BATCH_SCHEDULE", "*/5 * * * *"),
        maintenance_schedule=os.environ.get("POSFLOW_AIRFLOW_MAINTENANCE_SCHEDULE", "30 2 * * *"),
        retries=retries,
        retry_delay=timedelta(seconds=delay),
        max_retry_delay=timedelta(minutes=10),
    )
