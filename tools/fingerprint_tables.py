"""Print the row count and content hash of every table of the given schemas (default: analytics).

Usage: ``.venv/bin/python tools/fingerprint_tables.py [--json] [SCHEMA ...]`` from the project, on a
lakehouse no other process holds, on the target of ``DBT_TARGET`` (on a cluster, through the
Thrift server). Run it before and after a change that must not alter the warehouse.
"""

from __future__ import annotations

import json
import sys

from sparkify.runtime.fingerprint import RUN_COLUMNS, fingerprints_of
from sparkify.runtime.spark import stop_spark


def main(arguments: list[str]) -> int:
    as_json = "--json" in arguments
    schemas = [name for name in arguments if name != "--json"] or ["analytics"]
    try:
        tables = fingerprints_of(schemas, RUN_COLUMNS)
    finally:
        stop_spark()  # on the embedded target the statements ran in this process's Spark
    if as_json:
        print(json.dumps([[table.table, table.rows, table.content_hash] for table in tables]))
    else:
        for table in tables:
            print(table.line())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
