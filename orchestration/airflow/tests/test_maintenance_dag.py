"""posflow_maintenance run for real: ``airflow dags test`` against the local stack."""

from __future__ import annotations

from conftest import posflow, run_dag

SALES = ("--start-date", "2026-03-10", "--days", "2", "--bad-ratio", "0.1")


def load(warehouse, *extra: str) -> None:
    done = posflow("etl", "--once", "--db", warehouse.url, *extra)
    assert done.returncode == 0, done.stdout + done.stderr


def test_maintenance_purges_past_the_retentions_and_passes_a_clean_warehouse(warehouse):
    warehouse.stage("sales", "--count", "600", "--seed", "51", *SALES)
    load(warehouse, "--staging-retention-hours", "48")
    kept = int(warehouse.sql("select count(*) from staging.pos_transaction_loaded"))
    letters = int(warehouse.sql("select count(*) from ops.dead_letter"))
    assert kept > 0 and letters > 1
    # Everything kept was loaded long ago; all dead letters but the newest are 40 days old.
    warehouse.sql(
        "update staging.pos_transaction_loaded set loaded_at = now() - interval '200 hours'; "
        "update staging.pos_line_loaded set loaded_at = now() - interval '200 hours'; "
        "update ops.dead_letter set first_seen_at = now() - interval '40 days' "
        "where dead_letter_id < (select max(dead_letter_id) from ops.dead_letter)"
    )

    run = run_dag(
        "posflow_maintenance", warehouse.variables(posflow_dead_letter_retention_days="30")
    )
    assert run.returncode == 0, run.output[-5000:]
    assert run.task_states() == {"maintain": "success", "data_quality": "success"}
    maintain_log = run.log("maintain")
    assert (
        "running: posflow maintain --json --months-ahead 3 --staging-retention-hours 168 "
        "--dead-letter-retention-days 30" in maintain_log
    )
    assert f'"staging_transactions_purged":{kept}' in maintain_log
    assert f'"dead_letters_purged":{letters - 1}' in maintain_log
    assert warehouse.sql("select count(*) from staging.pos_transaction_loaded") == "0"
    # The dead letters stay (check accounts for their offsets); only their bytes went.
    assert warehouse.sql(
        "select count(*), count(payload_purged_at), sum(octet_length(payload)) = 0 "
        "from ops.dead_letter "
        "where dead_letter_id < (select max(dead_letter_id) from ops.dead_letter)"
    ) == f"{letters - 1}|{letters - 1}|t"
    assert "no oversold item" in run.log("data_quality")


def test_data_quality_fails_at_once_naming_oversold_items_and_check_differences(warehouse):
    warehouse.stage("sales", "--count", "300", "--seed", "52", *SALES)
    load(warehouse)
    adjusted = posflow(
        "inventory", "adjust", "--store", "S001", "--product", "P0001", "--quantity-change",
        "-1000000", "--note", "test: oversold", "--db", warehouse.url,
    )
    assert adjusted.returncode == 0, adjusted.stdout + adjusted.stderr
    warehouse.sql(
        "update dw.fact_sales_line set tax_share = tax_share + 0.01 where (transaction_id, "
        "line_number) = (select transaction_id, line_number from dw.fact_sales_line limit 1)"
    )

    run = run_dag("posflow_maintenance", warehouse.variables())
    assert run.returncode != 0
    assert run.task_states() == {"maintain": "success", "data_quality": "failed"}
    # Failed without using its retry: running again cannot change the answer.
    assert [path.name for path in run.log_files("data_quality")] == ["attempt=1.log"]
    text = run.log("data_quality")
    assert "posflow check found a difference in facts" in text, text[-3000:]
    assert "oversold items: S001/P0001 (" in text
    assert "oversold: store S001" in text
