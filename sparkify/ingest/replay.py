"""``sparkify ingest --replay-rejected``: take back quarantined lines that the current parser accepts.

A quarantine that can never be emptied loses data for good once the parser learns a new dialect.
The replay re-parses the raw text of quarantined lines with today's parser and moves each line that
now parses into ``raw.sparkify_events`` with its original lineage (file, line, ingestion batch and
time); ``_loaded_batch_id`` names the replay, so the incremental models pick the rows up.

Every step is idempotent, so a replay killed anywhere is finished by running it again:
1. MERGE the recovered rows into the events on (file, line): a line already there is not added twice;
2. commit the replay's batch (until then a crash's rows are removed by the next writer);
3. delete from the quarantine every line that is now in the events;
4. recompute the ledger's kept and rejected counts of the files touched from the two tables, per
   ledger row (a line keeps the batch that first read it), and check that every file balances.
"""

from __future__ import annotations

from dataclasses import dataclass

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkify.ingest.parse import parse_lines
from sparkify.ingest.schema import LOADED_BATCH_COLUMN, STORED_EVENT_COLUMNS
from sparkify.ingest.tables import (
    EVENTS_TABLE,
    LEDGER_TABLE,
    LINEAGE_COLUMNS,
    REJECTED_TABLE,
    commit_batch,
    ensure_tables,
    next_batch,
)
from sparkify.runtime.errors import CheckFailed
from sparkify.runtime.progress import say, step

LINE_KEY = ("_source_file", "_source_line")


@dataclass(frozen=True)
class ReplayResult:
    """What one replay did."""

    reparsed: int
    recovered: int
    still_rejected_by_reason: dict[str, int]
    files: int


def _quarantined(spark: SparkSession, reason: str | None) -> DataFrame:
    rejected = spark.table(REJECTED_TABLE)
    return rejected if reason is None else rejected.where(F.col("_reject_reason") == F.lit(reason))


def _recovered_rows(quarantined: DataFrame, batch_id: str) -> DataFrame:
    """The quarantined lines the current parser keeps, as events rows with their original lineage."""
    reparsed = parse_lines(quarantined.select(F.col("_raw_line").alias("value"), *LINEAGE_COLUMNS))
    return reparsed.where(F.col("_reject_reason").isNull()).select(
        *[F.col(f"parsed.{name}").alias(name) for name in STORED_EVENT_COLUMNS],
        *LINEAGE_COLUMNS,
        F.lit(batch_id).alias(LOADED_BATCH_COLUMN),
    )


def _merge_into_events(spark: SparkSession, recovered: DataFrame) -> None:
    condition = " and ".join(f"t.{key} = s.{key}" for key in LINE_KEY)
    (
        DeltaTable.forName(spark, EVENTS_TABLE)
        .alias("t")
        .merge(recovered.alias("s"), condition)
        .whenNotMatchedInsertAll()
        .execute()
    )


def _drop_from_quarantine(spark: SparkSession, files: list[str]) -> None:
    """Delete every quarantined line of ``files`` that the events table now holds."""
    in_events = (
        spark.table(EVENTS_TABLE).where(F.col("_source_file").isin(files)).select(*LINE_KEY).distinct()
    )
    condition = " and ".join(f"t.{key} = s.{key}" for key in LINE_KEY)
    DeltaTable.forName(spark, REJECTED_TABLE).alias("t").merge(
        in_events.alias("s"), condition
    ).whenMatchedDelete().execute()


def _rebalance_ledger(spark: SparkSession, files: list[str]) -> None:
    """Kept and rejected counts of ``files`` recomputed from the tables; the books must still balance.

    A line keeps the batch that first read it (``_batch_id``), so the counts are per ledger row:
    (file, batch).
    """
    key = ["_source_file", "_batch_id"]
    kept = spark.table(EVENTS_TABLE).where(F.col("_source_file").isin(files)).groupBy(*key).count()
    rejected = spark.table(REJECTED_TABLE).where(F.col("_source_file").isin(files)).groupBy(*key).count()
    counts = (
        kept.select(*key, F.col("count").alias("rows_kept"))
        .join(rejected.select(*key, F.col("count").alias("rows_rejected")), on=key, how="full_outer")
        .select(
            F.col("_source_file").alias("source_file"),
            F.col("_batch_id").alias("batch_id"),
            F.coalesce(F.col("rows_kept"), F.lit(0)).alias("rows_kept"),
            F.coalesce(F.col("rows_rejected"), F.lit(0)).alias("rows_rejected"),
        )
    )
    (
        DeltaTable.forName(spark, LEDGER_TABLE)
        .alias("t")
        .merge(counts.alias("s"), "t.source_file = s.source_file and t.batch_id = s.batch_id")
        .whenMatchedUpdate(set={"rows_kept": "s.rows_kept", "rows_rejected": "s.rows_rejected"})
        .execute()
    )
    unbalanced = (
        spark.table(LEDGER_TABLE)
        .where(
            F.col("source_file").isin(files) & (F.coalesce(F.col("status"), F.lit("ingested")) == "ingested")
        )
        .where(F.col("lines_read") != F.col("rows_kept") + F.col("rows_rejected"))
        .select("source_file", "lines_read", "rows_kept", "rows_rejected")
        .collect()
    )
    if unbalanced:
        worst = unbalanced[0]
        raise CheckFailed(
            f"after the replay {len(unbalanced)} ledger rows do not balance, e.g. {worst.source_file}: "
            f"{worst.lines_read} lines read but {worst.rows_kept} kept + {worst.rows_rejected} rejected"
        )


def replay_rejected(spark: SparkSession, reason: str | None = None) -> ReplayResult:
    """Re-parse the quarantine (only lines rejected for ``reason``, if given) and move what now parses."""
    ensure_tables(spark)
    seq, batch_id = next_batch(spark)
    quarantined = _quarantined(spark, reason).cache()
    try:
        reparsed = quarantined.count()
        recovered = _recovered_rows(quarantined, batch_id).cache()
        recovered_count = recovered.count()
        files = [row["_source_file"] for row in recovered.select("_source_file").distinct().collect()]
        if files:
            with step(f"move {recovered_count:,} recovered lines of {len(files)} files into {EVENTS_TABLE}"):
                _merge_into_events(spark, recovered)
                commit_batch(spark, seq, batch_id, "replay", len(files))
                _drop_from_quarantine(spark, files)
                _rebalance_ledger(spark, files)
        recovered.unpersist()
    finally:
        quarantined.unpersist()
    still = {
        row["_reject_reason"]: row["count"]
        for row in _quarantined(spark, reason).groupBy("_reject_reason").count().collect()
    }
    return ReplayResult(reparsed, recovered_count, still, len(files))


def replay_command(spark: SparkSession, reason: str | None) -> None:
    """Run the replay and print one summary line."""
    result = replay_rejected(spark, reason)
    left = ", ".join(f"{k} {v:,}" for k, v in sorted(result.still_rejected_by_reason.items())) or "none"
    scope = f" rejected as {reason}" if reason else ""
    say(
        f"replay: {result.reparsed:,} quarantined lines{scope} re-parsed, {result.recovered:,} recovered into "
        f"{EVENTS_TABLE} from {result.files} files; still rejected: {left}"
    )
