"""What knowing files by content costs: the survey pass (SHA-256 + line count + integrity) per GiB.

``python -m bench.survey_cost DIR [--repeats N]`` times ``sparkify.ingest.survey.survey_all`` over
every log file under DIR (no Spark: the pass runs before Spark reads anything), and a plain read of
the same bytes for reference, alternating, and prints the medians, the throughput and the seconds
it would take for the 12 GB full-scale log (11.4 GiB) as JSON on its last line. Run it twice on
the same folder first if the page cache should be warm for both.

``--filesystem hadoop`` lists and reads the files through Hadoop's FileSystem API of a Spark driver
(the route of ``hdfs://`` and ``s3a://`` landings, taken here on ``file:``), to price that route
against the local one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from sparkify.ingest.files import discover
from sparkify.ingest.survey import BLOCK, survey_all

FULL_SCALE_GIB = 11.4


def _plain_read(paths: list[str]) -> None:
    for path in paths:
        with open(path, "rb") as handle:
            while handle.read(BLOCK):
                pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--filesystem", choices=("local", "hadoop"), default="local")
    args = parser.parse_args()
    os.environ["SPARKIFY_FILESYSTEM"] = args.filesystem
    spark = None
    if args.filesystem == "hadoop":
        from sparkify.runtime.spark import get_spark

        spark = get_spark()
    landed = discover(args.folder, spark)
    gib = sum(f.size_bytes for f in landed) / (1 << 30)
    timings: dict[str, list[float]] = {"read": [], "survey": []}
    for _ in range(args.repeats):
        started = time.perf_counter()
        _plain_read([f.location.removeprefix("file:") for f in landed])
        timings["read"].append(time.perf_counter() - started)
        started = time.perf_counter()
        surveyed = survey_all(landed, {}, spark)
        timings["survey"].append(time.perf_counter() - started)
        assert not any(s.problem for s in surveyed.values())
    medians = {name: statistics.median(values) for name, values in timings.items()}
    print(
        json.dumps(
            {
                "files": len(landed),
                "filesystem": args.filesystem,
                "gib": round(gib, 3),
                "median_s": {k: round(v, 2) for k, v in medians.items()},
                "survey_gib_per_s": round(gib / medians["survey"], 2),
                "survey_s_at_full_scale": round(FULL_SCALE_GIB * medians["survey"] / gib, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
