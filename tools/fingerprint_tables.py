"""Print the row count and content hash of every table of the given schemas (default: analytics).

Usage: ``.venv/bin/python tools/fingerprint_tables.py [SCHEMA ...]`` from the project, on a lakehouse
no other process holds. Run it before and after a change that must not alter the warehouse.
"""

from __future__ import annotations

import sys

from sparkify.runtime.fingerprint import schema_fingerprints
from sparkify.runtime.spark import get_spark, stop_spark

# Columns that record when or by which run a row was written, not what it says.
RUN_COLUMNS = frozenset({"scored_at", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to", "dbt_scd_id"})


def main(schemas: list[str]) -> int:
    spark = get_spark()
    try:
        for schema in schemas or ["analytics"]:
            for table in schema_fingerprints(spark, schema, RUN_COLUMNS):
                print(table.line())
    finally:
        stop_spark()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
