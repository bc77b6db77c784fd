"""Where ``sparkify ingest`` spends its time against the bare parse, part by part, in one JVM.

Run after a benchmark, on its generated log: ``python -m bench.profile_ingest --work lakehouse/bench/full``.
It takes the first ``--files`` log files of that log and, on a scratch lakehouse of its own (the
benchmark's is not touched), times: the bare parse the benchmark quotes (``bench.bare_scan``), the
survey (hash and line count, outside Spark), the loader's parse with reject reasons and lineage
(to Spark's ``noop`` sink, which runs a query and writes nothing), that parse persisted to local
disk as the loader does, the kept rows written from the persisted frame to a Delta table with the
raw table's statistics columns, the same write straight from the parse (one pass, no persist), and
finally the whole ``ingest()`` on a fresh raw layer. Each result is one JSON line; the ingest tables
in BENCHMARKS.md ("The full run of 2026-12-05 ... target by target", "Ingest: the parse ran
interpreted") came from it.

The parse is the loader's own (``ingest.loader.parsed_batch``); only the reading of the lines is
written out here, without the cut of a final ``\\r`` (the generated log has none).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

SCRATCH_TABLE = "default.profile_ingest_kept"
STATS_COLUMNS = "_batch_id,_source_file,ts,userId"  # as the raw events table (ingest.tables)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile_ingest", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--work", type=Path, required=True, help="a benchmark's folder, e.g. lakehouse/bench/full"
    )
    parser.add_argument("--files", type=int, default=6, help="how many log files to read (default 6)")
    args = parser.parse_args(argv)
    work = args.work.absolute()
    scratch = work / "profile-ingest"
    shutil.rmtree(scratch, ignore_errors=True)
    os.environ["SPARKIFY_LAKEHOUSE"] = str(scratch / "lakehouse")

    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from sparkify.ingest.files import discover
    from sparkify.ingest.loader import ingest, parsed_batch
    from sparkify.ingest.schema import CORRUPT_COLUMN, PARSE_SCHEMA
    from sparkify.ingest.survey import survey_all
    from sparkify.ingest.tables import ensure_tables
    from sparkify.runtime.spark import get_spark, stop_spark

    spark = get_spark()
    try:
        landed = discover(work / "raw")[: args.files]
        paths = [f.location for f in landed]
        size_gib = sum(f.size_bytes for f in landed) / (1 << 30)
        print(json.dumps({"files": len(landed), "gib": round(size_gib, 3)}), flush=True)
        for key in ("spark.sql.files.maxPartitionBytes", "spark.sql.files.openCostInBytes"):
            spark.conf.set(key, str(1 << 40))  # one partition per file, as the loader reads

        def timed(part: str, run: Callable[[], object]) -> None:
            started = time.monotonic()
            run()
            print(json.dumps({"part": part, "wall_s": round(time.monotonic() - started, 1)}), flush=True)

        def bare_parse() -> None:
            options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_COLUMN}
            parsed = spark.read.text(paths).select(
                F.from_json(F.col("value"), PARSE_SCHEMA, options).alias("p")
            )
            parsed.select(F.sum(F.hash(F.col("p")))).first()

        def loader_parse():  # the columns the loader's persisted frame holds
            lines = (
                spark.read.option("lineSep", "\n")
                .text(paths)
                .select(
                    F.col("value"),
                    F.col("_metadata.file_path").alias("_source_file"),
                    (F.monotonically_increasing_id().bitwiseAND(F.lit((1 << 33) - 1)) + 1).alias(
                        "_source_line"
                    ),
                )
            )
            return parsed_batch(lines, "b000000000001", datetime.now(UTC).replace(tzinfo=None))

        def to_delta(frame) -> None:
            spark.sql(f"drop table if exists {SCRATCH_TABLE}")
            kept = frame.where(F.col("_reject_reason").isNull()).drop(
                "_reject_reason", "_raw_line", "_unknown_fields"
            )
            kept.createOrReplaceTempView("profile_kept")
            spark.sql(
                f"create table {SCRATCH_TABLE} using delta tblproperties "
                f"('delta.dataSkippingStatsColumns' = '{STATS_COLUMNS}') as select * from profile_kept"
            )

        timed("bare parse (JIT warm-up)", bare_parse)
        timed("bare parse", bare_parse)
        timed("survey: hash + line count", lambda: survey_all(landed, {}, spark))
        timed(
            "loader parse with reasons and lineage, noop",
            lambda: loader_parse().write.format("noop").mode("overwrite").save(),
        )
        persisted = loader_parse().persist(StorageLevel.DISK_ONLY)
        timed("loader parse, persisted to local disk", persisted.count)
        timed("kept rows from the persisted frame to Delta", lambda: to_delta(persisted))
        persisted.unpersist()
        timed("kept rows straight from the parse to Delta (one pass)", lambda: to_delta(loader_parse()))
        spark.sql(f"drop table if exists {SCRATCH_TABLE}")
        ensure_tables(spark)
        timed("whole ingest() on an empty raw layer", lambda: ingest(spark, landed))
    finally:
        stop_spark()
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
