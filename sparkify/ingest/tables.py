"""The raw layer's Delta tables, the batch sequence, and the clean-up of a batch a crash left behind.

Every writer of the raw layer (ingest, replay) takes the next batch id from ``raw.ingest_batches``
and commits by appending its row there last. Rows in the other tables whose batch id is above the
last committed one were written by a run that died before its commit: the next writer deletes them
before it starts, so a crash anywhere costs a rerun, never a row twice. Batch ids are a sequence
(``b000000000042``), never a clock reading: the same landings give the same batches on any machine.
"""

from __future__ import annotations

from datetime import UTC, datetime

from delta.tables import DeltaTable
from pyspark.sql import Column, SparkSession
from pyspark.sql import functions as F

from sparkify.ingest.schema import (
    BATCHES_DDL,
    EVENTS_DDL,
    LEDGER_DDL,
    LOADED_BATCH_COLUMN,
    NAME_FIELDS,
    REJECTED_DDL,
)
from sparkify.runtime import target_sql
from sparkify.runtime.settings import RAW_SCHEMA
from sparkify.runtime.sql_values import checked, string_literal

EVENTS_TABLE = f"{RAW_SCHEMA}.sparkify_events"
REJECTED_TABLE = f"{RAW_SCHEMA}.sparkify_events_rejected"
LEDGER_TABLE = f"{RAW_SCHEMA}.ingested_files"
BATCHES_TABLE = f"{RAW_SCHEMA}.ingest_batches"
LINEAGE_COLUMNS = ("_source_file", "_source_line", "_ingested_at", "_batch_id")
NAMES_DROPPED_PROPERTY = "sparkify.names_dropped"

# Columns a ledger from before content hashing lacks; its rows read as ingested whole files.
_LEDGER_ADDED = "content_sha256 string, status string, reason string, first_line bigint, duplicate_of string"


def ensure_tables(spark: SparkSession) -> None:
    """Create the raw schema and its Delta tables if they do not exist; bring older ones up to date."""
    spark.sql(f"create database if not exists {RAW_SCHEMA}")
    # File statistics only on the columns reads filter by (the new batches, a file's rows, time): Delta
    # otherwise computes min/max/nulls of every column of every file, a sixth of a full load's write time.
    spark.sql(
        f"create table if not exists {EVENTS_TABLE} ({EVENTS_DDL}) using delta tblproperties ("
        f"'delta.dataSkippingStatsColumns' = '_batch_id,_source_file,ts,userId,{LOADED_BATCH_COLUMN}', "
        f"'{NAMES_DROPPED_PROPERTY}' = 'true')"
    )
    events_columns = spark.table(EVENTS_TABLE).columns
    if LOADED_BATCH_COLUMN not in events_columns:  # a raw layer from before replays
        spark.sql(f"alter table {EVENTS_TABLE} add columns ({LOADED_BATCH_COLUMN} string)")
    _forget_names(spark, events_columns)
    spark.sql(f"create table if not exists {REJECTED_TABLE} ({REJECTED_DDL}) using delta")
    spark.sql(f"create table if not exists {LEDGER_TABLE} ({LEDGER_DDL}) using delta")
    if "status" not in spark.table(LEDGER_TABLE).columns:
        spark.sql(f"alter table {LEDGER_TABLE} add columns ({_LEDGER_ADDED})")
    if not spark.catalog.tableExists(BATCHES_TABLE):
        spark.sql(f"create table {BATCHES_TABLE} ({BATCHES_DDL}) using delta")
        _adopt_earlier_batches(spark)


def _forget_names(spark: SparkSession, columns: list[str]) -> None:
    """A raw layer from before names were dropped: blank them once, and mark the table as done."""
    properties = {row.key: row.value for row in spark.sql(f"show tblproperties {EVENTS_TABLE}").collect()}
    if properties.get(NAMES_DROPPED_PROPERTY) == "true":
        return
    present = [name for name in NAME_FIELDS if name in columns]
    if present:
        DeltaTable.forName(spark, EVENTS_TABLE).update(set={name: F.lit(None) for name in present})
    spark.sql(f"alter table {EVENTS_TABLE} set tblproperties ('{NAMES_DROPPED_PROPERTY}' = 'true')")


