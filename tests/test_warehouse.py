"""The dbt warehouse end to end on real Spark, Delta and dbt: labels, incremental builds, leakage."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from sparkify.app.build_checks import CHECKED_PROPERTY, WITHOUT_UNIT_TESTS
from sparkify.app.cli import main
from sparkify.app.jobs import build_warehouse
from sparkify.ingest.command import run_ingest
from sparkify.runtime.dbt import run_dbt
from tests.conftest import drop_schemas

# A small population over 36 days with a short spine: as-of dates 10-15, 10-22, 10-29, ...
SMALL_VARS = json.dumps({"min_history_days": 14, "as_of_cadence_days": 7, "label_horizon_days": 7})
SMALL_LOG = ["--users", "50", "--days", "36", "--seed", "5", "--quiet"]
ANALYTICS_TABLES = (
    "stg_sparkify__events", "int_sessions", "int_user_daily_activity", "int_as_of_dates",
    "int_user_as_of_dates", "fct_churn_labels", "fct_user_features", "fct_training_set", "dim_users",
)  # fmt: skip


@pytest.fixture
def empty_warehouse(spark):
    """Drop every schema the pipeline writes, so a scenario starts from nothing."""
    drop_schemas(spark)
    return spark


def _build(*extra: str) -> None:
    """A plain ``dbt build`` of every model and data test (dbt's unit tests run in tests/test_dbt.py)."""
    assert run_dbt(["build", *extra, *WITHOUT_UNIT_TESTS]) == 0, "dbt build failed (see output above)"


def _sparkify_build(*extra: str) -> int:
    """``sparkify build``: dbt build with the event tests scoped to rows no passing build checked."""
    return build_warehouse(list(extra))


def _compiled_test(test_home: Path, name: str) -> str:
    return next((test_home / "dbt-target" / "compiled").rglob(f"{name}.sql")).read_text()


def _checksum(spark, table: str, where: str = "true") -> tuple[int, int]:
    row = spark.sql(
        f"select count(*) as n, sum(cast(xxhash64(*) as decimal(38, 0))) as h from analytics.{table} where {where}"
    ).collect()[0]
    return row.n, int(row.h or 0)


def _features(spark, as_of: str) -> dict[str, dict]:
    rows = spark.table("analytics.fct_user_features").where(F.col("as_of_date") == as_of).drop("is_labelled")
    return {r.user_id: r.asDict() for r in rows.collect()}


def test_rebuilds_are_idempotent_incremental_and_free_of_leakage(empty_warehouse, test_home: Path):
    spark = empty_warehouse
    landing = test_home / "landing-slices"
    vars_ = ["--vars", SMALL_VARS]

    # Days 10-01 .. 10-28: the scoring date is 10-29, which is also a cadence date.
    assert main(["generate", *SMALL_LOG, "--out", str(landing), "--end", "2018-10-29"]) == 0
    run_ingest(landing)
    assert _sparkify_build(*vars_) == 0
    first = {t: _checksum(spark, t) for t in ANALYTICS_TABLES}
    before = {d: _features(spark, d) for d in ("2018-10-15", "2018-10-22", "2018-10-29")}
    assert all(before.values()), "every as-of date has feature rows"
    # No table of the warehouse carries a name (the generated lines have firstName and lastName),
    # and the marts are Delta tables.
    for table in ANALYTICS_TABLES:
        columns = {c.lower() for c in spark.table(f"analytics.{table}").columns}
        assert not columns & {"firstname", "lastname", "first_name", "last_name"}, table
    provider = spark.sql("describe extended analytics.fct_user_features").where("col_name = 'Provider'")
    assert provider.first().data_type == "delta"
    assert "event_date >= date'0001-01-01'" in _compiled_test(test_home, "valid_rows_stg_sparkify__events")

    # A second build with no new data changes no row, and its event tests read no row.
    assert _sparkify_build(*vars_) == 0
    assert {t: _checksum(spark, t) for t in ANALYTICS_TABLES} == first
    assert "event_date >= date'9999-12-31'" in _compiled_test(test_home, "valid_rows_stg_sparkify__events")

    # One more day: only what that day touches changes.
    assert (
        main(["generate", *SMALL_LOG, "--out", str(landing), "--start", "2018-10-29", "--end", "2018-10-30"])
        == 0
    )
    new_day = run_ingest(landing)
    assert new_day.files_new == 1 and new_day.rows_kept > 0
    assert _sparkify_build(*vars_) == 0
    assert "event_date >= date'2018-10-29'" in _compiled_test(test_home, "valid_rows_stg_sparkify__events")
    assert _checksum(spark, "stg_sparkify__events")[0] == first["stg_sparkify__events"][0] + new_day.rows_kept
    old_days = "activity_date < date'2018-10-29'"
    assert _checksum(spark, "int_user_daily_activity", old_days) == _checksum_before_from(
        first, spark, old_days
    )
    write = spark.sql("describe history analytics.int_user_daily_activity").orderBy(F.desc("version")).first()
    assert write.operationParameters["mode"] == "Overwrite", write.operationParameters
    day_rows = (
        spark.table("analytics.int_user_daily_activity").where("activity_date = date'2018-10-29'").count()
    )
    assert int(write.operationMetrics["numOutputRows"]) == day_rows > 0
    # The features: only the new scoring date (10-30) is written; 10-29, yesterday's scoring date and
    # not labelled before its horizon closes, left the spine and its rows are deleted.
    features = spark.table("analytics.fct_user_features")
    assert features.where("as_of_date = date'2018-10-29'").count() == 0
    write = _newest_write(spark, "fct_user_features")
    assert write.operationParameters["mode"] == "Overwrite", write.operationParameters
    scoring_rows = features.where("as_of_date = date'2018-10-30'").count()
    assert int(write.operationMetrics["numOutputRows"]) == scoring_rows > 0
    assert spark.conf.get("spark.sql.sources.partitionOverwriteMode").lower() == "static"

    # A week more: 10-29 is now labelled, and no feature at any earlier as-of date moved.
    assert (
        main(["generate", *SMALL_LOG, "--out", str(landing), "--start", "2018-10-30", "--end", "2018-11-06"])
        == 0
    )
    run_ingest(landing)
    _build(*vars_)
    labelled = {
        r.as_of_date.isoformat()
        for r in spark.table("analytics.fct_churn_labels").select("as_of_date").distinct().collect()
    }
    assert "2018-10-29" in labelled
    # The labels and the training set: the week closed the horizon of 10-29 alone (10-22's ended
    # at 10-29, before the first new day), so their newest write is 10-29's partition.
    for table in ("fct_churn_labels", "fct_training_set"):
        write = _newest_write(spark, table)
        assert write.operationParameters["mode"] == "Overwrite", (table, write.operationParameters)
        rows = spark.table(f"analytics.{table}").where("as_of_date = date'2018-10-29'").count()
        assert int(write.operationMetrics["numOutputRows"]) == rows > 0, table
    for as_of, features in before.items():
        moved = _differences(features, _features(spark, as_of))
        assert not moved, f"features at {as_of} changed when later events arrived: {moved[:10]}"

    # A bad row (a page the log does not have) fails the scoped tests, and keeps failing them: a
    # failed build records nothing, so the next build reads the same rows again.
    checked_through = _checked_through(spark)
    first_file = sorted((landing / "events").glob("*.json"))[0]
    line = json.loads(first_file.read_text().splitlines()[0])
    line.update(page="Teleport", ts=line["ts"] + 37 * 86_400_000)
    (landing / "events" / "zz-bad.json").write_text(json.dumps(line) + "\n")
    assert run_ingest(landing).rows_kept == 1
    assert _sparkify_build(*vars_) == 1
    assert _sparkify_build(*vars_) == 1
    assert _checked_through(spark) == checked_through


def _newest_write(spark, table: str):
    """The newest WRITE entry of the table's Delta history (post-hooks add DELETEs and properties)."""
    history = spark.sql(f"describe history analytics.{table}").orderBy(F.desc("version")).collect()
    return next(entry for entry in history if entry.operation == "WRITE")


def _checked_through(spark) -> str:
    detail = spark.sql("describe detail analytics.stg_sparkify__events").first()
    return detail.properties[CHECKED_PROPERTY]


def _differences(before: dict[str, dict], after: dict[str, dict]) -> list[tuple]:
    """(user, column, before, after) for every feature value that differs; a missing user counts too."""
    moved = [(user, "<row>", "present", "absent") for user in before.keys() - after.keys()]
    moved += [(user, "<row>", "absent", "present") for user in after.keys() - before.keys()]
    for user in before.keys() & after.keys():
        for column, value in before[user].items():
            if after[user][column] != value:
                moved.append((user, column, value, after[user][column]))
    return sorted(moved)


def _checksum_before_from(first: dict, spark, where: str) -> tuple[int, int]:
    """Checksum of the old days as they were: recomputed from the table's first Delta version."""
    versions = spark.sql("describe history analytics.int_user_daily_activity").select("version").collect()
    earliest_with_data = min(v.version for v in versions)
    row = spark.sql(
        f"select count(*) as n, sum(cast(xxhash64(*) as decimal(38, 0))) as h "
        f"from analytics.int_user_daily_activity version as of {earliest_with_data} where {where}"
    ).collect()[0]
    assert first["int_user_daily_activity"][0] >= row.n
    return row.n, int(row.h or 0)


def test_corrupt_log_builds_and_every_fault_is_rejected_or_repaired(empty_warehouse, test_home: Path):
    spark = empty_warehouse
    out = test_home / "landing-corrupt"
    args = ["generate", "--users", "40", "--days", "20", "--seed", "9", "--corrupt-rate", "0.01", "--quiet"]
    assert main([*args, "--out", str(out)]) == 0
    result = run_ingest(out)
    assert result.lines_read == result.rows_kept + result.rows_rejected
    _build()
    faults = Counter(json.loads(x)["kind"] for x in (out / "_corruptions.jsonl").read_text().splitlines())
    assert faults["duplicate_event"] > 0 and faults["placeholder_user_id"] > 0 and faults["late_event"] > 0
    staged = spark.table("analytics.stg_sparkify__events")
    # Exact duplicates are kept once; everything else that was kept is staged.
    assert staged.count() == result.rows_kept - faults["duplicate_event"]
    placeholder_raw = spark.table("raw.sparkify_events").where("userId = '1261737'").count()
    assert placeholder_raw == faults["placeholder_user_id"]
    assert staged.where("user_id = '1261737'").count() == 0
    rejected = Counter(r._reject_reason for r in spark.table("raw.sparkify_events_rejected").collect())
    assert sum(rejected.values()) == result.rows_rejected > 0
