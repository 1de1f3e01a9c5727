"""posflow_maintenance: the daily upkeep and a loud data-quality gate.

    maintain ──► data_quality

- maintain: ``posflow maintain --json``: the coming months' fact partitions and calendar days
  (posflow_months_ahead, default 3), purge of kept staging rows past
  posflow_staging_retention_hours (default 168) and of dead-letter payloads past
  posflow_dead_letter_retention_days (default 90; the dead letters stay, their bytes go),
  VACUUM ANALYZE of the warehouse. Retried when the database is down or another maintain runs.
- data_quality: fails at once, without retries, when ``posflow check`` finds a difference or the
  low-stock report lists oversold items, naming them; runs even when maintain failed (trigger
  rule all_done), so a broken maintenance never hides the warehouse's state.

Configuration: as posflow_batch (posflow_airflow/settings.py).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.utils.trigger_rule import TriggerRule

from posflow_airflow.operators import DataQualityOperator, PosflowOperator
from posflow_airflow.settings import PosflowSettings, dag_settings

SETTINGS = dag_settings()


def maintain_flags(settings: PosflowSettings) -> list[str]:
    return [
        "--months-ahead", str(settings.months_ahead),
        "--staging-retention-hours", str(settings.staging_retention_hours),
        "--dead-letter-retention-days", str(settings.dead_letter_retention_days),
    ]


with DAG(
    dag_id="posflow_maintenance",
    description="posflow maintain (partitions, retention, statistics) and a data-quality gate",
    doc_md=__doc__,
    schedule=SETTINGS.maintenance_schedule,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=2),
    default_args=SETTINGS.default_args(),
    tags=["posflow"],
) as dag:
    maintain = PosflowOperator(
        task_id="maintain",
        arguments=["maintain", "--json"],
        settings_arguments=maintain_flags,
        skip_exit_codes=(),
        execution_timeout=timedelta(minutes=60),
        doc_md="Partitions and calendar ahead, staging and dead-letter retention, statistics.",
    )
    data_quality = DataQualityOperator(
        task_id="data_quality",
        trigger_rule=TriggerRule.ALL_DONE,
        execution_timeout=timedelta(minutes=20),
        doc_md="Fails loudly on a check difference or an oversold item.",
    )

    maintain >> data_quality
