"""Queries through a Spark Thrift server, the way dbt's ``thrift`` method and BI tools reach the cluster.

PyHive is the client dbt-spark itself uses for that method (the ``PyHive`` extra in pyproject.toml),
so a query here travels exactly the path a model's SQL does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sparkify.runtime.settings import SettingsError, active_target

# The Thrift server's sessions start with the Java 8 time API on, yet its result conversion casts a
# date to java.sql.Date: any query answered with java.time values (a lone ``max(date_column)`` of a
# Delta table, which Delta answers from its file statistics) then fails with "LocalDate cannot be
# cast to java.sql.Date" (seen with pyspark 4.1.4 and Delta 4.x). Off, dates come back as they should.
SESSION_SETTINGS = ("set spark.sql.datetime.java8API.enabled=false",)


@dataclass(frozen=True)
class ThriftEndpoint:
    host: str
    port: int
    user: str


def endpoint() -> ThriftEndpoint:
    """The Thrift server of the ``cluster`` target in profiles.yml (host and port from the environment)."""
    target = active_target("cluster")
    if target.host is None or target.port is None:
        raise SettingsError("the cluster target in profiles.yml names no Thrift host and port")
    return ThriftEndpoint(target.host, target.port, os.environ.get("SPARKIFY_THRIFT_USER", "sparkify"))


def query(
    sql: str, where: ThriftEndpoint | None = None, max_rows: int | None = None
) -> tuple[list[str], list[Sequence[Any]]]:
    """Run one statement; return the column names and its rows (at most ``max_rows``)."""
    from pyhive import hive

    where = where or endpoint()
    connection = hive.connect(host=where.host, port=where.port, username=where.user, auth="NONE")
    try:
        cursor = connection.cursor()
        for setting in SESSION_SETTINGS:
            cursor.execute(setting)
        cursor.execute(sql)
        columns = [column[0].split(".")[-1] for column in cursor.description or []]
        if not columns:
            rows: list[Sequence[Any]] = []
        elif max_rows is None:
            rows = cursor.fetchall()
        else:
            rows = cursor.fetchmany(max_rows)
        return columns, rows
    finally:
        connection.close()
