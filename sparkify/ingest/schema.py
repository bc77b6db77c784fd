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

# Personal names are parsed (a line must still be valid) but never stored: nothing downstream
# needs them, and a warehouse that does not hold them cannot leak them.
NAME_FIELDS = ("firstName", "lastName")
STORED_EVENT_COLUMNS = tuple(name for name in EVENT_COLUMNS if name not in NAME_FIELDS)

# Without these an event cannot be placed in a session or a page count; userId may be "".
REQUIRED_FIELDS = ("ts", "userId", "sessionId", "page", "auth", "level", "itemInSession")

EVENT_SCHEMA = T.StructType([T.StructField(name, kind) for name, kind in EVENT_FIELDS])

# The canonical spelling, parsed first: every line of a log in the format's own types parses once.
PARSE_SCHEMA = T.StructType([*EVENT_SCHEMA.fields, T.StructField(CORRUPT_COLUMN, T.StringType())])

# Real logs also write numbers in other ways: an integer as 1540919166796.0, 1.540919166796E12 or
# "1540919166796"; length as "200.5". A line that does not parse in the canonical types is parsed
# again with the numbers as exact decimals (Spark's JSON reader takes every one of those spellings
# into a decimal, and flags text, booleans and overflow as corrupt); ingest.parse then checks that
# the integers are integral. userId is text in both (a JSON number arrives as its text: 39, 39.0).
INTEGER_FIELDS = ("ts", "sessionId", "status", "itemInSession", "registration")
DECIMAL_READ_FIELDS = (*INTEGER_FIELDS, "length")
EXACT_DECIMAL = T.DecimalType(38, 18)  # every bigint, and enough places to see a fraction
DIALECT_PARSE_SCHEMA = T.StructType(
    [
        T.StructField(name, EXACT_DECIMAL if name in DECIMAL_READ_FIELDS else kind)
        for name, kind in EVENT_FIELDS
    ]
    + [T.StructField(CORRUPT_COLUMN, T.StringType())]
)

LINEAGE_DDL = "_source_file string, _source_line bigint, _ingested_at timestamp, _batch_id string"
# The batch whose commit put a row in the events table: its ingestion batch, or for a quarantined
# line recovered later the replay's batch. Incremental models read new rows by it; _batch_id keeps
# the line's original lineage.
LOADED_BATCH_COLUMN = "_loaded_batch_id"
EVENTS_DDL = (
    ", ".join(
        f"{f.name} {f.dataType.simpleString()}" for f in EVENT_SCHEMA.fields if f.name in STORED_EVENT_COLUMNS
    )
    + ", "
    + LINEAGE_DDL
    + f", {LOADED_BATCH_COLUMN} string"
)
REJECTED_DDL = "_raw_line string, _reject_reason string, " + LINEAGE_DDL
# One row per decision about a file: its content as seen (size, SHA-256), what was done (status:
# ingested, failed, duplicate, changed), why (reason), and for an ingested file the lines read in
# that batch (first_line .. first_line + lines_read - 1: a file that grew is read from where it ended).
LEDGER_DDL = (
    "source_file string, size_bytes bigint, modified_at timestamp, lines_read bigint, rows_kept bigint, "
    "rows_rejected bigint, batch_id string, ingested_at timestamp, content_sha256 string, status string, "
    "reason string, first_line bigint, duplicate_of string"
)
# The commit record of every batch that wrote the raw layer (ingest or replay), in the order the
# ledger assigned: rows of a batch id above the last one here are leftovers of a crash.
BATCHES_DDL = "batch_seq bigint, batch_id string, kind string, files bigint, started_at timestamp"
