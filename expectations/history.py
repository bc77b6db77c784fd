"""``analytics.validation_results``: one row per expectation result, queryable with SQL.

It is also the memory the suites compare against (row and user counts of the previous validated
run) and what the scoring gate reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sparkify.runtime.settings import ANALYTICS_SCHEMA

RESULTS_TABLE = f"{ANALYTICS_SCHEMA}.validation_results"
RESULTS_DDL = (
    "run_id string, suite string, expectation string, severity string, success boolean, "
    "observed_value string, details string, table_name string, table_version bigint, validated_at timestamp"
)


@dataclass(frozen=True)
class ResultRow:
    run_id: str
    suite: str
    expectation: str
    severity: str
    success: bool
    observed_value: str | None
    details: str
    table_name: str
    table_version: int | None
    validated_at: datetime


def ensure_results_table(spark: SparkSession) -> None:
    spark.sql(f"create database if not exists {ANALYTICS_SCHEMA}")
    spark.sql(f"create table if not exists {RESULTS_TABLE} ({RESULTS_DDL}) using delta")


def append_results(spark: SparkSession, rows: list[ResultRow]) -> None:
    frame = spark.createDataFrame([tuple(row.__dict__.values()) for row in rows], RESULTS_DDL)
    frame.write.format("delta").mode("append").saveAsTable(RESULTS_TABLE)


def previous_observations(spark: SparkSession, suite: str) -> dict[str, float]:
    """Observed values of the latest run in which ``suite`` passed every critical expectation."""
    if not spark.catalog.tableExists(RESULTS_TABLE):
        return {}
    results = spark.table(RESULTS_TABLE).where(F.col("suite") == suite)
    passed_runs = (
        results.groupBy("run_id")
        .agg(
            F.max("validated_at").alias("validated_at"),
            F.bool_and(F.col("success") | (F.col("severity") != "critical")).alias("passed"),
        )
        .where(F.col("passed"))
        .orderBy(F.col("validated_at").desc())
        .limit(1)
        .collect()
    )
    if not passed_runs:
        return {}
    observed: dict[str, float] = {}
    for row in results.where(F.col("run_id") == passed_runs[0]["run_id"]).collect():
        try:
            observed[row["expectation"]] = float(row["observed_value"])
        except (TypeError, ValueError):
            continue
    return observed


def latest_run_per_suite(spark: SparkSession, suites: list[str]) -> dict[str, list[dict]]:
    """Result rows of the most recent run of each suite."""
    if not spark.catalog.tableExists(RESULTS_TABLE):
        return {}
    results = spark.table(RESULTS_TABLE).where(F.col("suite").isin(suites))
    latest = results.groupBy("suite").agg(F.max("validated_at").alias("validated_at"))
    rows = results.join(latest, on=["suite", "validated_at"], how="inner").collect()
    by_suite: dict[str, list[dict]] = {}
    for row in rows:
        by_suite.setdefault(row["suite"], []).append(row.asDict())
    return by_suite
