"""``sparkify cluster up|down|status``: PostgreSQL metastore, Spark master, two workers, Thrift server.

``up`` starts what is not running, in dependency order, and waits until each part answers: the
database accepts connections, the master lists every worker as alive, and a query through the
Thrift server returns (which also creates Hive's schema in PostgreSQL on first use). ``down``
stops, in reverse order, exactly the processes ``up`` recorded, and keeps every file. The
processes belong to no terminal: they outlive the command that started them.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from collections.abc import Callable

from sparkify.cluster import postgres
from sparkify.cluster.config import write_conf_dir
from sparkify.cluster.layout import HOST, ClusterLayout
from sparkify.cluster.processes import (
    is_running,
    port_open,
    read_state,
    spawn,
    stop,
    wait_until,
    write_state,
)
from sparkify.runtime.errors import UsageError
from sparkify.runtime.progress import say, step
from sparkify.runtime.settings import ensure_lakehouse
from sparkify.runtime.thrift import ThriftEndpoint, query

THRIFT_SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
START_TIMEOUT_S = 180.0
PROBE_TABLE = "sparkify_cluster_probe"
WORKER_TIMEOUT_S = 20  # Spark's default is 60: a lost worker is noticed within a third of that


def _spark_env(layout: ClusterLayout) -> dict[str, str]:
    return {
        **os.environ,
        "SPARK_HOME": str(layout.spark_home),
        "SPARK_CONF_DIR": str(layout.conf_dir),
        "SPARK_LOCAL_IP": HOST,
        "SPARK_DAEMON_MEMORY": "512m",
        # How long the master waits for a silent worker's heartbeat before it counts the worker lost.
        "SPARK_MASTER_OPTS": f"-Dspark.worker.timeout={WORKER_TIMEOUT_S}",
        "SPARK_LOCAL_DIRS": str(layout.local_dir / "spark-local"),
    }


def _master_command(layout: ClusterLayout) -> list[str]:
    return [
        str(layout.spark_home / "bin" / "spark-class"),
        "org.apache.spark.deploy.master.Master",
        "--host",
        HOST,
        "--port",
        str(layout.master_port),
        "--webui-port",
        str(layout.master_ui_port),
    ]


def _worker_command(layout: ClusterLayout, worker: int) -> list[str]:
    return [
        str(layout.spark_home / "bin" / "spark-class"),
        "org.apache.spark.deploy.worker.Worker",
        "--host",
        HOST,
        "--cores",
        str(layout.worker_cores),
        "--memory",
        layout.worker_memory,
        "--work-dir",
        str(layout.work_dir(worker)),
        "--webui-port",
        "0",
        layout.master_url,
    ]


def _thrift_command(layout: ClusterLayout) -> list[str]:
    return [
        str(layout.spark_home / "bin" / "spark-submit"),
        "--class",
        THRIFT_SERVER_CLASS,
        "--name",
        "sparkify-thrift-server",
        "--master",
        layout.master_url,
        "spark-internal",
        "--hiveconf",
        f"hive.server2.thrift.port={layout.thrift_port}",
        "--hiveconf",
        f"hive.server2.thrift.bind.host={HOST}",
    ]


def alive_workers(layout: ClusterLayout) -> int:
    """Workers the master lists as ALIVE (its JSON status page)."""
    try:
        with urllib.request.urlopen(f"{layout.master_ui_url}/json/", timeout=2) as response:
            status = json.load(response)
    except (OSError, ValueError):
        return 0
    return sum(1 for worker in status.get("workers", []) if worker.get("state") == "ALIVE")


def _wait_for_lost_workers(layout: ClusterLayout, ours: int) -> None:
    """Wait until the master stops listing workers of ours that died (killed, or the machine lost).

    A worker killed with SIGKILL says no goodbye: the master lists it as alive until its heartbeats
    have been missing for ``spark.worker.timeout`` (set short in ``_spark_env``). Until then a
    count of live workers cannot tell a restarted worker from the ghost of the lost one.
    """
    if alive_workers(layout) <= ours:
        return
    say(
        f"cluster: the master still lists {alive_workers(layout) - ours} lost worker(s); waiting for it to drop them"
    )
    deadline = time.monotonic() + 3 * WORKER_TIMEOUT_S
    while alive_workers(layout) > ours and time.monotonic() < deadline:
        time.sleep(1.0)


def _thrift_answers(layout: ClusterLayout) -> bool:
    if not port_open(layout.thrift_port):
        return False
    try:
        query("select 1", ThriftEndpoint(HOST, layout.thrift_port, "sparkify"))
    except Exception:
        return False
    return True


def _create_metastore_schema(layout: ClusterLayout) -> None:
    """Create and drop one Delta table, so that Hive's tables exist before two steps race to make them."""
    where = ThriftEndpoint(HOST, layout.thrift_port, "sparkify")
    query(f"create table if not exists default.{PROBE_TABLE} (x int) using delta", where)
    query(f"drop table if exists default.{PROBE_TABLE}", where)


