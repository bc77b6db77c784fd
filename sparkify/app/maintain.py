"""``sparkify maintain``: compact and vacuum every Delta table of the warehouse.

Without it the lakehouse only grows: every MERGE and append leaves small files, and every
rewrite leaves the old ones for time travel. OPTIMIZE compacts; VACUUM removes files older than
the retention (dbt var ``vacuum_retention_hours``, at least Delta's 168-hour default, so a reader
or a time-travel query of the last week never loses a file). Run it from the same scheduler line
as the daily ingest, after it.
"""

from __future__ import annotations

from delta.tables import DeltaTable

from sparkify.runtime.progress import say, step
from sparkify.runtime.settings import ANALYTICS_SCHEMA, RAW_SCHEMA, project_var
from sparkify.runtime.spark import get_spark

MAINTAINED_SCHEMAS = (RAW_SCHEMA, ANALYTICS_SCHEMA, "snapshots")


def maintain_command() -> int:
    """CLI wrapper of ``maintain_tables``."""
    maintain_tables()
    return 0


def maintain_tables() -> int:
    """OPTIMIZE then VACUUM each Delta table of the pipeline's schemas; one line per table; how many."""
    spark = get_spark()
    hours = float(project_var("vacuum_retention_hours"))
    done = 0
    for schema in MAINTAINED_SCHEMAS:
        if not spark.catalog.databaseExists(schema):
            continue
        for table in spark.catalog.listTables(schema):
            name = f"{schema}.{table.name}"
            # Views (and this session's temporary views, which listTables returns too) hold no files.
            if table.isTemporary or table.tableType == "VIEW":
                continue
            if not DeltaTable.isDeltaTable(spark, _location(spark, name)):
                continue
            with step(f"maintain {name}"):
                compacted = DeltaTable.forName(spark, name).optimize().executeCompaction().first()
                DeltaTable.forName(spark, name).vacuum(hours)
            metrics = compacted["metrics"]
            say(
                f"maintain: {name}: {metrics['numFilesRemoved']} files compacted into {metrics['numFilesAdded']}"
            )
            done += 1
    say(f"maintain: {done} Delta tables compacted and vacuumed (retention {hours:g} h)")
    return done


def _location(spark, name: str) -> str:
    return spark.sql(f"describe detail {name}").first()["location"]
