"""Parse raw lines, take every real dialect of the log's fields, and say why a line cannot be kept.

Every line is parsed with the format's own types. Only a line that does not parse that way is
parsed a second time, with the numbers as exact decimals, so that an integer written as an integral
float (``1540919166796.0``, ``1.540919166796E12``) or as a numeric string is that integer, and a
numeric ``userId`` or ``length`` string is taken; ``12.5`` for an id, ``"x"`` or ``true`` is still a
``type_mismatch``. A log in the canonical spelling pays for the tolerance almost nothing; a log in
another spelling is parsed twice. A UTF-8 byte-order mark at the start of a line is dropped first.
"""

from __future__ import annotations

import operator
from datetime import UTC, date, datetime
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sparkify.ingest.schema import (
    CORRUPT_COLUMN,
    DIALECT_PARSE_SCHEMA,
    EVENT_COLUMNS,
    EVENT_FIELDS,
    EXACT_DECIMAL,
    INTEGER_FIELDS,
    NAME_FIELDS,
    PARSE_SCHEMA,
    REQUIRED_FIELDS,
)
from sparkify.runtime.settings import project_var

BYTE_ORDER_MARK = "\ufeff"
BIGINT_RANGE = (-(1 << 63), (1 << 63) - 1)
# Fields a producer added or renamed show up in the keys of the first lines of each file: looking at
# every line would parse each line a second time.
KEY_SAMPLE_LINES = 100
# How Spark renders a JSON float it was asked to read as text: 39.0, 1.540919166796E12.
FLOAT_TEXT = r"^-?[0-9]+(\.[0-9]*)?[eE][+-]?[0-9]+$|^-?[0-9]+\.[0-9]*$"


def without_bom(value: Column) -> Column:
    """The line without a leading byte-order mark (editors and Windows tools write one)."""
    return F.when(value.startswith(BYTE_ORDER_MARK), F.substring(value, 2, 1 << 30)).otherwise(value)


def integral(number: Column) -> Column:
    """The bigint a decimal holds when it is integral and in range, else null (``12.5`` for an id)."""
    return F.when((number == F.floor(number)) & number.between(*BIGINT_RANGE), number.cast("bigint"))


def user_id(text: Column) -> Column:
    """``39`` and ``"39"`` are the same user; a float rendering (``39.0``) is normalised to ``39``.

    Only a text with a point or an exponent is tested (a cheap test first), and one that is not an
    integral number stays as it is: ids are names, not numbers.
    """
    maybe_float = (text.contains(".") | text.contains("E")) & text.rlike(FLOAT_TEXT)
    as_integer = integral(text.try_cast(EXACT_DECIMAL.simpleString())).cast("string")
    return F.when(maybe_float, F.coalesce(as_integer, text)).otherwise(text)


def _typed(name: str, canonical: Column, dialect: Column) -> Column:
    """A field in its event type: the canonical parse's value, or the dialect parse's, converted."""
    if name == "userId":  # text in both parses; a float rendering can come through either
        return user_id(F.when(dialect.isNotNull(), dialect[name]).otherwise(canonical[name])).alias(name)
    value = dialect[name]
    if name in INTEGER_FIELDS:
        converted = integral(value)
    elif name == "length":
        converted = value.cast("double")
    else:
        converted = value
    return F.when(dialect.isNotNull(), converted).otherwise(canonical[name]).alias(name)


def plausible_ts_range(bounds: tuple[str, str] | None = None) -> tuple[int, int]:
    """[first, last) plausible event time in ms, from the configuration (``plausible_event_dates``).

    Never from the clock of the run: the same line is kept or rejected the same way on any machine
    on any day. What is plausible but odd (one event years after the rest) is the data's business:
    the as-of spine ends at the last complete day of activity, not at the newest timestamp.
    """
    first, before = bounds or project_var("plausible_event_dates")
    to_ms = [
        int(datetime.combine(date.fromisoformat(d), datetime.min.time(), UTC).timestamp() * 1000)
        for d in (first, before)
    ]
    return to_ms[0], to_ms[1]


def masked_names(line: Column) -> Column:
    """The raw line with the values of the name fields replaced by ``*``: still a replayable line."""
    names = "|".join(NAME_FIELDS)
    return F.regexp_replace(line, r'("(?:' + names + r')"\s*:\s*)"(?:[^"\\]|\\.)*"', '$1"*"')


