"""One process at a time on the embedded Derby metastore, with a clear message instead of a hang.

Embedded Derby lets a single JVM boot the metastore database. A second process would fail
deep inside Hive with ``ERROR XSDB6`` after retries and hundreds of log lines. Two guards run
before any JVM starts:

* a project lock file (``flock``) held for the whole command, which names the holder;
* a probe of Derby's own ``dbex.lck``: the Derby JVM holds a POSIX record lock on it while the
  database is booted, so a plain ``dbt build`` running beside us is detected too.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sparkify.runtime.settings import ensure_lakehouse


class MetastoreBusyError(RuntimeError):
    """Another process is using the embedded metastore."""


def _advice(path: Path) -> str:
    return (
        f"The embedded Derby metastore ({path}) admits one process at a time. Wait for the other "
        "command to finish and run this one again, or point the project at a shared metastore "
        "(see docs/cluster.md)."
    )


def derby_in_use(metastore: Path, grace_s: float = 5.0) -> bool:
    """True when a running JVM has the Derby database at ``metastore`` booted.

    A JVM that is shutting down still holds the lock for a moment, so a held lock is probed
    again for ``grace_s`` seconds before it counts as in use.
    """
    lock_file = metastore / "dbex.lck"
    deadline = time.monotonic() + grace_s
    while lock_file.exists():
        with open(lock_file, "a+b") as handle:
            try:
                fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB, 1)
            except OSError:
                if time.monotonic() >= deadline:
                    return True
            else:
                fcntl.lockf(handle, fcntl.LOCK_UN, 1)
                return False
        time.sleep(0.25)
    return False


@contextmanager
def metastore_lock(command: str, *, own_jvm_running: bool = False) -> Iterator[None]:
    """Hold the project's metastore lock for the duration of ``command`` or fail at once.

    ``own_jvm_running``: this process already started Spark (and booted Derby) itself, so the
    Derby probe would only find our own JVM.
    """
    home = ensure_lakehouse()
    lock_path = home / ".metastore.lock"
    handle = open(lock_path, "a+")  # noqa: SIM115 - held open for the lock's lifetime
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "{}"
            try:
                info = json.loads(holder)
                who = f"pid {info['pid']} running `{info['command']}` since {info['since']}"
            except (ValueError, KeyError):
                who = "another process"
            raise MetastoreBusyError(
                f"metastore lock {lock_path} is held by {who}. {_advice(home / 'metastore_db')}"
            ) from None
        if not own_jvm_running and derby_in_use(home / "metastore_db"):
            raise MetastoreBusyError(
                f"another process (not started by sparkify, for example a plain `dbt build`) has "
                f"booted the Derby database; its lock is {home / 'metastore_db' / 'dbex.lck'}. "
                f"{_advice(home / 'metastore_db')}"
            )
        handle.seek(0)
        handle.truncate()
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        handle.write(json.dumps({"pid": os.getpid(), "command": command, "since": since}))
        handle.flush()
        yield
    finally:
        handle.close()


def command_line() -> str:
    """The current command line, for naming a lock holder."""
    return " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
