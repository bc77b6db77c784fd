"""Parse raw lines with the explicit schema and say why a line cannot be kept."""

from __future__ import annotations

import operator
from datetime import UTC, datetime, timedelta
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sparkify.ingest.schema import CORRUPT_COLUMN, EVENT_COLUMNS, PARSE_SCHEMA, REQUIRED_FIELDS

EARLIEST_TS_MS = int(datetime(2000, 1, 1, tzinfo=UTC).timestamp() * 1000)
FUTURE_SLACK = timedelta(days=1)


def reject_reason(now: datetime | None = None) -> Column:
    """Why a parsed line is rejected, or null when it is kept.

    ``from_json`` in PERMISSIVE mode fills the corrupt-record column both for text that is not
    JSON and for values of the wrong type; a line whose every field came back null was not
    JSON at all. The text reader keeps a line's bytes as they are, so invalid UTF-8 is tested
    explicitly (the log's own mojibake, such as ``MÃÂ¶tley``, is valid UTF-8 and is kept).
    """
    latest_ms = int(((now or datetime.now(UTC)) + FUTURE_SLACK).timestamp() * 1000)
    parsed = F.col("parsed")
    any_field = reduce(operator.or_, [parsed[name].isNotNull() for name in EVENT_COLUMNS])
    all_null = ~any_field
    reason = (
        F.when(F.trim(F.col("value")) == "", F.lit("empty_line"))
        .when(~F.expr("is_valid_utf8(value)"), F.lit("invalid_utf8"))
        .when(parsed.isNull() | (parsed[CORRUPT_COLUMN].isNotNull() & all_null), F.lit("malformed_json"))
        .when(parsed[CORRUPT_COLUMN].isNotNull(), F.lit("type_mismatch"))
        .when(parsed["ts"].isNull(), F.lit("missing_ts"))
        .when((parsed["ts"] < EARLIEST_TS_MS) | (parsed["ts"] > latest_ms), F.lit("ts_out_of_range"))
    )
    for name in REQUIRED_FIELDS:
        if name != "ts":
            reason = reason.when(parsed[name].isNull(), F.lit(f"missing_{name}"))
    return reason


def parse_lines(lines: DataFrame, now: datetime | None = None) -> DataFrame:
    """``value`` (one raw line) + lineage -> parsed struct and ``_reject_reason``."""
    return lines.select(
        "*",
        F.from_json(
            F.col("value"), PARSE_SCHEMA, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_COLUMN}
        ).alias("parsed"),
    ).select("*", reject_reason(now).alias("_reject_reason"))
