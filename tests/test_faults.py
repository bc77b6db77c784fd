"""Nothing stops, nothing is lost, nothing depends on the clock or on load history.

Real Spark, Delta and dbt on small real and generated logs: damaged files beside good ones, files
that grow, copies and rewrites; and a log landed in random batches, built after each, compared
table by table with a full refresh of the same files.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from sparkify.app.build_checks import WITHOUT_UNIT_TESTS
from sparkify.app.cli import main
from sparkify.ingest.command import run_ingest
from sparkify.ingest.files import file_uri
from sparkify.ingest.tables import EVENTS_TABLE, LEDGER_TABLE, REJECTED_TABLE
from sparkify.runtime.dbt import run_dbt
from sparkify.runtime.spark import get_spark, stop_spark
from tests.conftest import PROJECT_ROOT, drop_schemas

SMALL_VARS = json.dumps({"min_history_days": 7, "as_of_cadence_days": 3, "label_horizon_days": 5})
COMPARED_TABLES = (
    "stg_sparkify__events", "int_sessions", "int_user_daily_activity", "int_users", "int_as_of_dates",
    "int_user_as_of_dates", "fct_churn_labels", "fct_user_features", "fct_training_set", "dim_users",
    "fct_cohort_weekly_activity",
)  # fmt: skip
# The compared tables and everything they read: the scoring models (the scores' view and the
# latest-risk mart) read the ML module's scores, which no seed writes.
WAREHOUSE_RUN_ARGS = ("--vars", SMALL_VARS, "--exclude", "stg_ml__churn_scores", "fct_churn_risk")


@pytest.fixture
def empty_layers(spark):
    drop_schemas(spark)
    return spark


def _real(real_rows: Path, start: int, count: int) -> bytes:
    lines = real_rows.read_bytes().splitlines(keepends=True)
    return b"".join(lines[start : start + count])


def _books(spark) -> dict[str, tuple[int, int, int]]:
    """Per file: lines the ledger says were read, rows kept, rows rejected (from the tables)."""
    read = {
        r.source_file: r.n
        for r in spark.table(LEDGER_TABLE)
        .where("status = 'ingested'")
        .groupBy("source_file")
        .agg(F.sum("lines_read").alias("n"))
        .collect()
    }
    kept = {
        r._source_file: r["count"]
        for r in spark.table(EVENTS_TABLE).groupBy("_source_file").count().collect()
    }
    rejected = {
        r._source_file: r["count"]
        for r in spark.table(REJECTED_TABLE).groupBy("_source_file").count().collect()
    }
    return {uri: (n, kept.get(uri, 0), rejected.get(uri, 0)) for uri, n in read.items()}


def test_damaged_files_are_refused_alone_and_good_files_land_whole(empty_layers, real_rows: Path, test_home):
    spark = empty_layers
    landing = test_home / "landing-damaged"
    shutil.rmtree(landing, ignore_errors=True)
    landing.mkdir()
    spaced = landing / "day one 100%.json"
    spaced.write_bytes(_real(real_rows, 0, 300))
    (landing / "day-two.json").write_bytes(_real(real_rows, 300, 200))
    (landing / "empty.json").write_bytes(b"")
    whole = gzip.compress(_real(real_rows, 500, 40))
    (landing / "truncated.json.gz").write_bytes(whole[: len(whole) // 2])
    (landing / "lone-cr.json").write_bytes(_real(real_rows, 540, 5).replace(b"\n", b"\r"))

    first = run_ingest(landing)
    refused = {Path(path).name: reason for path, _, reason in first.problems}
    assert set(refused) == {"truncated.json.gz"} and refused["truncated.json.gz"].startswith("truncated_gzip")
    assert first.lines_read == 300 + 200 + 0 + 1  # five events joined by lone \r are one line
    assert first.rows_rejected == 1 and first.rejected_by_reason == {"trailing_content": 1}
    assert main(["ingest", "--from", str(landing)]) == 0  # recorded already: held back, nothing new
    books = _books(spark)
    assert books[file_uri(spaced)] == (300, 300, 0)
    assert all(n == kept + rejected for n, kept, rejected in books.values())
    assert spark.table(EVENTS_TABLE).count() == 500  # the second run added nothing
    quarantined = spark.table(REJECTED_TABLE).first()._raw_line
    assert '"firstName":"*"' in quarantined and '"lastName":"*"' in quarantined  # masked, still a JSON line
    assert not {"firstName", "lastName"} & set(spark.table(EVENTS_TABLE).columns)

    with spaced.open("ab") as handle:  # the log grows by 10 lines
        handle.write(_real(real_rows, 600, 10))
    (landing / "copy-of-day-two.json").write_bytes((landing / "day-two.json").read_bytes())
    grown = run_ingest(landing)
    assert (grown.grown, grown.lines_read, grown.rows_kept) == (1, 10, 10)
    assert [Path(p).name for p, _ in grown.duplicates] == ["copy-of-day-two.json"]
    assert _books(spark)[file_uri(spaced)] == (310, 310, 0)
    assert run_dbt(["build", *WITHOUT_UNIT_TESTS]) == 0

    # A rewrite is reported, not ignored; --reingest replaces the file's rows, and the build refreshes.
    (landing / "day-two.json").write_bytes(_real(real_rows, 300, 150))
    assert main(["ingest", "--from", str(landing)]) == 1
    assert main(["ingest", "--from", str(landing), "--reingest", str(landing / "day-two.json")]) == 0
    assert _books(spark)[file_uri(landing / "day-two.json")] == (150, 150, 0)
    assert main(["build"]) == 0
    staged = spark.table("analytics.stg_sparkify__events").where(
        F.col("source_file") == file_uri(landing / "day-two.json")
    )
    assert staged.count() == 150

    # The truncated file, completed, arrives with the next run.
    (landing / "truncated.json.gz").write_bytes(whole)
    assert run_ingest(landing).lines_read == 40


def test_a_landing_read_through_hadoops_filesystem_books_as_local_files_do(
    empty_layers, real_rows: Path, test_home, monkeypatch
):
    # The route a cluster takes for hdfs:// or s3a:// (listing, hashing and reading through Hadoop's
    # FileSystem of the driver), taken here on file: URIs; the ledger's names stay Spark's names.
    spark = empty_layers
    landing = test_home / "landing-hadoop"
    shutil.rmtree(landing, ignore_errors=True)
    (landing / "day 1").mkdir(parents=True)
    (landing / "_ground_truth").mkdir()
    spaced = landing / "day 1" / "events 100%.json"
    spaced.write_bytes(_real(real_rows, 0, 120))
    hashed = landing / "late#2.json.gz"
    hashed.write_bytes(gzip.compress(_real(real_rows, 120, 80)))
    whole = gzip.compress(_real(real_rows, 200, 30))
    (landing / "truncated.json.gz").write_bytes(whole[: len(whole) // 2])
    (landing / "_ground_truth" / "users.json").write_bytes(_real(real_rows, 300, 5))  # a side file
    monkeypatch.setenv("SPARKIFY_FILESYSTEM", "hadoop")

    first = run_ingest(f"file://{landing}")
    assert [(Path(path).name, reason.split(":")[0]) for path, _, reason in first.problems] == [
        ("truncated.json.gz", "truncated_gzip")
    ]
    assert (first.files_seen, first.lines_read, first.rows_kept) == (3, 200, 200)
    books = _books(spark)
    assert books == {file_uri(spaced): (120, 120, 0), file_uri(hashed): (80, 80, 0)}

    (landing / "truncated.json.gz").write_bytes(whole)  # completed: read again, through --retry too
    with spaced.open("ab") as handle:  # and the log grows by 10 lines
        handle.write(_real(real_rows, 600, 10))
    retried = main(["ingest", "--from", f"file:{landing}", "--retry", f"file:{landing}/truncated.json.gz"])
    assert retried == 0
    books = _books(spark)
    assert books[file_uri(landing / "truncated.json.gz")] == (30, 30, 0)
    assert books[file_uri(spaced)] == (130, 130, 0)
    assert spark.table(EVENTS_TABLE).count() == 240
    assert main(["ingest", "--from", f"file:{landing}/nothing-here"]) == 2


def _land_in_batches(source: Path, landing: Path, seed: int) -> list[list[Path]]:
    """The day files in three random batches, days out of order, with a late day in the last one;
    plus a redelivered copy of some events and a sessionId its user reuses days later."""
    rng = random.Random(seed)
    days = sorted((source / "events").glob("*.json"))
    late = days.pop(rng.randrange(3, len(days) - 3))
    rng.shuffle(days)
    cut_a, cut_b = sorted(rng.sample(range(2, len(days) - 1), 2))
    batches = [days[:cut_a], days[cut_a:cut_b], [*days[cut_b:], late]]
    extra = landing / "extra"
    extra.mkdir(parents=True)
    lines = days[0].read_bytes().splitlines()  # bytes: the generator's faults include invalid UTF-8
    redelivered = extra / "redelivered.json"
    redelivered.write_bytes(b"\n".join(lines[:25]) + b"\n")  # the same events again, in a later batch
    reused = extra / "reused-session.json"
    moved = []
    for line in lines[:8]:
        try:
            event = json.loads(line)
        except ValueError:  # a damaged line (the generator's faults): not an event to move
            continue
        if isinstance(event, dict) and isinstance(event.get("ts"), int) and event.get("userId"):
            event["ts"] += 5 * 86_400_000  # the user's sessionId again, five days later
            moved.append(json.dumps(event))
    stray = json.loads(moved[0])
    stray["ts"] = 1_893_456_000_000  # 2030-01-01: plausible by the configuration, but no day of data
    reused.write_text("\n".join([*moved, json.dumps(stray)]) + "\n")
    batches[1].append(redelivered)
    batches[2].append(reused)
    return batches


def _assert_the_spine_ends_in_2018(spark, when: str) -> None:
    """The stray 2030 event lands with the first batch, when the log is a few sparse days whose
    median day has one or two active users: it must not stretch the as-of spine then either."""
    last_as_of = spark.table("analytics.int_as_of_dates").agg(F.max("as_of_date")).first()[0]
    assert last_as_of.year == 2018, f"{when}: one stray event in 2030 stretched the spine to {last_as_of}"


def _latest_commits(spark) -> dict[str, tuple[int, object]]:
    """Each compared table's latest Delta commit (version, time): the incremental build, kept by
    Delta's history through the full refresh's CREATE OR REPLACE, read back by time travel."""
    commits = {}
    for table in COMPARED_TABLES:
        latest = spark.sql(f"describe history analytics.{table} limit 1").first()
        commits[table] = (latest.version, latest.timestamp)
    return commits


def _as_built_then(spark, table: str, commit: tuple[int, object]):
    """The table at ``commit``, after making sure that version is still that commit: a refresh that
    dropped and re-created the table would restart its history, and the comparison would then be
    of the full build with itself."""
    version, timestamp = commit
    then = spark.sql(f"describe history analytics.{table}").where(F.col("version") == version).first()
    assert then is not None and then.timestamp == timestamp, (
        f"{table}: the full refresh lost version {version}"
    )
    return spark.sql(f"select * from analytics.{table} version as of {version}")


def _comparable(frame):
    """The rows with doubles rounded to 6 decimals (exact sums make even that generous)."""
    return frame.select(
        *[
            F.round(F.col(f.name), 6).alias(f.name) if f.dataType.typeName() == "double" else F.col(f.name)
            for f in frame.schema.fields
        ]
    )


# Three seeds in the default run, as issue 18 asks of CI (about 2 minutes each alone, 3-7 in
# `make test`); two more in the slow suite (`make test-all`): each seed lands other faults, other
# batch cuts and another late day.
@pytest.mark.parametrize(
    "seed", [11, 12, 13, *(pytest.param(seed, marks=pytest.mark.slow) for seed in (14, 15))]
)
def test_incremental_builds_equal_a_full_refresh(empty_layers, test_home: Path, seed: int):
    spark = empty_layers
    source = test_home / f"generated-{seed}"
    landing = test_home / f"landing-batches-{seed}"
    for folder in (source, landing):
        shutil.rmtree(folder, ignore_errors=True)
    args = [
        "generate",
        "--users",
        "30",
        "--days",
        "24",
        "--seed",
        str(seed),
        "--corrupt-rate",
        "0.01",
        "--quiet",
    ]
    assert main([*args, "--out", str(source)]) == 0
    for number, batch in enumerate(_land_in_batches(source, landing, seed)):
        target = landing / f"batch-{number}"
        target.mkdir(parents=True)
        for path in batch:
            shutil.copy(path, target / path.name)
        run_ingest(landing)
        assert run_dbt(["run", *WAREHOUSE_RUN_ARGS]) == 0, f"incremental run after batch {number}"
        _assert_the_spine_ends_in_2018(spark, f"after batch {number}")
    incremental = _latest_commits(spark)
    assert run_dbt(["run", "--full-refresh", *WAREHOUSE_RUN_ARGS]) == 0
    differences = {}
    for table in COMPARED_TABLES:
        built = _comparable(_as_built_then(spark, table, incremental[table]))
        full = _comparable(spark.table(f"analytics.{table}"))
        only_incremental, only_full = built.exceptAll(full).count(), full.exceptAll(built).count()
        if only_incremental or only_full:
            differences[table] = (only_incremental, only_full)
    _assert_the_spine_ends_in_2018(spark, "after the full refresh")
    assert not differences, (
        f"seed {seed}: rows only in the incremental / only in the full build: {differences}"
    )
    assert spark.table("analytics.fct_user_features").count() > 0


def _kill_at(command: list[str], marker: str, after_s: float) -> str:
    """Start ``command``; once it prints ``marker`` (its work began), SIGKILL its process group
    ``after_s`` seconds later. Returns the last line it printed: where the kill landed."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    for line in child.stdout:
        if marker in line:
            break
    time.sleep(after_s)
    os.killpg(child.pid, signal.SIGKILL)
    output = child.communicate()[0]
    time.sleep(1)  # the JVM's Derby lock goes with the process group
    lines = [line for line in output.splitlines() if line.strip()]
    return f"{after_s:.1f} s after {marker!r}: " + (
        lines[-1] if lines else f"(finished: rc {child.returncode})"
    )


