"""The explicit schema of the Sparkify event log and of the bronze tables."""

from __future__ import annotations

from pyspark.sql import types as T

CORRUPT_COLUMN = "_corrupt_record"

# The 18 keys of the log, in the log's own order and types.
EVENT_FIELDS: tuple[tuple[str, T.DataType], ...] = (
    ("ts", T.LongType()),
    ("userId", T.StringType()),
    ("sessionId", T.LongType()),
    ("page", T.StringType()),
    ("auth", T.StringType()),
    ("method", T.StringType()),
    ("status", T.LongType()),
    ("level", T.StringType()),
    ("itemInSession", T.LongType()),
    ("location", T.StringType()),
    ("userAgent", T.StringType()),
    ("lastName", T.StringType()),
    ("firstName", T.StringType()),
    ("registration", T.LongType()),
    ("gender", T.StringType()),
    ("artist", T.StringType()),
    ("song", T.StringType()),
    ("length", T.DoubleType()),
)
EVENT_COLUMNS = tuple(name for name, _ in EVENT_FIELDS)

# Without these an event cannot be placed in a session or a page count; userId may be "".
REQUIRED_FIELDS = ("ts", "userId", "sessionId", "page", "auth", "level", "itemInSession")

EVENT_SCHEMA = T.StructType([T.StructField(name, kind) for name, kind in EVENT_FIELDS])
PARSE_SCHEMA = T.StructType([*EVENT_SCHEMA.fields, T.StructField(CORRUPT_COLUMN, T.StringType())])

LINEAGE_DDL = "_source_file string, _source_line bigint, _ingested_at timestamp, _batch_id string"
EVENTS_DDL = (
    ", ".join(f"{f.name} {f.dataType.simpleString()}" for f in EVENT_SCHEMA.fields) + ", " + LINEAGE_DDL
)
REJECTED_DDL = "_raw_line string, _reject_reason string, " + LINEAGE_DDL
LEDGER_DDL = (
    "source_file string, size_bytes bigint, modified_at timestamp, lines_read bigint, rows_kept bigint, "
    "rows_rejected bigint, batch_id string, ingested_at timestamp"
)
