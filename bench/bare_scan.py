"""The machine's limit for ingestion: read the raw log with the explicit schema, parse every line once, count.

Run as its own process by the harness (``python -m bench.bare_scan DIR``), with the project's Spark
settings, so that ingest can be quoted as a ratio to it. It prints the rows counted and the time
of the scan itself (without the JVM start) as JSON on its last line.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from pyspark.sql import functions as F

from sparkify.ingest.files import discover
from sparkify.ingest.schema import CORRUPT_COLUMN, PARSE_SCHEMA
from sparkify.runtime.spark import get_spark, stop_spark


def bare_scan(folder: Path) -> dict[str, float | int]:
    """Parse every line of every log file under ``folder`` with ``from_json`` and count the rows."""
    spark = get_spark()
    paths = [landed.location for landed in discover(folder)]
    started = time.monotonic()
    parsed = spark.read.text(paths).select(
        F.from_json(
            F.col("value"), PARSE_SCHEMA, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_COLUMN}
        ).alias("parsed")
    )
    # Hashing every field forces each one to be parsed; a bare count() would let Spark skip the parse.
    row = parsed.select(F.count(F.lit(1)).alias("rows"), F.sum(F.hash(F.col("parsed"))).alias("h")).first()
    return {"rows": int(row["rows"]), "scan_s": round(time.monotonic() - started, 2)}


def main() -> int:
    folder = Path(sys.argv[1])
    try:
        print(json.dumps(bare_scan(folder)))
    finally:
        stop_spark()
    return 0


if __name__ == "__main__":
    sys.exit(main())
