"""Where the project's own cluster listens and keeps its state: one place for ports and folders.

Everything listens on loopback and every file lives under ``<lakehouse>/cluster``. Ports come
from the environment, with defaults that are the usual ones of each component (moved off the
usual PostgreSQL port so that a system database is never touched): a second cluster, such as the
test suite's, takes other ports by setting the same variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pyspark

from sparkify.runtime.settings import cluster_conf_dir, cluster_home, project_dir

HOST = "127.0.0.1"
METASTORE_DATABASE = "metastore"
METASTORE_USER = "metastore"

PORT_DEFAULTS = {
    "SPARKIFY_PG_PORT": 5433,
    "SPARKIFY_MASTER_PORT": 7077,
    "SPARKIFY_MASTER_UI_PORT": 8080,
    "SPARKIFY_THRIFT_PORT": 10000,
}


def _port(name: str) -> int:
    text = os.environ.get(name, str(PORT_DEFAULTS[name]))
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{name}={text} is not a TCP port")
    return int(text)


@dataclass(frozen=True)
class ClusterLayout:
    """Ports, URLs and folders of one cluster, resolved once from the environment."""

    home: Path
    pg_port: int
    master_port: int
    master_ui_port: int
    thrift_port: int
    workers: int = 2
    worker_cores: int = 3
    worker_memory: str = "6g"

    @classmethod
    def from_environment(cls) -> ClusterLayout:
        return cls(
            home=cluster_home(),
            pg_port=_port("SPARKIFY_PG_PORT"),
            master_port=_port("SPARKIFY_MASTER_PORT"),
            master_ui_port=_port("SPARKIFY_MASTER_UI_PORT"),
            thrift_port=_port("SPARKIFY_THRIFT_PORT"),
        )

    @property
    def conf_dir(self) -> Path:
        return cluster_conf_dir()

    @property
    def pg_data(self) -> Path:
        return self.home / "postgres"

    @property
    def pg_socket_dir(self) -> Path:
        return self.home / "run"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def warehouse(self) -> Path:
        """The cluster's managed tables: apart from the embedded default's, which Derby knows."""
        return self.home / "warehouse"

    @property
    def state_file(self) -> Path:
        """The processes ``up`` started (pid and start time), read by ``status`` and ``down``."""
        return self.home / "processes.json"

    def work_dir(self, worker: int) -> Path:
        return self.home / "work" / f"worker-{worker}"

    @property
    def local_dir(self) -> Path:
        return self.home / "tmp"

    @property
    def master_url(self) -> str:
        return f"spark://{HOST}:{self.master_port}"

    @property
    def master_ui_url(self) -> str:
        return f"http://{HOST}:{self.master_ui_port}"

    @property
    def metastore_jdbc_url(self) -> str:
        return f"jdbc:postgresql://{HOST}:{self.pg_port}/{METASTORE_DATABASE}"

    @property
    def thrift_jdbc_url(self) -> str:
        """What BI tools and beeline connect to."""
        return f"jdbc:hive2://{HOST}:{self.thrift_port}/default"

    @property
    def spark_home(self) -> Path:
        """The Spark distribution inside the pyspark wheel: bin/spark-class, bin/spark-submit, jars/."""
        return Path(pyspark.__file__).parent

    @property
    def jars(self) -> list[Path]:
        """Delta Lake and the PostgreSQL driver, resolved by ``make setup`` into ``.jars/``."""
        return sorted((project_dir() / ".jars").glob("*.jar"))
