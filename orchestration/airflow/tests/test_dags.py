"""The DAGs as the scheduler sees them: they import, and each has the shape, schedule, retries
and timeouts it promises (no stack needed)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from airflow.models import DagBag
from airflow.utils.trigger_rule import TriggerRule
from conftest import DAGS

from posflow_airflow.operators import DataQualityOperator, PosflowOperator, PublishReportsOperator
from posflow_airflow.settings import PosflowSettings


@pytest.fixture(scope="module")
def dagbag(monkeypatch_module) -> DagBag:
    return DagBag(dag_folder=str(DAGS), include_examples=False)


@pytest.fixture(scope="module")
def monkeypatch_module():
    # The defaults are what is asserted: no schedule or retry override from the environment.
    with pytest.MonkeyPatch.context() as patch:
        for name in ("POSFLOW_AIRFLOW_BATCH_SCHEDULE", "POSFLOW_AIRFLOW_MAINTENANCE_SCHEDULE",
                     "POSFLOW_AIRFLOW_RETRIES", "POSFLOW_AIRFLOW_RETRY_DELAY_SECONDS"):
            patch.delenv(name, raising=False)
        yield patch


def test_every_dag_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert sorted(dagbag.dag_ids) == ["posflow_batch", "posflow_maintenance"]


def edges(dag) -> set[tuple[str, str]]:
    return {
        (task.task_id, downstream) for task in dag.tasks for downstream in task.downstream_task_ids
    }


def assert_robust_defaults(dag) -> None:
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    assert dag.dagrun_timeout is not None
    assert dag.tags == ["posflow"]
    for task in dag.tasks:
        assert task.retries == 3, task.task_id
        assert task.retry_delay == timedelta(seconds=30), task.task_id
        assert task.retry_exponential_backoff is True, task.task_id
        assert task.max_retry_delay == timedelta(minutes=10), task.task_id
        assert task.execution_timeout is not None, task.task_id
        assert task.execution_timeout <= dag.dagrun_timeout, task.task_id
        assert task.owner == "posflow"


def test_batch_dag_runs_etl_then_check_then_publish_every_five_minutes(dagbag):
    dag = dagbag.get_dag("posflow_batch")
    assert dag.schedule_interval == "*/5 * * * *"
    assert [task.task_id for task in dag.topological_sort()] == ["etl", "check", "publish_reports"]
    assert edges(dag) == {("etl", "check"), ("check", "publish_reports")}
    assert_robust_defaults(dag)

    etl = dag.get_task("etl")
    assert isinstance(etl, PosflowOperator)
    assert etl.arguments == ["etl", "--once", "--json", "--skip-exit-code", "99"]
    assert etl.skip_exit_codes == (99,)
    assert etl.execution_timeout == timedelta(minutes=20)

    check = dag.get_task("check")
    assert isinstance(check, PosflowOperator)
    assert check.arguments == ["check", "--json"]
    # A skipped etl (nothing staged) still gets its check.
    assert check.trigger_rule == TriggerRule.NONE_FAILED

    publish = dag.get_task("publish_reports")
    assert isinstance(publish, PublishReportsOperator)
    assert publish.trigger_rule == TriggerRule.ALL_SUCCESS
    assert "report_date" in dag.params


def test_maintenance_dag_runs_maintain_then_data_quality_daily(dagbag):
    dag = dagbag.get_dag("posflow_maintenance")
    assert dag.schedule_interval == "30 2 * * *"
    assert [task.task_id for task in dag.topological_sort()] == ["maintain", "data_quality"]
    assert edges(dag) == {("maintain", "data_quality")}
    assert_robust_defaults(dag)

    maintain = dag.get_task("maintain")
    assert isinstance(maintain, PosflowOperator)
    assert maintain.arguments == ["maintain", "--json"]
    assert maintain.skip_exit_codes == ()
    settings = PosflowSettings(
        bin="/bin/true", db=None, brokers=None, topic=None, config=None, report_dir="/tmp",
        timezone="UTC", check_kafka=True, months_ahead=4, staging_retention_hours=24,
        dead_letter_retention_days=30,
    )
    assert maintain.settings_arguments(settings) == [
        "--months-ahead", "4", "--staging-retention-hours", "24",
        "--dead-letter-retention-days", "30",
    ]

    quality = dag.get_task("data_quality")
    assert isinstance(quality, DataQualityOperator)
    # Runs even when maintain failed: a broken upkeep must not hide the warehouse's state.
    assert quality.trigger_rule == TriggerRule.ALL_DONE


def test_schedules_and_retries_follow_the_environment(monkeypatch):
    monkeypatch.setenv("POSFLOW_AIRFLOW_BATCH_SCHEDULE", "*/15 * * * *")
    monkeypatch.setenv("POSFLOW_AIRFLOW_RETRIES", "5")
    monkeypatch.setenv("POSFLOW_AIRFLOW_RETRY_DELAY_SECONDS", "7")
    dag = DagBag(dag_folder=str(DAGS / "posflow_batch.py"), include_examples=False).get_dag(
        "posflow_batch"
    )
    assert dag.schedule_interval == "*/15 * * * *"
    assert {task.retries for task in dag.tasks} == {5}
    assert {task.retry_delay for task in dag.tasks} == {timedelta(seconds=7)}
