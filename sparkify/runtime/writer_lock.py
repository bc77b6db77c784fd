"""One writer at a time on the cluster target: an advisory lock in the metastore's PostgreSQL.

On the embedded default a file lock and Derby's own lock keep out a second process (lock.py).
On a cluster the steps may run on different machines and share no folder they can lock, but
they all share the metastore database. A PostgreSQL session-level advisory lock, held by a
connection this process keeps open for the whole command, is that shared lock: the server frees
it when the connection ends, so a writer that crashed, was killed with SIGKILL or lost its
machine frees it too, with no lease to expire and nothing to clean up.

Ingest, build, run and maintain take it exclusively. Score, validate and train take it shared:
they append records of their own (Delta retries their commits when two race), so several may run
together, but never beside a build that is rewriting what they read. Readers (``sparkify sql``,
the report, an analyst's JDBC client) take nothing and are never blocked.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sparkify.runtime.lock import MetastoreBusyError
from sparkify.runtime.progress import say
from sparkify.runtime.settings import SettingsError, cluster_conf_dir

# The two keys of the advisory lock: "SPRK" and one, shown as classid / objid in pg_locks.
LOCK_KEYS = (0x5350524B, 1)
JDO = "spark.hadoop.javax.jdo.option."


@dataclass(frozen=True)
class MetastoreDatabase:
    """Where the metastore's database listens, as the cluster's Spark conf names it."""

    host: str
    port: int
    database: str
    user: str
    password: str

    @classmethod
    def from_spark_conf(cls, conf: dict[str, str]) -> MetastoreDatabase | None:
        """None when the metastore is not PostgreSQL (no advisory locks there)."""
        url = conf.get(JDO + "ConnectionURL", "")
        if not url.startswith("jdbc:postgresql://"):
            return None
        parts = urlsplit(url.removeprefix("jdbc:"))
        if not parts.hostname or not parts.path.strip("/"):
            raise SettingsError(f"cannot read host and database from the metastore URL {url}")
        return cls(
            host=parts.hostname,
            port=parts.port or 5432,
            database=parts.path.strip("/"),
            user=conf.get(JDO + "ConnectionUserName", ""),
            password=conf.get(JDO + "ConnectionPassword", ""),
        )


def read_spark_defaults(conf_dir: Path) -> dict[str, str]:
    """``spark-defaults.conf`` as a dict (key, whitespace, value; ``#`` starts a comment line)."""
    path = conf_dir / "spark-defaults.conf"
    if not path.is_file():
        return {}
    settings: dict[str, str] = {}
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            key, _, value = stripped.partition(" ")
            settings[key] = value.strip()
    return settings


def _holders(connection) -> str:
    """Who holds the lock now: each holder's application name and since when."""
    rows = connection.execute(
        "select a.application_name, l.mode, a.backend_start from pg_locks l "
        "join pg_stat_activity a on a.pid = l.pid "
        "where l.locktype = 'advisory' and l.classid = %s and l.objid = %s and l.granted",
        LOCK_KEYS,
    ).fetchall()
    if not rows:
        return "a writer that has just finished"
    return "; ".join(
        f"`{name}` ({'exclusive' if mode == 'ExclusiveLock' else 'shared'}, since {start:%Y-%m-%d %H:%M:%S})"
        for name, mode, start in rows
    )


@contextmanager
def cluster_writer_lock(command: str, *, shared: bool, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the cluster's writer lock for the command, or raise MetastoreBusyError naming its holder.

    ``wait_s``: how long to keep trying before giving up (0: fail at once).
    """
    import psycopg

    conf_dir = Path(os.environ.get("SPARK_CONF_DIR") or cluster_conf_dir())
    database = MetastoreDatabase.from_spark_conf(read_spark_defaults(conf_dir))
    if database is None:
        say(f"no writer lock: the metastore in {conf_dir / 'spark-defaults.conf'} is not PostgreSQL")
        yield
        return
    name = f"sparkify {command} (pid {os.getpid()} on {socket.gethostname()})"[:63]
    try:
        connection = psycopg.connect(
            host=database.host,
            port=database.port,
            dbname=database.database,
            user=database.user,
            password=database.password or None,
            application_name=name,
            autocommit=True,
            connect_timeout=10,
        )
    except psycopg.OperationalError as error:
        raise MetastoreBusyError(
            f"cannot reach the metastore database at {database.host}:{database.port} for the writer lock "
            f"({str(error).strip()}); is the cluster up (`sparkify cluster status`)?"
        ) from None
    function = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
    deadline = time.monotonic() + wait_s
    with connection:
        while not connection.execute(f"select {function}(%s, %s)", LOCK_KEYS).fetchone()[0]:
            if time.monotonic() >= deadline:
                raise MetastoreBusyError(
                    f"the cluster's writer lock is held by {_holders(connection)}; "
                    "run this again when it has finished (readers such as `sparkify sql` are never blocked)"
                )
            time.sleep(1.0)
        yield