# Kill points: a few in the default run; many in the slow suite (`make test-all`). Each killed
# ingest lands a new file of distinct real lines (a copy would be booked as a duplicate).
@pytest.mark.parametrize(
    ("ingest_kills", "lines_per_file", "build_kills"),
    [(3, 400, 2), pytest.param(30, 80, 10, marks=pytest.mark.slow)],
)
def test_ingest_and_build_killed_anywhere_are_finished_by_a_rerun(
    empty_layers, real_rows: Path, test_home, ingest_kills: int, lines_per_file: int, build_kills: int
):
    """SIGKILL at random points (seeded), rerun: the books balance and no line is there twice."""
    landing = test_home / "landing-crash"
    shutil.rmtree(landing, ignore_errors=True)
    landing.mkdir()
    stop_spark()  # the embedded metastore admits one JVM: hand it to the child processes
    rng = random.Random(2026)
    ingest = [sys.executable, "-m", "sparkify.app", "ingest", "--from", str(landing)]
    build = [sys.executable, "-m", "sparkify.app", "build", "--exclude", "resource_type:test",
             "resource_type:unit_test"]  # fmt: skip
    seen = []
    for round_ in range(ingest_kills):
        part = _real(real_rows, lines_per_file * round_, lines_per_file)
        (landing / f"part-{round_}.json").write_bytes(part)
        seen.append(("ingest", _kill_at(ingest, "ingest: survey", rng.uniform(0, 12))))
    for _ in range(build_kills):
        seen.append(("build", _kill_at(build, "START", rng.uniform(0, 20))))
    print("kill points (command, its last line before the kill):", *seen, sep="\n  ")
    for command in (ingest, build):
        rerun = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
        assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-2000:]
    spark = get_spark()
    books = _books(spark)
    assert len(books) == ingest_kills, (books, seen)
    assert all(n == lines_per_file == kept + rejected for n, kept, rejected in books.values()), (books, seen)
    lines = (
        spark.table(EVENTS_TABLE)
        .select("_source_file", "_source_line")
        .union(spark.table(REJECTED_TABLE).select("_source_file", "_source_line"))
    )
    assert lines.count() == lines.distinct().count() == ingest_kills * lines_per_file, seen
    assert spark.table("analytics.stg_sparkify__events").count() == spark.table(EVENTS_TABLE).count()
