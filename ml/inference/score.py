"""Scoring: every active user at an as-of date with the champion, written, audited, then published.

Write-audit-publish: ``stage`` overwrites ``analytics.churn_scores_staged`` with this run's scores;
the job (``sparkify.app.jobs``) validates that table; only then ``publish`` MERGEs it into
``analytics.churn_scores`` in one Delta commit. A failed audit leaves the published table exactly
as it was, and a job killed anywhere leaves it at the old version or the new one, never a mix.
Idempotent: the merge key is (user_id, as_of_date, model_version), and rows of the same date and
model that are no longer scored are deleted in the same MERGE, so a rerun replaces, never adds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from sparkify.ml import tracking
from sparkify.ml.inference.explain import risk_factors
from sparkify.runtime.errors import CheckFailed, UsageError
from sparkify.runtime.progress import say, step
from sparkify.runtime.settings import ANALYTICS_SCHEMA
from sparkify.runtime.spark import delta_version, get_spark, retry_on_conflict

FEATURES_TABLE = f"{ANALYTICS_SCHEMA}.fct_user_features"
SCORES_TABLE = f"{ANALYTICS_SCHEMA}.churn_scores"
STAGED_SCORES_TABLE = f"{ANALYTICS_SCHEMA}.churn_scores_staged"


@dataclass(frozen=True)
class ScoreResult:
    as_of_date: date
    model_version: str
    users: int
    table_version: int


def latest_as_of(spark: SparkSession) -> date:
    latest = spark.table(FEATURES_TABLE).select(F.max("as_of_date")).first()[0]
    if latest is None:
        raise CheckFailed(f"{FEATURES_TABLE} is empty: run `sparkify build` first")
    return latest


def scored_rows(
    spark: SparkSession,
    champion: tracking.ModelVersion,
    as_of: date,
    validation_run_id: str | None,
    skipped: bool,
) -> DataFrame:
    """Scores of every user in the feature mart at ``as_of`` with the champion, in the table's columns."""
    rows = spark.table(FEATURES_TABLE).where(F.col("as_of_date") == F.lit(as_of))
    if rows.isEmpty():
        raise UsageError(f"{FEATURES_TABLE} has no rows at as-of date {as_of}")
    explained = risk_factors(
        champion.load(),
        champion.card.positive_weight,
        champion.card.calibration,
        rows,
        champion.card.feature_importances,
        list(champion.card.numeric_features),
    )
    by_risk = Window.orderBy(F.col("churn_probability").desc(), F.col("user_id"))
    return explained.select(
        F.col("user_id"),
        F.lit(as_of).cast("date").alias("as_of_date"),
        F.col("churn_probability"),
        F.ntile(10).over(by_risk).cast("int").alias("risk_decile"),
        F.lit(champion.version).alias("model_version"),
        F.lit(datetime.now(UTC).replace(tzinfo=None)).cast("timestamp").alias("scored_at"),
        F.col("risk_factors")[0].alias("risk_factor_1"),
        F.col("risk_factors")[1].alias("risk_factor_2"),
        F.col("risk_factors")[2].alias("risk_factor_3"),
        F.lit(validation_run_id).cast("string").alias("validation_run_id"),
        F.lit(skipped).alias("validation_skipped"),
    )


def publish(spark: SparkSession, as_of: date, model_version: str, staged_version: int) -> int:
    """MERGE the audited staged scores on (user_id, as_of_date, model_version); the new Delta version.

    Reads the staged table at the version this run wrote, so a scoring run started beside this one
    cannot slip its rows in; a MERGE that loses a commit race to another run is run again.
    """
    staged = spark.read.option("versionAsOf", staged_version).table(STAGED_SCORES_TABLE)
    same_run = (F.col("t.as_of_date") == F.lit(as_of)) & (F.col("t.model_version") == F.lit(model_version))
    retry_on_conflict(lambda: _merge(spark, staged, same_run))
    return delta_version(spark, SCORES_TABLE)


def _merge(spark: SparkSession, staged: DataFrame, same_run: Column) -> None:
    (
        DeltaTable.forName(spark, SCORES_TABLE)
        .alias("t")
        .merge(
            staged.alias("s"),
            "t.user_id = s.user_id and t.as_of_date = s.as_of_date and t.model_version = s.model_version",
        )
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .whenNotMatchedBySourceDelete(condition=same_run)
        .execute()
    )


def champion_or_fail() -> tracking.ModelVersion:
    """The model the job scores with; a clear usage error before any work when there is none."""
    champion = tracking.champion()
    if champion is None:
        raise UsageError("no champion model: run `sparkify train` first")
    return champion


def stage(
    as_of: date,
    champion: tracking.ModelVersion,
    validation_run_id: str | None,
    skip_validation: bool,
) -> ScoreResult:
    """Score every user in the feature mart at ``as_of`` into the staged table; print one summary line.

    The staged table has the published table's schema (created from it), so the audit checks
    exactly the rows that publishing would write.
    """
    spark = get_spark()
    with step(f"score users at {as_of} with model {champion.version}"):
        scores = scored_rows(spark, champion, as_of, validation_run_id, skip_validation)
        ordered = scores.select(*spark.table(SCORES_TABLE).columns)
        retry_on_conflict(
            lambda: (
                ordered.write.format("delta")
                .mode("overwrite")
                .option("overwriteSchema", "true")
                .saveAsTable(STAGED_SCORES_TABLE)
            )
        )
        written = delta_version(spark, STAGED_SCORES_TABLE)
        by_decile = (
            spark.read.option("versionAsOf", written)
            .table(STAGED_SCORES_TABLE)
            .groupBy("risk_decile")
            .agg(F.count("*").alias("n"), F.sum("churn_probability").alias("p"))
            .collect()
        )
        deciles = [row["n"] for row in by_decile]
        users = sum(deciles)
        mean_p = sum(row["p"] for row in by_decile) / users
    say(
        f"score: {users:,} users at {as_of} with model {champion.version} -> {STAGED_SCORES_TABLE} "
        f"(to audit); mean churn probability {mean_p:.3f}; decile sizes {min(deciles)}-{max(deciles)}"
        + ("; validation SKIPPED (--skip-validation)" if skip_validation else "")
    )
    return ScoreResult(as_of, champion.version, users, written)
