"""The sparkify command: help, sql output formats, readable errors, the metastore guard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from sparkify.app.cli import main, parse_arguments
from sparkify.runtime.lock import metastore_lock
from tests.conftest import PROJECT_ROOT

SUBCOMMANDS = ("generate", "ingest", "build", "validate", "train", "score", "report", "sql", "run", "daily")


def _sparkify(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sparkify.app", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=PROJECT_ROOT / "tests",
        env=os.environ.copy(),
    )


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_has_help(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"])
    assert exit_info.value.code == 0
    assert "usage: sparkify" in capsys.readouterr().out


def test_unknown_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["sql"])
    assert exit_info.value.code == 2


def test_sql_prints_a_table_csv_and_json(spark, capsys):
    spark.sql("create database if not exists scratch")
    spark.sql(
        "create or replace table scratch.cli_check using delta as select 1 as id, 'a' as name union all select 2, null"
    )
    assert main(["sql", "select * from scratch.cli_check order by id"]) == 0
    table = capsys.readouterr().out
    assert "| id | name |" in table and "|  2 | NULL |" in table
    assert main(["sql", "select * from scratch.cli_check order by id", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["id,name", "1,a", "2,"]
    assert main(["sql", "select * from scratch.cli_check order by id", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"id": 1, "name": "a"}, {"id": 2, "name": None}]


def test_several_statements_run_in_order_in_one_process(spark, capsys):
    spark.sql("create database if not exists scratch")
    first, second = "select 1 as one", "select 'b' as letter union all select 'c'"
    assert main(["sql", first, second, "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["one", "1", "", "letter", "b", "c"]
    assert main(["sql", first, second, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [[{"one": 1}], [{"letter": "b"}, {"letter": "c"}]]
    # A write then a read see each other; a failing statement stops the run and is named.
    writes = [
        "create or replace table scratch.cli_steps using delta as select 1 as id",
        "insert into scratch.cli_steps values (2)",
    ]
    assert main(["sql", *writes, "select count(*) as n from scratch.cli_steps", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[-1] == [{"n": 2}]
    assert main(["sql", first, "selec oops", "select 3"]) == 2
    captured = capsys.readouterr()
    assert "| one |" in captured.out
    assert captured.err.strip().startswith("error: statement 2 of 3: [PARSE_SYNTAX_ERROR]"), captured.err


def test_malformed_query_exits_2_with_one_readable_line(spark, capsys):
    assert main(["sql", "selec oops from"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("error: [PARSE_SYNTAX_ERROR]")
    assert "at org.apache" not in err[0]
    assert main(["sql", "select * from no_such_schema.no_such_table"]) == 2
    assert "TABLE_OR_VIEW_NOT_FOUND" in capsys.readouterr().err


def test_second_process_fails_fast_while_the_metastore_is_booted(spark):
    spark.sql("show databases").collect()  # this process's JVM has Derby booted
    started = time.monotonic()
    result = _sparkify("sql", "select 1")
    assert result.returncode == 3
    assert "dbex.lck" in result.stderr and "one process at a time" in result.stderr
    assert len(result.stderr.splitlines()) <= 3
    assert time.monotonic() - started < 60


def test_second_sparkify_command_names_the_lock_holder(spark):
    with metastore_lock("sparkify build --select something", own_jvm_running=True):
        result = _sparkify("ingest")
    assert result.returncode == 3
    assert f"pid {os.getpid()}" in result.stderr and "sparkify build --select something" in result.stderr


def test_build_passes_dbt_options_through():
    args = parse_arguments(["build", "--select", "stg_sparkify__events", "--full-refresh"])
    assert args.dbt_args == ["--select", "stg_sparkify__events", "--full-refresh"]
    args = parse_arguments(["build", "-s", "dim_users", "--vars", "{min_history_days: 7}"])
    assert args.dbt_args == ["-s", "dim_users", "--vars", "{min_history_days: 7}"]


def test_other_commands_reject_unknown_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_arguments(["ingest", "--select", "x"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --select x" in capsys.readouterr().err


def test_an_unknown_suite_exits_2_and_lists_the_suites(capsys):
    assert main(["validate", "--suite", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "unknown suite nosuch" in err and "fct_user_features" in err


def test_replay_takes_no_files_and_reason_needs_replay(capsys):
    assert main(["ingest", "--replay-rejected", "--from", "."]) == 2
    assert "drop --from" in capsys.readouterr().err
    assert main(["ingest", "--reason", "type_mismatch"]) == 2
    assert "--reason goes with --replay-rejected" in capsys.readouterr().err