def _adopt_earlier_batches(spark: SparkSession) -> None:
    """A raw layer written before the batch sequence: its newest batch counts as committed."""
    newest = (
        spark.table(EVENTS_TABLE)
        .select(F.max(F.coalesce(LOADED_BATCH_COLUMN, "_batch_id")).alias("b"))
        .union(spark.table(LEDGER_TABLE).select(F.max("batch_id").alias("b")))
        .agg(F.max("b").alias("b"))
        .first()["b"]
    )
    if newest is not None:
        commit_batch(spark, 0, newest, "adopted", 0)


def last_committed_batch(spark: SparkSession) -> tuple[int, str | None]:
    """(sequence, id) of the newest committed batch; (0, None) before the first."""
    row = spark.table(BATCHES_TABLE).orderBy(F.desc("batch_seq")).select("batch_seq", "batch_id").first()
    return (0, None) if row is None else (int(row.batch_seq), row.batch_id)


def next_batch(spark: SparkSession) -> tuple[int, str]:
    """The next batch's sequence number and id, after removing what an uncommitted batch left."""
    seq, committed = last_committed_batch(spark)
    discard_uncommitted(spark, committed)
    return seq + 1, f"b{seq + 1:012d}"


def discard_uncommitted(spark: SparkSession, committed: str | None) -> None:
    """Delete rows of batches above ``committed``: a writer died between its writes and its commit."""
    # Before the first commit only sequence ids ("b...") can be leftovers: ids of a raw layer written
    # before the sequence (UTC times, "2018...") sort below "b" and are never touched.
    threshold = committed if committed is not None else "b"
    DeltaTable.forName(spark, EVENTS_TABLE).delete(rows_loaded_after(threshold))
    DeltaTable.forName(spark, REJECTED_TABLE).delete(F.col("_batch_id") > F.lit(threshold))
    DeltaTable.forName(spark, LEDGER_TABLE).delete(F.col("batch_id") > F.lit(threshold))


def rows_loaded_after(batch_id: str) -> Column:
    """Rows of ``raw.sparkify_events`` that a batch after ``batch_id`` loaded (an ingest, or a replay)."""
    return F.expr(rows_loaded_after_sql(batch_id))


def rows_loaded_after_sql(batch_id: str) -> str:
    """:func:`rows_loaded_after` as SQL text, for statements sent to the target (``target_sql``).

    Written so that Delta's file statistics on both batch columns skip every older file.
    """
    after = string_literal(batch_id)
    return f"({LOADED_BATCH_COLUMN} > {after} or ({LOADED_BATCH_COLUMN} is null and _batch_id > {after}))"


def commit_batch(spark: SparkSession, seq: int, batch_id: str, kind: str, files: int) -> None:
    """The batch's last write: from here on its rows count."""
    started = datetime.now(UTC).replace(tzinfo=None)  # for people reading the table; nothing orders by it
    spark.createDataFrame([(seq, batch_id, kind, files, started)], BATCHES_DDL).write.format("delta").mode(
        "append"
    ).saveAsTable(BATCHES_TABLE)


def newest_staged_batch(staging_table: str) -> str | None:
    """The newest load batch whose rows ``staging_table`` holds (None when it holds none)."""
    return target_sql.rows(f"select max(batch_id) from {checked(staging_table, 'table name')}")[0][0]


def files_replaced_since(staging_table: str) -> list[str]:
    """Files reingested in a batch newer than the newest batch ``staging_table`` holds."""
    if not target_sql.table_exists(LEDGER_TABLE) or not target_sql.table_exists(staging_table):
        return []
    staged_up_to = newest_staged_batch(staging_table)
    replaced = target_sql.rows(
        f"select source_file from {LEDGER_TABLE} "
        f"where reason = 'reingested' and batch_id > {string_literal(staged_up_to or '')}"
    )
    return sorted(row[0] for row in replaced)
