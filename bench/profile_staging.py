"""Where the first build of ``stg_sparkify__events`` spends its time, part by part.

Run after a benchmark, on its lakehouse: ``python -m bench.profile_staging --work lakehouse/bench/full``.
It takes the model's SQL as dbt compiled it in that run (full-build form: the incremental filter
is dropped), restricts the raw table to the first ``--files`` log files, and times each part
cumulatively, in one JVM: scan, renames, user agents and event id, the dedup window, and the
Delta write with and without file statistics. Spark's ``noop`` sink runs a query without writing.
Each result is printed as one JSON line; the table in BENCHMARKS.md ("Staging events") came from it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

COMPILED = "dbt-target/compiled/sparkify/models/staging/sparkify/stg_sparkify__events.sql"
SCRATCH_TABLE = "default.profile_stg_sparkify__events"
# The columns the model keeps Delta statistics on (its tblproperties).
STATS_COLUMNS = "user_id,session_id,event_ts,page,batch_id"


def model_sql(work: Path) -> str:
    """The compiled model reading the ``src`` view, without the incremental filter."""
    sql = (work / COMPILED).read_text()
    sql = re.sub(r"where _batch_id >.*\n", "\n", sql)
    return sql.replace("raw.sparkify_events", "src")


def up_to(sql: str, cte: str) -> str:
    """The model's CTEs before ``cte``, then ``select *`` of the last one kept."""
    head = sql[: sql.index(f"{cte} as (")].rstrip().rstrip(",")
    last = re.findall(r"^(\w+) as \($", head, flags=re.MULTILINE)[-1]
    return f"{head}\nselect * from {last}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile_staging", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--work", type=Path, required=True, help="a benchmark's folder, e.g. lakehouse/bench/full"
    )
    parser.add_argument("--files", type=int, default=6, help="how many raw log files to read (default 6)")
    args = parser.parse_args(argv)
    work = args.work.absolute()
    os.environ["SPARKIFY_LAKEHOUSE"] = str(work / "lakehouse")

    from sparkify.runtime.spark import get_spark, stop_spark

    spark = get_spark()
    try:
        files = [
            row[0]
            for row in spark.sql(
                f"select distinct _source_file from raw.sparkify_events order by 1 limit {args.files}"
            ).collect()
        ]
        quoted = ", ".join("'" + name.replace("'", "''") + "'" for name in files)
        spark.sql(
            f"select * from raw.sparkify_events where _source_file in ({quoted})"
        ).createOrReplaceTempView("src")
        sql = model_sql(work)
        print(json.dumps({"files": len(files), "rows": spark.table("src").count()}), flush=True)

        def timed(part: str, run: Callable[[], None]) -> None:
            started = time.monotonic()
            run()
            print(json.dumps({"part": part, "wall_s": round(time.monotonic() - started, 1)}), flush=True)

        def to_noop(query: str) -> Callable[[], None]:
            return lambda: spark.sql(query).write.format("noop").mode("overwrite").save()

        def to_delta(query: str, statistics: str) -> Callable[[], None]:
            def run() -> None:
                spark.sql(f"drop table if exists {SCRATCH_TABLE}")
                spark.sql(
                    f"create table {SCRATCH_TABLE} using delta partitioned by (event_date)"
                    f" tblproperties ({statistics}) as {query}"
                )

            return run

        timed("scan (JIT warm-up)", to_noop("select * from src"))
        timed("scan", to_noop("select * from src"))
        timed("renames, timestamps, city/state", to_noop(up_to(sql, "enriched")))
        timed("+ user agents, event id", to_noop(up_to(sql, "deduplicated")))
        timed("+ dedup window (whole model)", to_noop(sql))
        every_column = "'delta.dataSkippingNumIndexedCols' = '32'"
        filtered_columns = f"'delta.dataSkippingStatsColumns' = '{STATS_COLUMNS}'"
        no_dedup = up_to(sql, "deduplicated")
        timed("whole model to Delta, statistics on 5 columns", to_delta(sql, filtered_columns))
        timed("no dedup, to Delta, statistics on every column", to_delta(no_dedup, every_column))
        timed("no dedup, to Delta, statistics on 5 columns", to_delta(no_dedup, filtered_columns))
        spark.sql(f"drop table if exists {SCRATCH_TABLE}")
    finally:
        stop_spark()
    return 0


if __name__ == "__main__":
    sys.exit(main())
