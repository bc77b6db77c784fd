"""Order-free fingerprints of tables: row count and a content hash, to prove two builds equal.

A refactor that must not change the marts, a cluster build that must equal the embedded one, an
incremental build that must equal a full refresh: each compares fingerprints. The hash is the sum
of a 64-bit hash of every row over its columns taken in name order, so it ignores row order and
column order, and differs when any value of any row differs (up to hash collisions). Doubles are
rounded first (9 decimals by default): a sum of doubles depends on the order Spark adds them in,
so two correct builds may differ in the last bits of one value.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

DOUBLE_DECIMALS = 9


@dataclass(frozen=True)
class Fingerprint:
    """What a table holds, reduced to two numbers."""

    table: str
    rows: int
    content_hash: str

    def line(self) -> str:
        return f"{self.table:<45} {self.rows:>12,} rows  hash {self.content_hash}"


def _comparable(field: T.StructField, decimals: int) -> Column:
    column = F.col(f"`{field.name}`")
    if isinstance(field.dataType, T.DoubleType | T.FloatType):
        return F.round(column, decimals)
    return column


def fingerprint(
    spark: SparkSession, table: str, ignore: frozenset[str] = frozenset(), decimals: int = DOUBLE_DECIMALS
) -> Fingerprint:
    """Fingerprint ``table`` (a name, or ``delta.`path```), leaving out the columns in ``ignore``."""
    frame = spark.table(table)
    fields = sorted(
        (field for field in frame.schema.fields if field.name not in ignore), key=lambda f: f.name
    )
    row_hash = F.xxhash64(*[_comparable(field, decimals) for field in fields]).cast("decimal(38,0)")
    row = frame.select(F.count(F.lit(1)).alias("rows"), F.sum(row_hash).alias("hash")).first()
    return Fingerprint(table, int(row["rows"]), str(row["hash"] or 0))


def schema_fingerprints(
    spark: SparkSession, schema: str, ignore: frozenset[str] = frozenset()
) -> list[Fingerprint]:
    """Fingerprints of every table (not view) in ``schema``, by name."""
    names = sorted(
        row.tableName for row in spark.sql(f"show tables in {schema}").collect() if not row.isTemporary
    )
    return [fingerprint(spark, f"{schema}.{name}", ignore) for name in names]
