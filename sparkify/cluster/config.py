"""The cluster's ``SPARK_CONF_DIR``, written from the one source of Spark settings, ``profiles.yml``.

The semantics every process must share (UTC, ANSI off, Delta's extension and catalog, the
shuffle and Arrow settings) are the embedded target's ``server_side_parameters``, taken as they
are. Only what is about *where* things run is replaced: the master instead of ``local[*]``, the
PostgreSQL metastore instead of Derby, the cluster's warehouse and scratch folders, absolute jar
paths that the driver ships to the executors. So a setting changed in profiles.yml reaches the
cluster at its next ``up``, and the two targets cannot drift apart.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from sparkify.cluster.layout import HOST, METASTORE_USER, ClusterLayout
from sparkify.runtime.settings import active_target, project_dir

# Settings of the embedded target that say where an embedded driver keeps its state.
EMBEDDED_ONLY = (
    "spark.master",
    "spark.app.name",
    "spark.driver.memory",
    "spark.driver.extraClassPath",
    "spark.driver.extraJavaOptions",
    "spark.local.dir",
    "spark.sql.warehouse.dir",
    "spark.hadoop.javax.jdo.option.ConnectionURL",
    "spark.hadoop.hive.downloaded.resources.dir",
    "spark.hadoop.hive.exec.scratchdir",
    "spark.hadoop.hive.exec.local.scratchdir",
)

# Per application: two one-core executors of 2 GB. Workers offer 2 x 3 cores, so the Thrift
# server and two Python steps run at once (2 physical cores: the extra cores are for waiting
# on I/O and the driver, not for arithmetic).
APPLICATION_RESOURCES = {
    "spark.driver.memory": "3g",
    "spark.executor.memory": "2g",
    "spark.executor.cores": "1",
    "spark.cores.max": "2",
    "spark.scheduler.mode": "FAIR",
}


def spark_defaults(layout: ClusterLayout) -> dict[str, str]:
    """Every setting of the cluster's spark-defaults.conf."""
    embedded = active_target("local").spark_conf
    shared = {k: v for k, v in embedded.items() if k not in EMBEDDED_ONLY}
    # The embedded driver's HotSpot flags (-XX:...) are about how code runs, not where: every
    # driver and executor of the cluster gets them too.
    hotspot_flags = [f for f in embedded["spark.driver.extraJavaOptions"].split() if f.startswith("-XX:")]
    java_options = " ".join(
        [
            *hotspot_flags,
            f"-Djava.io.tmpdir={layout.local_dir}",
            f"-Dlog4j2.configurationFile=file:{layout.conf_dir}/log4j2.properties",
        ]
    )
    return {
        **shared,
        "spark.master": layout.master_url,
        **APPLICATION_RESOURCES,
        "spark.driver.host": HOST,
        "spark.driver.bindAddress": HOST,
        "spark.driver.extraClassPath": f"{project_dir() / '.jars'}/*",
        "spark.jars": ",".join(path.as_uri() for path in layout.jars),
        "spark.driver.extraJavaOptions": java_options,
        "spark.executor.extraJavaOptions": java_options,
        "spark.pyspark.python": sys.executable,
        "spark.local.dir": str(layout.local_dir / "spark-local"),
        "spark.sql.warehouse.dir": layout.warehouse.as_uri(),
        "spark.hadoop.javax.jdo.option.ConnectionURL": layout.metastore_jdbc_url,
        "spark.hadoop.javax.jdo.option.ConnectionDriverName": "org.postgresql.Driver",
        "spark.hadoop.javax.jdo.option.ConnectionUserName": METASTORE_USER,
        "spark.hadoop.javax.jdo.option.ConnectionPassword": "",
        # Hive's schema is created by DataNucleus as first needed. On PostgreSQL, adding a foreign
        # key locks the table it references, which the same metastore call has just written to
        # on another connection: the first CREATE TABLE waits for itself for ever (seen here).
        # So the tables and columns are created, the constraints not (``autoCreateAll`` would
        # switch them back on).
        "spark.hadoop.datanucleus.schema.autoCreateAll": "false",
        "spark.hadoop.datanucleus.schema.autoCreateTables": "true",
        "spark.hadoop.datanucleus.schema.autoCreateColumns": "true",
        "spark.hadoop.datanucleus.schema.autoCreateConstraints": "false",
        # One folder per Thrift session: Hive deletes a session's folder when the session closes,
        # and dbt's threads open and close sessions side by side.
        "spark.hadoop.hive.downloaded.resources.dir": f"{layout.local_dir}/hive-resources/${{hive.session.id}}_resources",
        "spark.hadoop.hive.exec.scratchdir": str(layout.local_dir / "hive-scratch"),
        "spark.hadoop.hive.exec.local.scratchdir": str(layout.local_dir / "hive-local"),
    }


def write_conf_dir(layout: ClusterLayout) -> Path:
    """Write spark-defaults.conf, spark-env.sh and log4j2.properties; return the folder."""
    conf = layout.conf_dir
    conf.mkdir(parents=True, exist_ok=True)
    for sub in ("spark-local", "hive-resources", "hive-scratch", "hive-local"):
        (layout.local_dir / sub).mkdir(parents=True, exist_ok=True)
    lines = ["# Written by `sparkify cluster up` from profiles.yml; edits are overwritten."]
    lines += [f"{key} {value}" for key, value in sorted(spark_defaults(layout).items())]
    (conf / "spark-defaults.conf").write_text("\n".join(lines) + "\n")
    (conf / "spark-env.sh").write_text(
        "# Written by `sparkify cluster up`: what every Spark launcher of this cluster sources.\n"
        f"export SPARK_LOCAL_IP={HOST}\n"
        f"export PYSPARK_PYTHON={sys.executable}\n"
        f"export SPARK_LOG_DIR={layout.logs}\n"
    )
    shutil.copyfile(project_dir() / "conf" / "log4j2.properties", conf / "log4j2.properties")
    return conf
