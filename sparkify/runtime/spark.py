"""The one way the project's Python code obtains a SparkSession.

On the embedded target the session is built from the same ``server_side_parameters`` that dbt's
``session`` method applies, so a dbt run in the same process reuses it (one JVM per command).
On a cluster target the job is started by ``spark-submit``, which already carries the cluster's
settings; we only ask for Hive support.
"""

from __future__ import annotations

from pyspark.sql import SparkSession

from sparkify.runtime.settings import active_target, ensure_lakehouse, pin_environment


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
