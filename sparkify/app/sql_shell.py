"""``sparkify sql``: run Spark SQL statements against the warehouse and print their results.

On the embedded target the query runs in this process's Spark; on the cluster target it goes
through the Thrift server, as a BI tool's or beeline's would, so an analyst starts no Spark
application of their own and never waits for a build to release anything. Several statements
run in order in one process, so a script that asks three questions starts one JVM, not three.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

from pyspark.errors import PySparkException
from pyspark.errors.exceptions.captured import CapturedException

from sparkify.runtime import target_sql
from sparkify.runtime.errors import UsageError, one_line


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


def _records(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    return [{c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in rows]


def write_result(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str, out: TextIO) -> None:
    """Write rows in the chosen format: ``table`` for people, ``csv`` and ``json`` for scripts."""
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_plain(v) for v in row] for row in rows])
    elif fmt == "json":
        out.write(json.dumps(_records(columns, rows), indent=1) + "\n")
    else:
        out.write(format_table(columns, rows) + "\n")


def _fetched(query: str, limit: int) -> tuple[list[str], list[tuple]]:
    """Columns and up to ``limit + 1`` rows (one more tells a truncated result); errors in one line."""
    from pyhive.exc import DatabaseError

    try:
        return target_sql.result(query, max_rows=limit + 1)
    except (CapturedException, PySparkException) as exc:
        raise UsageError(one_line(exc)) from None
    except DatabaseError as exc:
        raise UsageError(_server_message(exc)) from None


_JAVA_CLASS = re.compile(r"(?:org|java)\.[\w.$]+(?:Exception|Error)?:\s*")


def _server_message(exc: Exception) -> str:
    """The server's own message in one line: PyHive wraps it in the Thrift status, Java class names
    and the plan come with it, and its line breaks arrive escaped."""
    text = str(exc)
    marker = "errorMessage="
    if marker in text:
        text = text[text.index(marker) + len(marker) :].lstrip("\"'")
    text = _JAVA_CLASS.sub("", text.replace("Error running query: ", ""))
    lines = []
    for piece in (part.strip() for part in text.split("\\n")):
        if piece.startswith(("==", ":")):
            break
        if piece:
            lines.append(piece)
    # "[CODE] " alone, then "[CODE] the message": keep the message.
    message = next((line for line in lines if not re.fullmatch(r"\[[A-Z_.]+\]", line)), "the query failed")
    message = re.sub(r"^(\[[A-Z_.]+\]) \1", r"\1", message)
    return one_line(Exception(message.rstrip("\"' ;")))


def run_queries(
    queries: Sequence[str], fmt: str = "table", limit: int = 1000, out: TextIO | None = None
) -> int:
    """Execute ``queries`` in order, in one session, and print each result.

    With several statements, tables and CSV blocks are separated by a blank line, and JSON is one
    array whose i-th element is the i-th statement's rows, so a script parses one document (written
    once every statement has run). A failing statement stops the run and its error names it
    (``statement 2 of 3: ...``).
    """
    out = out or sys.stdout
    several = len(queries) > 1
    documents = []
    for number, query in enumerate(queries, start=1):
        label = f"statement {number} of {len(queries)}: " if several else ""
        try:
            columns, rows = _fetched(query, limit)
        except UsageError as exc:
            raise UsageError(f"{label}{exc}") from None
        if len(rows) > limit:
            print(f"({label}showing the first {limit} rows; use --limit to see more)", file=sys.stderr)
            rows = rows[:limit]
        if fmt == "json" and several:
            documents.append(_records(columns, rows))
            continue
        if number > 1:
            out.write("\n")
        write_result(columns, rows, fmt, out)
    if documents:
        out.write(json.dumps(documents, indent=1) + "\n")
    return 0
