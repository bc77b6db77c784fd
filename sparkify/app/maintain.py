"""``sparkify maintain``: compact and vacuum every Delta table of the warehouse.

Without it the lakehouse only grows: every MERGE and append leaves small files, and every
rewrite (a dbt ``table`` model is replaced on each build) leaves the old ones for time travel.
OPTIMIZE compacts; VACUUM removes files older than the retention (dbt var
``vacuum_retention_hours``, at least Delta's 168-hour default, so a reader or a time-travel query
of the last week never loses a file).

Two depths, because they cost very different amounts:
- ``lite`` (what ``sparkify daily`` runs after scoring): VACUUM LITE finds what to delete from the
  transaction log alone, without listing the table's folders. It removes every file a commit
  removed, which is all that the pipeline's own rewrites leave behind.
- ``full`` (``sparkify maintain``, weekly): VACUUM lists the folders too, so it also removes files
  no commit ever referenced, the leftovers of a writer killed before its commit. LITE refuses a
  table whose log no longer covers its removed files (``DELTA_CANNOT_VACUUM_LITE``); such a table
  gets the full listing at once, and the line says so.

Tables are maintained a few at a time: at warehouse sizes each command is mostly Spark's fixed
scheduling cost, which overlaps well (Delta commits on different tables never conflict).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from sparkify.runtime.progress import say, step
from sparkify.runtime.settings import ANALYTICS_SCHEMA, RAW_SCHEMA, project_var
from sparkify.runtime.spark import get_spark
from sparkify.runtime.sql_values import checked

MAINTAINED_SCHEMAS = (RAW_SCHEMA, ANALYTICS_SCHEMA, "snapshots")
VACUUM_DEPTHS = ("lite", "full")
TABLES_AT_ONCE = 4


@dataclass(frozen=True)
class TableMaintained:
    """What maintenance did to one table."""

    name: str
    files_removed: int
    files_added: int
    vacuum_depth: str


def maintain_command(depth: str = "full") -> int:
    """CLI wrapper of ``maintain_tables``."""
    maintain_tables(depth)
    return 0


def maintain_tables(depth: str = "full") -> int:
    """OPTIMIZE then VACUUM (``lite`` or ``full``) each Delta table; one line per table; how many."""
    if depth not in VACUUM_DEPTHS:
        raise ValueError(f"vacuum depth must be one of {VACUUM_DEPTHS}, not {depth!r}")
    spark = get_spark()
    hours = float(project_var("vacuum_retention_hours"))
    tables = warehouse_tables(spark)
    with (
        step(f"maintain the Delta tables of {len(tables)} (OPTIMIZE, VACUUM {depth.upper()})"),
        ThreadPoolExecutor(max_workers=TABLES_AT_ONCE, thread_name_prefix="maintain") as pool,
    ):
        outcomes = list(pool.map(lambda name: _maintain_one(spark, name, hours, depth), tables))
    done = [outcome for outcome in outcomes if outcome is not None]
    for table in done:
        fallback = " (LITE refused: full listing)" if table.vacuum_depth != depth else ""
        say(
            f"maintain: {table.name}: {table.files_removed} files compacted into {table.files_added}; "
            f"VACUUM {table.vacuum_depth.upper()}{fallback}"
        )
    say(f"maintain: {len(done)} Delta tables compacted and vacuumed (retention {hours:g} h)")
    return len(done)


def warehouse_tables(spark: SparkSession) -> list[str]:
    """``schema.table`` of every table in the pipeline's schemas (views hold no files)."""
    names = []
    for schema in MAINTAINED_SCHEMAS:
        if not spark.catalog.databaseExists(schema):
            continue
        for table in spark.catalog.listTables(schema):
            # This session's temporary views are listed too.
            if not table.isTemporary and table.tableType != "VIEW":
                names.append(checked(f"{schema}.{table.name}", "table name"))
    return names


def _maintain_one(spark: SparkSession, name: str, hours: float, depth: str) -> TableMaintained | None:
    """Compact and vacuum ``name``; None when it is not a Delta table (nothing of ours to do)."""
    if spark.sql(f"describe detail {name}").first()["format"] != "delta":
        return None
    metrics = DeltaTable.forName(spark, name).optimize().executeCompaction().first()["metrics"]
    used = depth
    if depth == "lite":
        try:
            spark.sql(f"vacuum {name} lite retain {hours:g} hours").collect()
        except Exception as error:  # Delta raises its own JVM exception class, as a Py4J/Spark error
            if "DELTA_CANNOT_VACUUM_LITE" not in str(error):
                raise
            used = "full"
    if used == "full":
        DeltaTable.forName(spark, name).vacuum(hours)
    return TableMaintained(name, metrics["numFilesRemoved"], metrics["numFilesAdded"], used)