def trailing_content(line: Column) -> Column:
    """Text after the event's object: Spark's JSON reader ignores it, so it would be lost unseen.

    Two events on one line (a lone ``\r`` was their separator) or a truncated write followed by
    the next line's start are quarantined whole, so that nothing of them is dropped silently.
    An event is one flat object, so its line ends at its only ``}`` that a ``{`` follows. The
    regular expression runs only on a line with a ``}`` before its last byte: a byte search is
    nearly free, the expression on every line cost 5 s of the parse's 19 on 1.5 GiB (2026-12-05).
    """
    before_last_byte = F.substr(line.cast("binary"), F.lit(1), F.octet_length(line) - 1)
    inner_brace = F.contains(before_last_byte, F.lit(bytearray(b"}")))
    return ~F.rtrim(line).endswith("}") | (inner_brace & line.rlike(r"\}\s*\{"))


def reject_reason(bounds: tuple[str, str] | None = None) -> Column:
    """Why a parsed line is rejected, or null when it is kept.

    ``from_json`` in PERMISSIVE mode fills the corrupt-record column both for text that is not
    JSON and for values of the wrong type; a line whose every field came back null was not JSON at
    all. A type mismatch is one the dialect parse finds too, or an integer field holding a
    non-integral number. The text reader keeps a line's bytes as they are, so
    invalid UTF-8 is tested explicitly (the log's own mojibake, such as ``MÃÂ¶tley``, is valid
    UTF-8 and is kept).
    """
    earliest_ms, before_ms = plausible_ts_range(bounds)
    json, dialect, parsed, line = F.col("json"), F.col("dialect"), F.col("parsed"), F.col("line")
    all_null = ~reduce(
        operator.or_, [json[name].isNotNull() | dialect[name].isNotNull() for name in EVENT_COLUMNS]
    )
    not_integral = reduce(
        operator.or_, [dialect[name].isNotNull() & parsed[name].isNull() for name in INTEGER_FIELDS]
    )
    reason = (
        F.when(F.trim(line) == "", F.lit("empty_line"))
        .when(~F.expr("is_valid_utf8(line)"), F.lit("invalid_utf8"))
        .when(json.isNull() | (json[CORRUPT_COLUMN].isNotNull() & all_null), F.lit("malformed_json"))
        .when(trailing_content(line), F.lit("trailing_content"))
        .when(dialect[CORRUPT_COLUMN].isNotNull() | not_integral, F.lit("type_mismatch"))
        .when(parsed["ts"].isNull(), F.lit("missing_ts"))
        .when((parsed["ts"] < earliest_ms) | (parsed["ts"] >= before_ms), F.lit("ts_out_of_range"))
    )
    for name in REQUIRED_FIELDS:
        if name != "ts":
            reason = reason.when(parsed[name].isNull(), F.lit(f"missing_{name}"))
    return reason


def unknown_fields(line: Column, line_number: Column) -> Column:
    """Keys of the line that the log format does not have, on the first lines of a file (else null)."""
    known = F.array(*[F.lit(name) for name in EVENT_COLUMNS])
    return F.when(line_number <= KEY_SAMPLE_LINES, F.array_except(F.json_object_keys(line), known))


def parse_lines(lines: DataFrame, bounds: tuple[str, str] | None = None) -> DataFrame:
    """``value`` (one raw line) + lineage -> ``parsed`` (the typed event) and ``_reject_reason``.

    With a ``_source_line`` column, ``_unknown_fields`` lists the keys outside the format on each
    file's first lines, so that a renamed or new upstream field is counted per batch.
    """
    options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_COLUMN}
    canonical = lines.select("*", without_bom(F.col("value")).alias("line")).select(
        "*", F.from_json(F.col("line"), PARSE_SCHEMA, options).alias("json")
    )
    # Only a line that did not parse in the canonical types is parsed again (null for the rest).
    needs_dialect = F.col("json")[CORRUPT_COLUMN].isNotNull()
    with_json = canonical.select(
        "*", F.when(needs_dialect, F.from_json(F.col("line"), DIALECT_PARSE_SCHEMA, options)).alias("dialect")
    )
    typed = F.struct(*[_typed(name, F.col("json"), F.col("dialect")) for name, _ in EVENT_FIELDS])
    extra = (
        [unknown_fields(F.col("line"), F.col("_source_line")).alias("_unknown_fields")]
        if "_source_line" in lines.columns
        else []
    )
    return (
        with_json.select("*", typed.alias("parsed"), *extra)
        .select("*", reject_reason(bounds).alias("_reject_reason"))
        .drop("line", "json", "dialect")
    )
