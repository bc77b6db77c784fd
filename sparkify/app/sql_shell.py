"""``sparkify sql``: run one Spark SQL statement against the warehouse and print the result."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

from pyspark.errors import PySparkException
from pyspark.errors.exceptions.captured import CapturedException

from sparkify.runtime.errors import UsageError, one_line
from sparkify.runtime.spark import get_spark


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _text(value: Any) -> str:
    return "NULL" if value is None else str(_plain(value))


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A boxed, column-aligned table like the Spark shell's, numbers right-aligned."""
    cells = [[_text(value) for value in row] for row in rows]
    widths = [max([len(name)] + [len(row[i]) for row in cells]) for i, name in enumerate(columns)]
    numeric = [
        all(isinstance(row[i], int | float | Decimal) or row[i] is None for row in rows)
        for i in range(len(columns))
    ]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "| " + " | ".join(parts) + " |"

    return "\n".join([rule, line(list(columns)), rule, *(line(row) for row in cells), rule])


def write_result(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str, out: TextIO) -> None:
    """Write rows in the chosen format: ``table`` for people, ``csv`` and ``json`` for scripts."""
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_plain(v) for v in row] for row in rows])
    elif fmt == "json":
        out.write(
            json.dumps([{c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in rows], indent=1)
        )
        out.write("\n")
    else:
        out.write(format_table(columns, rows) + "\n")


def run_query(query: str, fmt: str = "table", limit: int = 1000, out: TextIO = sys.stdout) -> int:
    """Execute ``query``; a Spark analysis or parse error becomes a one-line ``UsageError``."""
    spark = get_spark()
    try:
        frame = spark.sql(query)
        columns = frame.columns
        rows = [tuple(row) for row in frame.limit(limit + 1).collect()] if columns else []
    except (CapturedException, PySparkException) as exc:
        raise UsageError(one_line(exc)) from None
    truncated = len(rows) > limit
    write_result(columns, rows[:limit], fmt, out)
    if truncated:
        print(f"(showing the first {limit} rows; use --limit to see more)", file=sys.stderr)
    return 0
