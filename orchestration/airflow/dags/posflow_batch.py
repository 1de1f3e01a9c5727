"""posflow_batch: the batch path, every few minutes.

    etl ──► check ──► publish_reports

- etl: ``posflow etl --once --json --skip-exit-code 99`` loads everything staged into the
  warehouse and the inventory; skipped when staging was empty, retried when the database is down
  or another ETL holds the lock (exit 4). One ETL per database is posflow's own rule (an
  advisory lock), max_active_runs=1 is this DAG's.
- check: ``posflow check --json`` reconciles Kafka offsets, staging, facts, aggregates and
  inventory; runs after a skipped etl too (trigger rule none_failed); a difference fails it
  at once, without retries.
- publish_reports: the day's reports as JSON and CSV files in ``<posflow_report_dir>/<date>/``.
  The day is the ``report_date`` param when given (``airflow dags trigger -c
  '{"report_date": "2026-03-10"}'``), else the run's data_interval_end in ``posflow_timezone``.

Configuration: Airflow Variables posflow_bin, posflow_db, posflow_brokers, posflow_topic,
posflow_config, posflow_report_dir, posflow_timezone, posflow_check_kafka (or the POSFLOW_*
environment variables); schedule and retries from POSFLOW_AIRFLOW_* (posflow_airflow/settings.py).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.models.param import Param
from airflow.utils.trigger_rule import TriggerRule

from posflow_airflow.operators import PosflowOperator, PublishReportsOperator
from posflow_airflow.runner import EXIT_NOTHING_TO_DO
from posflow_airflow.settings import dag_settings

SETTINGS = dag_settings()

with DAG(
    dag_id="posflow_batch",
    description="posflow etl --once, check, and the day's reports as files",
    doc_md=__doc__,
    schedule=SETTINGS.batch_schedule,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=60),
    default_args=SETTINGS.default_args(),
    params={
        "report_date": Param(
            None,
            type=["null", "string"],
            description="store-local sale date of the published reports, YYYY-MM-DD; "
            "empty: the run's date in posflow_timezone",
        ),
    },
    tags=["posflow"],
) as dag:
    etl = PosflowOperator(
        task_id="etl",
        arguments=["etl", "--once", "--json", "--skip-exit-code", str(EXIT_NOTHING_TO_DO)],
        skip_exit_codes=(EXIT_NOTHING_TO_DO,),
        execution_timeout=timedelta(minutes=20),
        doc_md="Staging → warehouse + inventory, one transaction per batch. "
        "Skipped when nothing was staged.",
    )
    check = PosflowOperator(
        task_id="check",
        arguments=["check", "--json"],
        settings_arguments=lambda settings: [] if settings.check_kafka else ["--no-kafka"],
        trigger_rule=TriggerRule.NONE_FAILED,
        execution_timeout=timedelta(minutes=10),
        doc_md="Every stage reconciled against the others; a difference fails without retries.",
    )
    publish_reports = PublishReportsOperator(
        task_id="publish_reports",
        report_date="{{ params.report_date or '' }}",
        execution_timeout=timedelta(minutes=10),
        doc_md="The day's reports as JSON and CSV files, replaced atomically.",
    )

    etl >> check >> publish_reports