def up() -> int:
    """Start every part that is not running; print where each one listens."""
    ensure_lakehouse()
    layout = ClusterLayout.from_environment()
    names = " ".join(jar.name for jar in layout.jars)
    if "postgresql-" not in names or "delta-spark" not in names:
        raise UsageError("the Delta and PostgreSQL jars are not in .jars/: run `make setup` first")
    layout.home.mkdir(parents=True, exist_ok=True)
    write_conf_dir(layout)
    running = {p.name: p for p in read_state(layout.state_file) if is_running(p)}
    env = _spark_env(layout)

    def ensure(name: str, command: Callable[[], list[str]], ready: Callable[[], bool], what: str) -> None:
        process = running.get(name)
        if process is None:
            if ready():
                raise RuntimeError(
                    f"{name}: something not started by this project already answers ({what}); "
                    "stop it or choose other ports (docs/cluster.md)"
                )
            with step(f"cluster: start {name}"):
                process = spawn(name, command(), layout.logs / f"{name}.log", env)
                running[name] = process
                write_state(layout.state_file, list(running.values()))
                wait_until(what, ready, process, START_TIMEOUT_S)

    bin_dir = postgres.server_bin()
    if postgres.initialise(layout, bin_dir):
        say(f"cluster: created the metastore's PostgreSQL data folder {layout.pg_data}")
    ensure(
        "postgres",
        lambda: postgres.server_command(layout, bin_dir),
        lambda: postgres.accepts_connections(layout, bin_dir),
        "connection",
    )
    postgres.ensure_database(layout, bin_dir)
    ensure("master", lambda: _master_command(layout), lambda: port_open(layout.master_port), "listening port")
    ours = sum(f"worker-{w}" in running for w in range(1, layout.workers + 1))
    if ours < layout.workers:
        _wait_for_lost_workers(layout, ours)
    for worker in range(1, layout.workers + 1):
        if f"worker-{worker}" not in running:
            # Ready when the master lists one more live worker than this project runs; "already
            # answers" when it lists more than ours before this one starts (a stranger registered).
            ensure(
                f"worker-{worker}",
                lambda w=worker: _worker_command(layout, w),
                lambda n=ours: alive_workers(layout) > n,
                "registration with the master",
            )
            ours += 1
    ensure(
        "thrift-server", lambda: _thrift_command(layout), lambda: _thrift_answers(layout), "answer to a query"
    )
    _create_metastore_schema(layout)
    _print_where(layout)
    return 0


def _print_where(layout: ClusterLayout) -> None:
    print(
        "\n".join(
            [
                f"postgres       {HOST}:{layout.pg_port}  (Hive metastore: {layout.metastore_jdbc_url})",
                f"spark master   {layout.master_url}  (web UI {layout.master_ui_url})",
                f"spark workers  {alive_workers(layout)} alive, {layout.worker_cores} cores and {layout.worker_memory} each",
                f"thrift server  {HOST}:{layout.thrift_port}  (JDBC {layout.thrift_jdbc_url})",
                f"state          {layout.home}",
                "use it:        DBT_TARGET=cluster sparkify build   (or dbt build, sparkify ingest|validate|train|score)",
            ]
        )
    )


def status() -> int:
    """What runs: 0 when every part is up, 1 when some are down, 3 when none is."""
    layout = ClusterLayout.from_environment()
    recorded = {p.name: p for p in read_state(layout.state_file)}
    names = ["postgres", "master", *(f"worker-{w}" for w in range(1, layout.workers + 1)), "thrift-server"]
    up_count = 0
    for name in names:
        process = recorded.get(name)
        state = "running" if process is not None and is_running(process) else "stopped"
        up_count += state == "running"
        print(f"{name:<14} {state:<8} {'pid ' + str(process.pid) if process and state == 'running' else ''}")
    if up_count:
        _print_where(layout)
    return 0 if up_count == len(names) else 1 if up_count else 3


def down() -> int:
    """Stop the recorded processes, the Thrift server first and PostgreSQL last; keep all data."""
    layout = ClusterLayout.from_environment()
    recorded = read_state(layout.state_file)
    for process in reversed(recorded):
        # PostgreSQL's "fast" shutdown is SIGINT; Spark's daemons stop cleanly on SIGTERM.
        signal_to_send = signal.SIGINT if process.name == "postgres" else signal.SIGTERM
        if stop(process, signal_to_send):
            say(f"cluster: stopped {process.name} (pid {process.pid})")
    write_state(layout.state_file, [])
    say(f"cluster: down; data kept in {layout.home}")
    return 0


def cluster_command(action: str) -> int:
    return {"up": up, "down": down, "status": status}[action]()
