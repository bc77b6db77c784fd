"""Order-free fingerprints of tables: row count and a content hash, to prove two builds equal.

A refactor that must not change the marts, a cluster build that must equal the embedded one, an
incremental build that must equal a full refresh: each compares fingerprints. The hash is the sum
of a 64-bit hash of every row over its columns taken in name order, so it ignores row order and
column order, and differs when any value of any row differs (up to hash collisions). Doubles are
rounded first (9 decimals by default): a sum of doubles depends on the order Spark adds them in,
so two correct builds may differ in the last bits of one value.

The hash is one SQL statement per table, run on the active target (``target_sql``): on a cluster
it goes through the Thrift server's warm executors, so fingerprinting a warehouse starts no Spark
application of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sparkify.runtime import target_sql
from sparkify.runtime.sql_values import checked

DOUBLE_DECIMALS = 9
INEXACT_TYPES = frozenset({"double", "float"})
# Columns that record when or by which run a row was written, not what it says (the staged events
# carry the time of their ingest): two builds of the same data differ there and nowhere else.
RUN_COLUMNS = frozenset(
    {"scored_at", "ingested_at", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to", "dbt_scd_id"}
)


@dataclass(frozen=True)
class Fingerprint:
    """What a table holds, reduced to two numbers."""

    table: str
    rows: int
    content_hash: str

    def line(self) -> str:
        return f"{self.table:<45} {self.rows:>12,} rows  hash {self.content_hash}"


def columns(table: str) -> list[tuple[str, str]]:
    """``(name, type)`` of each column of ``table``, in table order (``describe``'s first block)."""
    described: list[tuple[str, str]] = []
    for row in target_sql.rows(f"describe table {checked(table, 'table name')}"):
        name = str(row[0] or "").strip()
        if not name or name.startswith("#"):  # the partitioning and detail blocks follow
            break
        described.append((name, str(row[1]).strip().lower()))
    return described


def fingerprint_sql(table: str, described: list[tuple[str, str]], decimals: int = DOUBLE_DECIMALS) -> str:
    """The statement that counts ``table``'s rows and sums a 64-bit hash of each over ``described``."""
    values = [
        f"round(`{name}`, {decimals})" if kind in INEXACT_TYPES else f"`{name}`"
        for name, kind in sorted(described)
    ]
    row_hash = f"cast(xxhash64({', '.join(values)}) as decimal(38,0))"
    return f"select count(1), cast(sum({row_hash}) as string) from {checked(table, 'table name')}"


def fingerprint(
    table: str, ignore: frozenset[str] = frozenset(), decimals: int = DOUBLE_DECIMALS
) -> Fingerprint:
    """Fingerprint ``table`` (``schema.name``), leaving out the columns in ``ignore``."""
    described = [(name, kind) for name, kind in columns(table) if name not in ignore]
    rows, content = target_sql.rows(fingerprint_sql(table, described, decimals))[0]
    return Fingerprint(table, int(rows), str(content or 0))


def schema_fingerprints(schema: str, ignore: frozenset[str] = frozenset()) -> list[Fingerprint]:
    """Fingerprints of every table and view (not temporary views) in ``schema``, by name."""
    listed = target_sql.rows(f"show tables in {checked(schema, 'schema name')}")
    names = sorted(str(row[1]) for row in listed if not row[2])
    return [fingerprint(f"{schema}.{name}", ignore) for name in names]


def fingerprints_of(schemas: Iterable[str], ignore: frozenset[str] = frozenset()) -> list[Fingerprint]:
    """:func:`schema_fingerprints` of each schema in turn: a warehouse compared as one list."""
    return [table for schema in schemas for table in schema_fingerprints(schema, ignore)]
