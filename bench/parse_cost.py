"""What taking every dialect of the log costs: ingestion's parse against a strict one.

``python -m bench.parse_cost DIR [--against REV] [--repeats N]`` reads every log file under DIR and,
alternating in one JVM, times each parse of every line, forced to materialise every field and the
reject reason:

- bare: ``from_json`` with the fields' own types, nothing else (the machine's limit);
- REV (with ``--against``): ``parse_lines`` of ``sparkify/ingest/parse.py`` as it was at that git
  revision (before the parser took dialects: f043256);
- current: today's ``sparkify.ingest.parse.parse_lines``.

It prints the medians and the ratios to the bare parse and to REV as JSON on its last line.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkify.ingest.files import discover
from sparkify.ingest.parse import parse_lines
from sparkify.ingest.schema import CORRUPT_COLUMN, PARSE_SCHEMA
from sparkify.runtime.settings import lakehouse_dir, project_dir
from sparkify.runtime.spark import get_spark, stop_spark

STRICT_SCHEMA = PARSE_SCHEMA  # the format's own types


def _bare(lines: DataFrame) -> DataFrame:
    options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_COLUMN}
    parsed = F.from_json(F.col("value"), STRICT_SCHEMA, options)
    return lines.select(parsed.alias("parsed"), parsed[CORRUPT_COLUMN].alias("_reject_reason"))


def _parser_at(revision: str) -> Callable[[DataFrame], DataFrame]:
    """``parse_lines`` as committed at ``revision``, loaded from its source."""
    source = subprocess.run(
        ["git", "show", f"{revision}:sparkify/ingest/parse.py"],
        cwd=project_dir(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = lakehouse_dir() / "tmp" / f"parse_at_{revision}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"parse_at_{revision}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.parse_lines


def _timed(frame: DataFrame) -> float:
    started = time.monotonic()
    frame.select(F.sum(F.hash(F.col("parsed"), F.col("_reject_reason")))).first()
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.parse_cost")
    parser.add_argument("folder", type=Path)
    parser.add_argument(
        "--against", metavar="REV", help="also time parse_lines as it was at this git revision"
    )
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    spark = get_spark()
    try:
        lines = spark.read.text([f.location for f in discover(args.folder)])
        parsers: dict[str, Callable[[DataFrame], DataFrame]] = {"bare": _bare}
        if args.against:
            parsers[args.against] = _parser_at(args.against)
        parsers["current"] = parse_lines
        times: dict[str, list[float]] = {name: [] for name in parsers}
        for _ in range(args.repeats):
            for name, parse in parsers.items():
                times[name].append(round(_timed(parse(lines)), 2))
        medians = {name: round(statistics.median(values), 2) for name, values in times.items()}
        ratios = {f"current/{name}": round(medians["current"] / medians[name], 3) for name in medians}
        print(json.dumps({"medians_s": medians, **ratios, "runs": times}))
    finally:
        stop_spark()
    return 0


if __name__ == "__main__":
    sys.exit(main())
