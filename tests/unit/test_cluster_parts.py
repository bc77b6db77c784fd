"""The cluster command's parts that need no cluster: its settings, its process records, its messages."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sparkify.app.sql_shell import _server_message
from sparkify.cluster.config import EMBEDDED_ONLY, spark_defaults
from sparkify.cluster.layout import ClusterLayout
from sparkify.cluster.processes import Started, is_running, read_state, spawn, start_ticks, stop, write_state
from sparkify.runtime.settings import SettingsError, active_target
from sparkify.runtime.spark import is_write_conflict
from sparkify.runtime.writer_lock import MetastoreDatabase, read_spark_defaults


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ClusterLayout:
    monkeypatch.setenv("SPARKIFY_LAKEHOUSE", str(tmp_path / "lakehouse"))
    monkeypatch.setenv("SPARKIFY_PG_PORT", "25999")
    active_target.cache_clear()
    yield ClusterLayout.from_environment()
    active_target.cache_clear()


def test_cluster_settings_share_the_embedded_semantics_and_replace_only_where_things_run(layout):
    embedded = active_target("local").spark_conf
    cluster = spark_defaults(layout)
    for key in (
        "spark.sql.session.timeZone",
        "spark.sql.ansi.enabled",
        "spark.sql.extensions",
        "spark.sql.shuffle.partitions",
    ):
        assert cluster[key] == embedded[key], key
    assert cluster["spark.master"] == layout.master_url
    assert (
        cluster["spark.hadoop.javax.jdo.option.ConnectionURL"]
        == "jdbc:postgresql://127.0.0.1:25999/metastore"
    )
    assert cluster["spark.sql.warehouse.dir"].startswith("file:") and cluster[
        "spark.sql.warehouse.dir"
    ].endswith("/cluster/warehouse")
    assert cluster["spark.hadoop.datanucleus.schema.autoCreateConstraints"] == "false"
    assert not any("derby" in value.lower() for value in cluster.values())
    hotspot = [f for f in embedded["spark.driver.extraJavaOptions"].split() if f.startswith("-XX:")]
    assert "-XX:-DontCompileHugeMethods" in hotspot
    for key in ("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions"):
        assert set(hotspot) <= set(cluster[key].split()), key
    for key in EMBEDDED_ONLY:
        if key in cluster:
            assert cluster[key] != embedded.get(key), f"{key} kept its embedded value"


def test_a_bad_port_is_refused(monkeypatch):
    monkeypatch.setenv("SPARKIFY_THRIFT_PORT", "ten")
    with pytest.raises(ValueError, match="SPARKIFY_THRIFT_PORT=ten"):
        ClusterLayout.from_environment()


def test_a_started_process_is_known_by_pid_and_start_time_and_stopped_exactly(tmp_path: Path):
    process = spawn(
        "sleeper", [sys.executable, "-c", "import time; time.sleep(60)"], tmp_path / "s.log", os.environ
    )
    try:
        assert is_running(process)
        impostor = Started(process.name, process.pid, process.start_ticks + 1, process.log)
        assert not is_running(impostor)  # the same pid, started at another time: not ours
        assert not stop(impostor)
        assert is_running(process)
        write_state(tmp_path / "state.json", [process])
        assert read_state(tmp_path / "state.json") == [process]
        assert stop(process, signal.SIGTERM, timeout_s=10)
        assert not is_running(process)
        assert not stop(process)  # stopping twice is harmless
    finally:
        if start_ticks(process.pid) == process.start_ticks:
            os.kill(process.pid, signal.SIGKILL)


def test_a_process_that_ignores_sigterm_is_killed_after_the_timeout(tmp_path: Path):
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    process = spawn("stubborn", [sys.executable, "-c", stubborn], tmp_path / "t.log", os.environ)
    while "ready" not in (tmp_path / "t.log").read_text():
        pass
    assert stop(process, signal.SIGTERM, timeout_s=0.5)
    assert not is_running(process)


def test_no_process_means_no_start_time():
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    assert start_ticks(int(finished.stdout)) is None


def test_thrift_server_errors_become_one_line():
    parse = (
        'TExecuteStatementResp(status=TStatus(statusCode=3, infoMessages=[], errorMessage="Error running query: '
        "[PARSE_SYNTAX_ERROR] org.apache.spark.sql.catalyst.parser.ParseException: \\n[PARSE_SYNTAX_ERROR] Syntax "
        "error at or near 'selec'. SQLSTATE: 42601 (line 1, pos 0)\\n\\n== SQL ==\\nselec 1\\n^^^\\n\"), operationHandle=None)"
    )
    assert (
        _server_message(Exception(parse))
        == "[PARSE_SYNTAX_ERROR] Syntax error at or near 'selec'. SQLSTATE: 42601 (line 1, pos 0)"
    )
    missing = (
        'TExecuteStatementResp(status=TStatus(statusCode=3, errorMessage="Error running query: [TABLE_OR_VIEW_NOT_FOUND] '
        "org.apache.spark.sql.AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or view `nosuch` cannot be found. "
        "SQLSTATE: 42P01; line 1 pos 14;\\n'Project [*]\\n\"), operationHandle=None)"
    )
    message = _server_message(Exception(missing))
    assert message.startswith("[TABLE_OR_VIEW_NOT_FOUND] The table or view `nosuch` cannot be found.")
    assert "\n" not in message and "org.apache" not in message


def test_delta_write_conflicts_are_recognised_and_other_errors_are_not():
    assert is_write_conflict(
        RuntimeError("[DELTA_CONCURRENT_APPEND] ConcurrentAppendException: Files were added")
    )
    assert not is_write_conflict(RuntimeError("[TABLE_OR_VIEW_NOT_FOUND] no such table"))


def test_the_writer_lock_finds_the_metastore_database_in_the_conf_the_cluster_writes(layout, tmp_path: Path):
    conf_dir = tmp_path / "conf"
    conf_dir.mkdir()
    written = spark_defaults(layout)
    (conf_dir / "spark-defaults.conf").write_text(
        "# a comment\n\n" + "\n".join(f"{key} {value}" for key, value in written.items()) + "\n"
    )
    conf = read_spark_defaults(conf_dir)
    assert conf == written
    database = MetastoreDatabase.from_spark_conf(conf)
    assert database == MetastoreDatabase("127.0.0.1", 25999, "metastore", "metastore", "")


def test_a_metastore_that_is_not_postgresql_has_no_writer_lock_and_a_bad_url_is_refused():
    derby = {
        "spark.hadoop.javax.jdo.option.ConnectionURL": "jdbc:derby:;databaseName=metastore_db;create=true"
    }
    assert MetastoreDatabase.from_spark_conf(derby) is None
    assert MetastoreDatabase.from_spark_conf({}) is None
    with pytest.raises(SettingsError, match="cannot read host"):
        MetastoreDatabase.from_spark_conf(
            {"spark.hadoop.javax.jdo.option.ConnectionURL": "jdbc:postgresql:///"}
        )
