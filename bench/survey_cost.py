"""What knowing files by content costs: the survey pass (SHA-256 + line count + integrity) per GiB.

``python -m bench.survey_cost DIR [--repeats N]`` times ``sparkify.ingest.survey.survey_all`` over
every log file under DIR (no Spark: the pass runs before Spark reads anything), and a plain read of
the same bytes for reference, alternating, and prints the medians, the throughput and the seconds
it would take for the 12 GB full-scale log (11.4 GiB) as JSON on its last line. Run it twice on
the same folder first if the page cache should be warm for both.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from sparkify.ingest.files import discover
from sparkify.ingest.survey import BLOCK, survey_all

FULL_SCALE_GIB = 11.4


def _plain_read(paths: list[Path]) -> None:
    for path in paths:
        with open(path, "rb") as handle:
            while handle.read(BLOCK):
                pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    landed = discover(args.folder)
    gib = sum(f.size_bytes for f in landed) / (1 << 30)
    timings: dict[str, list[float]] = {"read": [], "survey": []}
    for _ in range(args.repeats):
        started = time.perf_counter()
        _plain_read([f.location for f in landed])
        timings["read"].append(time.perf_counter() - started)
        started = time.perf_counter()
        surveyed = survey_all(landed, {})
        timings["survey"].append(time.perf_counter() - started)
        assert not any(s.problem for s in surveyed.values())
    medians = {name: statistics.median(values) for name, values in timings.items()}
    print(
        json.dumps(
            {
                "files": len(landed),
                "gib": round(gib, 3),
                "median_s": {k: round(v, 2) for k, v in medians.items()},
                "survey_gib_per_s": round(gib / medians["survey"], 2),
                "survey_s_at_full_scale": round(FULL_SCALE_GIB * medians["survey"] / gib, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
