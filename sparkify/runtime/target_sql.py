"""Small statements about the warehouse's own tables, run where the active target keeps them.

``sparkify build`` reads and writes a little bookkeeping around dbt (which batches the event
tests must read, whether a reingest asks for a full refresh). On the embedded default those
statements run in the command's Spark session, the one dbt shares. On the cluster they go
through the Thrift server, as dbt's own statements do: its executors are already running and
warm, so a build starts no Spark application of its own. Measured 2026-12-07 on the test
cluster: a new application's first read of the staging table took 46 s of a 185 s build that had
nothing new to build, for a one-column maximum the warm server answers in a few seconds.

Values reach the statements only through ``sql_values`` (checked, then quoted).
"""

from __future__ import annotations

from typing import Any

from sparkify.runtime.settings import active_target
from sparkify.runtime.sql_values import checked, string_literal


def result(statement: str, max_rows: int | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The column names and rows (at most ``max_rows``) ``statement`` returns on the active target.

    A statement that returns nothing (DDL, ``alter table``) gives no columns and no rows. Errors are
    the engine's own: Spark's exceptions on the embedded default, PyHive's ``DatabaseError`` through
    the Thrift server; ``sparkify sql`` turns either into one line.
    """
    if active_target().is_embedded:
        from sparkify.runtime.spark import get_spark

        frame = get_spark().sql(statement)  # commands run here, eagerly
        if not frame.columns:
            return [], []
        limited = frame if max_rows is None else frame.limit(max_rows)
        return list(frame.columns), [tuple(row) for row in limited.collect()]
    from sparkify.runtime.thrift import query

    columns, fetched = query(statement, max_rows=max_rows)
    return columns, [tuple(row) for row in fetched]


def rows(statement: str) -> list[tuple[Any, ...]]:
    """The rows ``statement`` returns on the active target (none for a statement that returns none)."""
    return result(statement)[1]


def table_exists(table: str) -> bool:
    """Whether ``schema.table`` exists (False when its schema does not)."""
    schema, name = checked(table, "table name").split(".")
    if not rows(f"show schemas like {string_literal(schema)}"):
        return False
    return bool(rows(f"show tables in {schema} like {string_literal(name)}"))


def table_properties(table: str) -> dict[str, str]:
    """The table's properties (``show tblproperties``), Delta's own among them."""
    listed = rows(f"show tblproperties {checked(table, 'table name')}")
    return {str(row[0]): str(row[1]) for row in listed}


def set_table_property(table: str, key: str, value: str) -> None:
    """Set one property of ``table`` (a Delta commit that changes no data)."""
    rows(
        f"alter table {checked(table, 'table name')} "
        f"set tblproperties ({string_literal(key)} = {string_literal(value)})"
    )
