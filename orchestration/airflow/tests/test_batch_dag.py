"""posflow_batch run for real: ``airflow dags test`` against the local stack, its tasks run by
Airflow's executor as separate processes, reading sales that posflow produced into Kafka and
ingested into staging."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import time
from decimal import Decimal

from conftest import BROKERS, posflow, run_dag

# The ETL's advisory lock key (warehouse/warehouse_loader.cc).
ETL_LOCK_KEY = 31650110826786681

# Two days of sales, with bad messages and POS retries (duplicates).
FIRST_DAY, SECOND_DAY = "2026-03-10", "2026-03-11"
SALES = (
    "--start-date", FIRST_DAY, "--days", "2", "--bad-ratio", "0.05", "--duplicate-ratio", "0.02",
)
ALL_SUCCEEDED = {"etl": "success", "check": "success", "publish_reports": "success"}


def loaded(warehouse) -> tuple[int, int, int]:
    """Receipts in the facts, distinct among them, and still staged."""
    row = warehouse.sql(
        "select (select count(*) from dw.fact_transaction), "
        "(select count(distinct transaction_id) from dw.fact_transaction), "
        "(select count(*) from staging.pos_transaction)"
    )
    return tuple(int(value) for value in row.split("|"))


def sales_by_store_sql(warehouse, day: str) -> dict[str, dict[str, Decimal]]:
    rows = warehouse.sql(
        "select s.store_id, count(*), sum(f.item_count), sum(f.subtotal), sum(f.tax), sum(f.total) "
        "from dw.fact_transaction f join dw.dim_store s using (store_key) "
        f"where f.sale_date = '{day}' group by s.store_id order by 1"
    )
    figures = {}
    for line in rows.splitlines():
        store, transactions, items, subtotal, tax, total = line.split("|")
        figures[store] = {
            "transactions": Decimal(transactions), "items": Decimal(items),
            "subtotal": Decimal(subtotal), "tax": Decimal(tax), "total": Decimal(total),
        }
    return figures


def test_batch_run_loads_staged_sales_passes_check_and_publishes_the_days_reports(warehouse):
    manifest = warehouse.stage("sales", "--count", "1500", "--seed", "41", *SALES)
    assert manifest["bad_total"] > 0 and manifest["duplicates"] > 0

    run = run_dag("posflow_batch", warehouse.variables(), conf={"report_date": FIRST_DAY})
    assert run.returncode == 0, run.output[-5000:]
    assert run.task_states() == ALL_SUCCEEDED

    # Every valid, first-seen sale is in the warehouse, once; staging is empty.
    assert loaded(warehouse) == (manifest["valid"], manifest["valid"], 0)
    assert int(warehouse.sql("select (sum(total) * 100)::bigint from dw.fact_transaction")) == (
        manifest["total_cents"]
    )
    assert '"name":"kafka-offsets","ok":true' in run.log("check")
    assert '"ok":true' in run.log("check")

    # The day's reports, with the figures SQL computes from the facts.
    folder = warehouse.work_dir / "reports" / FIRST_DAY
    index = json.loads((folder / "index.json").read_text())
    assert index["date"] == FIRST_DAY and index["run_id"] == run.run_id
    assert len(index["files"]) == 14
    published = json.loads((folder / "sales-by-store.json").read_text(), parse_float=Decimal)
    expected = sales_by_store_sql(warehouse, FIRST_DAY)
    assert len(expected) > 1
    assert {
        row["store_id"]: {key: Decimal(row[key]) for key in expected[row["store_id"]]}
        for row in published
    } == expected
    with open(folder / "sales-by-store.csv", newline="", encoding="utf-8") as opened:
        rows = list(csv.DictReader(opened))
    assert {row["store_id"]: Decimal(row["total"]) for row in rows} == {
        store: figures["total"] for store, figures in expected.items()
    }
    by_day = json.loads((folder / "sales-by-day.json").read_text(), parse_float=Decimal)
    assert [row["sale_date"] for row in by_day] == [FIRST_DAY]
    assert by_day[0]["total"] == sum(figures["total"] for figures in expected.values())
    low_stock = json.loads((folder / "low-stock.json").read_text())
    assert len(low_stock) == int(
        warehouse.sql("select count(*) from inventory.on_hand where quantity < reorder_point")
    )


def test_failed_run_shows_posflows_error_and_a_rerun_after_recovery_loads_everything_once(
    warehouse,
):
    first = warehouse.stage("first", "--count", "1200", "--seed", "42", *SALES)

    # The database is down: nothing listens on port 1.
    down = warehouse.variables(posflow_db=warehouse.url.replace(":5432/", ":1/"))
    failed = run_dag("posflow_batch", down, conf={"report_date": FIRST_DAY})
    assert failed.returncode != 0
    assert failed.task_states() == {
        "etl": "failed", "check": "upstream_failed", "publish_reports": "upstream_failed",
    }
    # One try plus the one retry of the test settings, each log with posflow's own message.
    assert [path.name for path in failed.log_files("etl")] == ["attempt=1.log", "attempt=2.log"]
    for attempt in failed.log_files("etl"):
        text = attempt.read_text()
        assert "posflow etl: error: cannot connect to PostgreSQL at" in text, text[-3000:]
        assert "posflow etl exited 1 (failure at run time)" in text
    assert loaded(warehouse) == (0, 0, first["valid"])

    # Recovered: the same run again (same logical date) loads everything.
    rerun = run_dag(
        "posflow_batch", warehouse.variables(), logical_date=failed.run_id.split("__")[1],
        conf={"report_date": FIRST_DAY},
    )
    assert rerun.returncode == 0, rerun.output[-5000:]
    assert rerun.task_states() == ALL_SUCCEEDED
    assert loaded(warehouse) == (first["valid"], first["valid"], 0)

    # More sales: the next run loads only those.
    second = warehouse.stage("second", "--count", "300", "--seed", "43", *SALES)
    more = run_dag("posflow_batch", warehouse.variables(), conf={"report_date": SECOND_DAY})
    assert more.returncode == 0, more.output[-5000:]
    total = first["valid"] + second["valid"]
    assert loaded(warehouse) == (total, total, 0)
    assert f'"transactions":{second["valid"]}' in more.log("etl")

    # Nothing new: etl is skipped, check and the reports (default day) still run.
    idle = run_dag("posflow_batch", warehouse.variables())
    assert idle.returncode == 0, idle.output[-5000:]
    assert idle.task_states() == {**ALL_SUCCEEDED, "etl": "skipped"}
    assert "posflow etl exited 99 (nothing to do)" in idle.log("etl")
    assert loaded(warehouse) == (total, total, 0)

    # Exactly once, against the producers' ground truth.
    verdict = posflow(
        "check", "--db", warehouse.url, "--brokers", BROKERS, "--topic", warehouse.topic,
        "--manifest", str(warehouse.work_dir / "first.json"),
        "--manifest", str(warehouse.work_dir / "second.json"),
    )
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    assert "check: OK" in verdict.stdout


def test_etl_is_retried_while_another_etl_holds_the_lock_then_fails_naming_it(warehouse):
    warehouse.stage("sales", "--count", "100", "--seed", "44", *SALES)
    holder_name = "posflow-test-etl-lock-holder"
    holder = subprocess.Popen(
        ["psql", "-X", "-q", warehouse.url, "-c", f"select pg_advisory_lock({ETL_LOCK_KEY})",
         "-c", "select pg_sleep(300)"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PGAPPNAME": holder_name},
    )
    holding = (
        "select count(*) from pg_locks l join pg_stat_activity a using (pid) "
        f"where l.locktype = 'advisory' and l.granted and a.application_name = '{holder_name}'"
    )
    try:
        deadline = time.monotonic() + 30
        while warehouse.sql(holding) == "0":
            assert time.monotonic() < deadline, "the lock holder did not take the lock"
            time.sleep(0.2)
        busy = run_dag("posflow_batch", warehouse.variables())
    finally:
        # Ending psql alone would leave its backend asleep, holding the lock.
        warehouse.sql(
            "select pg_terminate_backend(pid) from pg_stat_activity "
            f"where application_name = '{holder_name}'"
        )
        holder.wait(timeout=30)
    assert busy.returncode != 0
    assert busy.task_states() == {
        "etl": "failed", "check": "upstream_failed", "publish_reports": "upstream_failed",
    }
    assert [path.name for path in busy.log_files("etl")] == ["attempt=1.log", "attempt=2.log"]
    for attempt in busy.log_files("etl"):
        text = attempt.read_text()
        assert "posflow etl: error: another ETL is already running on this database" in text
        assert "posflow etl exited 4 (busy" in text
    # With the holder gone, the next run loads.
    after = run_dag("posflow_batch", warehouse.variables(), use_executor=False)
    assert after.returncode == 0, after.output[-5000:]
    assert loaded(warehouse)[2] == 0
