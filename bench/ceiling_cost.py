"""What the observable ceiling costs: milliseconds per (user, as-of date) of the Bayes filter.

``python -m bench.ceiling_cost LANDING [--dates N] [--first-day D] [--repeats R]`` loads the
generator's ground truth and emissions from a landing folder written by ``sparkify generate``, asks
the ceiling for every user at N consecutive as-of days from day D (a user's dates in turn, as
training asks them), and prints the median of R timed passes as JSON on its last line. No Spark.
Each pass starts from a fresh ceiling, so the per-user terms are computed inside the timing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import timedelta
from pathlib import Path

from sparkify.generator.ceiling import load_observable_ceiling
from sparkify.generator.truth import load_ground_truth

HORIZON_DAYS = 7


def _one_pass(landing: Path, dates: int, first_day: int) -> tuple[int, float]:
    truth = load_ground_truth(landing)
    ceiling = load_observable_ceiling(landing, truth)
    if ceiling is None:
        raise SystemExit(f"{landing} has no _ground_truth/emissions.csv: generate it with this version")
    started = time.perf_counter()
    rows = 0
    for user in truth.users:
        for day in range(first_day, first_day + dates):
            ceiling.oracle_probability(user, truth.population_start + timedelta(days=day), HORIZON_DAYS)
            rows += 1
    return rows, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("landing", type=Path)
    parser.add_argument("--dates", type=int, default=7)
    parser.add_argument("--first-day", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    passes = [_one_pass(args.landing, args.dates, args.first_day) for _ in range(args.repeats)]
    rows = passes[0][0]
    per_row_ms = [seconds / rows * 1000 for _, seconds in passes]
    print(
        json.dumps(
            {
                "rows": rows,
                "ms_per_row": [round(value, 3) for value in per_row_ms],
                "median_ms_per_row": round(statistics.median(per_row_ms), 3),
                "median_s": round(statistics.median(seconds for _, seconds in passes), 2),
            }
        )
    )


if __name__ == "__main__":
    main()
