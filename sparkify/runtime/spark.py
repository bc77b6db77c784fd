"""The one way the project's Python code obtains a SparkSession.

On the embedded target the session is built from the same ``server_side_parameters`` that dbt's
``session`` method applies, so a dbt run in the same process reuses it (one JVM per command).
On a cluster target the settings are the cluster's: ``spark-submit`` reads them from
``SPARK_CONF_DIR`` (the project's own cluster writes its folder under the lakehouse, and a step
started as plain ``sparkify`` finds it there); we only ask for Hive support.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from typing import TypeVar

from pyspark.sql import SparkSession

from sparkify.runtime.settings import active_target, cluster_conf_dir, ensure_lakehouse, pin_environment


def get_spark() -> SparkSession:
    """Return the process-wide SparkSession for the active target, starting it if needed."""
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    pin_environment()
    target = active_target()
    builder = SparkSession.builder.enableHiveSupport()
    if target.is_embedded:
        home = ensure_lakehouse()
        for sub in ("tmp", "tmp/spark-local", "tmp/hive-local", "tmp/hive-resources"):
            (home / sub).mkdir(parents=True, exist_ok=True)
        for key, value in target.spark_conf.items():
            builder = builder.config(key, value)
    elif "SPARK_CONF_DIR" not in os.environ and (cluster_conf_dir() / "spark-defaults.conf").is_file():
        os.environ["SPARK_CONF_DIR"] = str(cluster_conf_dir())  # the JVM's spark-submit reads it
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def stop_spark(timeout_s: float = 30.0) -> None:
    """Stop the session and wait for its JVM to exit, releasing the embedded Derby metastore.

    Without the wait, the JVM outlives the Python process by a moment and a command started right
    after would find the metastore still booted.
    """
    from pyspark import SparkContext

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()
    gateway = SparkContext._gateway
    if gateway is None:
        return
    process = getattr(gateway, "proc", None)
    gateway.shutdown()
    SparkContext._gateway = None
    SparkContext._jvm = None
    if process is not None:
        if process.stdin is not None:
            process.stdin.close()  # the gateway server exits when its stdin closes
        process.wait(timeout=timeout_s)


def delta_version(spark: SparkSession, table: str) -> int:
    """The latest Delta version of ``table``: what a model trained on, a validation checked, a merge wrote."""
    return int(spark.sql(f"describe history {table} limit 1").first()["version"])


Result = TypeVar("Result")

# Delta's optimistic concurrency: the exceptions a commit raises when another writer committed a
# conflicting change first. The Python classes exist only once delta's module is imported, so
# they are matched by name.
_CONFLICTS = (
    "ConcurrentAppendException",
    "ConcurrentDeleteReadException",
    "ConcurrentDeleteDeleteException",
    "ConcurrentTransactionException",
    "ConcurrentWriteException",
    "MetadataChangedException",
    "ProtocolChangedException",
    "DELTA_CONCURRENT_",
)


def is_write_conflict(exc: BaseException) -> bool:
    """True when ``exc`` is Delta refusing a commit because another one won the race."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & set(_CONFLICTS)) or any(marker in str(exc)[:2000] for marker in _CONFLICTS)


def retry_on_conflict(action: Callable[[], Result], attempts: int = 6, base_delay_s: float = 0.5) -> Result:
    """Run a Delta write, and again from a fresh snapshot when a concurrent writer won the commit.

    Delta never merges two writers' work silently: the loser's commit fails and nothing of it is
    visible. Running the whole write again (it reads the table anew) is the documented remedy;
    a randomised, growing wait keeps two retrying writers from colliding again.
    """
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except Exception as exc:
            if attempt == attempts or not is_write_conflict(exc):
                raise
            time.sleep(base_delay_s * attempt * (1 + random.random()))
    raise AssertionError("unreachable")
