"""The project on a real multi-process Spark cluster: PostgreSQL metastore, master, two workers, Thrift.

One cluster is started for the module through the project's own command (`sparkify cluster up`,
on ports of its own and a lakehouse of its own) and stopped at the end (`down`), which must leave
none of its processes behind. Every step runs as a user would run it: a `sparkify` process on the
cluster target (a Spark application on the master; dbt through the Thrift server). The tests run
in order on the same cluster:

1. the whole pipeline through the cluster (`sparkify run`) builds the same warehouse as the same
   log ingested and built on the embedded default;
2. two scoring runs started at once both finish and lose no row;
3. `down` then `up`: tables and metastore are still there; then a build during which an analyst's
   query answers, a second writer is refused (exit 3, naming the build) and a worker is killed
   with -9 finishes, and changes no row.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sparkify.app.jobs import build_warehouse
from sparkify.cluster.layout import ClusterLayout
from sparkify.cluster.processes import Started, is_running, read_state
from sparkify.ingest.command import run_ingest
from sparkify.runtime.fingerprint import RUN_COLUMNS, fingerprints_of
from sparkify.runtime.spark import get_spark
from tests.conftest import PROJECT_ROOT, drop_schemas

pytestmark = pytest.mark.cluster

SPARKIFY = str(Path(sys.executable).parent / "sparkify")
# Ports of the test cluster: a user's own cluster on the default ports can run beside the tests.
TEST_PORTS = {
    "SPARKIFY_PG_PORT": "25433",
    "SPARKIFY_MASTER_PORT": "27077",
    "SPARKIFY_MASTER_UI_PORT": "28080",
    "SPARKIFY_THRIFT_PORT": "20000",
}
# A 63-day log of 80 users: enough labelled dates and churners for the purged split, small enough
# that the cluster's per-step costs dominate.
LOG_USERS = "80"
LOG_SEED = "5"
# Tables whose content records a run rather than the data: the validation log (run ids and
# times), the scores, the view over them and the mart of the latest scores.
RUN_TABLES = frozenset(
    {
        "analytics.validation_results",
        "analytics.churn_scores",
        "analytics.churn_scores_staged",
        "analytics.fct_churn_risk",
        "analytics.stg_ml__churn_scores",
    }
)
# The schemas whose every table both targets must build alike.
COMPARED_SCHEMAS = ("analytics", "snapshots")
# Filled by the first test: what the embedded default built, for the later tests to compare with.
BUILT_ON_EMBEDDED: dict[str, tuple[int, str]] = {}


def sparkify(env: dict[str, str], *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SPARKIFY, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def start(env: dict[str, str], command: list[str]) -> subprocess.Popen[str]:
    """A command running beside the test, its output (stdout and stderr) in one pipe."""
    return subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (
        f"{result.args} exited {result.returncode}:\n{result.stdout}\n{result.stderr[-4000:]}"
    )
    return result


def query(env: dict[str, str], sql: str) -> list[dict]:
    """An analyst's query: `sparkify sql` on env's target (through the Thrift server on the cluster)."""
    return json.loads(ok(sparkify(env, "sql", sql, "--format", "json")).stdout)


def fingerprints(env: dict[str, str]) -> dict[str, tuple[int, str]]:
    """Row count and content hash of every table of analytics and snapshots, on env's target."""
    result = ok(
        subprocess.run(
            [sys.executable, "tools/fingerprint_tables.py", "--json", *COMPARED_SCHEMAS],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
    )
    return {name: (rows, content) for name, rows, content in json.loads(result.stdout)}


@pytest.fixture(scope="module")
def landing(test_home: Path) -> Path:
    folder = test_home / "cluster-landing"
    env = {**os.environ, "SPARKIFY_RAW_DIR": str(folder)}
    ok(
        sparkify(
            env,
            "generate",
            "--scale",
            "mini",
            "--users",
            LOG_USERS,
            "--seed",
            LOG_SEED,
            "--out",
            str(folder),
            "--quiet",
        )
    )
    return folder


@pytest.fixture(scope="module")
def cluster(test_home: Path, landing: Path):
    """The cluster target's environment, with the cluster up; down afterwards, leaving nothing running."""
    env = {
        **os.environ,
        **TEST_PORTS,
        "SPARKIFY_LAKEHOUSE": str(test_home / "cluster-lakehouse"),
        "DBT_TARGET": "cluster",
        # Files as a cluster addresses them: the landing, report, Data Docs and Spark's copy of a model by URI,
        # listed, read and written through Hadoop's FileSystem (file: here, hdfs:// or s3a:// there).
        "SPARKIFY_FILESYSTEM": "hadoop",
        "SPARKIFY_RAW_DIR": f"file://{landing}",
        "SPARKIFY_STORAGE": f"file://{test_home / 'cluster-storage'}",
    }
    state_file = test_home / "cluster-lakehouse" / "cluster" / "processes.json"
    started: list[Started] = []
    try:
        up = ok(sparkify(env, "cluster", "up", timeout=600))
        assert f"127.0.0.1:{TEST_PORTS['SPARKIFY_THRIFT_PORT']}" in up.stdout
        started = read_state(state_file)
        assert [p.name for p in started] == ["postgres", "master", "worker-1", "worker-2", "thrift-server"]
        yield env
    finally:
        started = started + read_state(state_file)
        down = sparkify(env, "cluster", "down", timeout=300)
        assert down.returncode == 0, down.stderr
        assert not [p for p in started if is_running(p)], "cluster down left processes running"
        assert sparkify(env, "cluster", "status").returncode == 3


def _built_on_the_embedded_default(landing: Path) -> dict[str, tuple[int, str]]:
    """The reference: ``landing`` ingested and its models built in this test process's own Spark
    and lakehouse (emptied first), as `sparkify ingest` and `sparkify build` do, then fingerprinted.

    In this process, not in three `sparkify` processes of their own: each would start a JVM and
    open a new Derby metastore beside the cluster's five JVMs on the same two cores.
    """
    drop_schemas(get_spark())
    run_ingest(landing)
    assert build_warehouse(["--exclude", "resource_type:test"]) == 0, "the embedded reference build failed"
    return {
        table.table: (table.rows, table.content_hash)
        for table in fingerprints_of(COMPARED_SCHEMAS, RUN_COLUMNS)
    }


def test_the_pipeline_through_the_cluster_equals_the_embedded_default(cluster, landing, test_home):
    status = ok(sparkify(cluster, "cluster", "status"))
    assert "2 alive" in status.stdout
    # The whole pipeline through the cluster, in one application; beside it, the same log ingested
    # and built on the embedded default (the steps after the build write run records, not data).
    # The reference builds the models only: its data tests would only take cores from the cluster,
    # whose run tests the same models through the Thrift server.
    # The reference's fingerprints are taken while the cluster still runs: its training and
    # scoring leave cores idle that the module's tail would otherwise wait for.
    # One trained family beside the rule: XGBoost, whose barrier stage and Python workers are what a
    # cluster's executors can break; the other families are Spark ML's own, tested by tests/test_ml.py.
    on_cluster = start(cluster, [SPARKIFY, "run", "--families", "xgboost"])
    embedded = _built_on_the_embedded_default(landing)
    output = on_cluster.communicate(timeout=3000)[0]  # hang guards: the suite shares 2 cores
    assert on_cluster.returncode == 0, output[-4000:]
    for line in ("champion", "report:", "analytics.churn_scores", "published"):
        assert line in output, line
    finished = [line for line in output.splitlines() if "Finished running" in line]
    assert finished and not [line for line in finished if "unit test" in line], finished  # left to CI
    storage = test_home / "cluster-storage"
    assert (storage / "reports" / "churn_report.html").is_file()
    assert (storage / "mlflow" / "mlflow.db").is_file()  # the MLflow store under the storage root
    assert (storage / "gx" / "data_docs" / "index.html").is_file()
    through_cluster = fingerprints(cluster)
    assert "analytics.fct_user_features" in embedded and "snapshots.snap_user_levels" in embedded
    built = {table for table in embedded if table not in RUN_TABLES}
    assert built <= set(through_cluster)
    for table in sorted(built):
        assert embedded[table] == through_cluster[table], (
            f"{table}: embedded {embedded[table]} != cluster {through_cluster[table]}"
        )
    assert through_cluster["analytics.fct_churn_risk"][0] > 0
    BUILT_ON_EMBEDDED.update({table: embedded[table] for table in built})  # what the later tests compare with


def test_two_scoring_runs_at_once_both_finish_and_lose_no_row(cluster):
    # One as the scheduler's spark-submit line, one as a person's `sparkify score`: both are Spark
    # applications on the master, with the cluster's conf folder.
    spark_submit = [
        str(ClusterLayout.from_environment().spark_home / "bin" / "spark-submit"),
        "sparkify/app/submit.py",
        "score",
    ]
    submit_env = {**cluster, "SPARK_CONF_DIR": str(Path(cluster["SPARKIFY_LAKEHOUSE"]) / "cluster" / "conf")}
    runs = [
        start(env, command) for command, env in ((spark_submit, submit_env), ([SPARKIFY, "score"], cluster))
    ]
    outputs = [run.communicate(timeout=1800)[0] for run in runs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-4000:]
    latest = query(
        cluster,
        "select count(*) as n, count(distinct user_id, as_of_date, model_version) as keys, max(as_of_date) as as_of "
        "from analytics.churn_scores where as_of_date = (select max(as_of_date) from analytics.churn_scores)",
    )[0]
    users = query(
        cluster,
        f"select count(*) as n from analytics.fct_user_features where as_of_date = '{latest['as_of']}'",
    )
    assert latest["n"] == latest["keys"] == users[0]["n"]


def test_down_up_and_a_build_that_loses_a_worker_while_an_analyst_queries_change_nothing(cluster):
    ok(sparkify(cluster, "cluster", "down", timeout=300))
    assert sparkify(cluster, "cluster", "status").returncode == 3
    ok(sparkify(cluster, "cluster", "up", timeout=600))
    # The metastore and the tables outlived the processes.
    features = query(cluster, "select count(*) as n from analytics.fct_user_features")[0]["n"]
    assert features == BUILT_ON_EMBEDDED["analytics.fct_user_features"][0]
    state = {
        p.name: p for p in read_state(Path(cluster["SPARKIFY_LAKEHOUSE"]) / "cluster" / "processes.json")
    }
    # The models only (the data tests ran in the first test): what a lost worker can break is a write.
    build = start(cluster, [SPARKIFY, "build", "--exclude", "resource_type:test"])
    output: list[str] = []
    try:
        assert build.stdout is not None
        for line in build.stdout:  # wait until dbt is running models through the Thrift server
            output.append(line)
            if sum("START sql" in seen for seen in output) >= 3:
                break
        answer = query(cluster, "select count(*) as users from analytics.dim_users")
        # A second writer is refused at once and told who writes (the metastore's advisory lock).
        second = sparkify(cluster, "ingest", timeout=300)
        assert build.poll() is None, "the build ended before the analyst's query and the second writer"
        assert answer[0]["users"] > 0
        assert second.returncode == 3, second.stdout + second.stderr
        assert "writer lock is held by `sparkify build" in second.stderr, second.stderr
        os.kill(state["worker-1"].pid, signal.SIGKILL)
        output.extend(build.stdout)
        assert build.wait(timeout=1800) == 0, "".join(output)[-4000:]
    finally:
        if build.poll() is None:
            build.kill()
    assert not is_running(state["worker-1"])
    status = sparkify(cluster, "cluster", "status")
    assert status.returncode == 1 and "worker-1" in status.stdout
    ok(sparkify(cluster, "cluster", "up", timeout=600))  # starts what is down, and only that
    assert ok(sparkify(cluster, "cluster", "status")).returncode == 0
    after = fingerprints(cluster)
    for table, figures in BUILT_ON_EMBEDDED.items():
        if table not in RUN_TABLES:
            assert after[table] == figures, f"{table} changed after down, up and a rebuild without a worker"
