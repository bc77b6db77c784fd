"""Shared fixtures: one project-local test lakehouse and one SparkSession per test process.

The test lakehouse lives under ``lakehouse/pytest-<pid>`` (git-ignored, inside the project), one
per test process (``make test`` runs two, one test file at a time each):
tests use the real runtime (Spark, Delta, Derby, dbt) exactly as users do, only pointed at
their own folder, and never touch a user's lakehouse or /tmp.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TEST_HOME = PROJECT_ROOT / "lakehouse" / f"pytest-{os.getpid()}"
REAL_ROWS = PROJECT_ROOT.parent / "shared" / "data" / "sparkify-real" / "mini_union_real_rows.jsonl"

os.environ["SPARKIFY_LAKEHOUSE"] = str(TEST_HOME / "lakehouse")
os.environ["SPARKIFY_RAW_DIR"] = str(TEST_HOME / "landing")
# dbt's target/ and logs/ per test process too: `make test` runs two processes side by side
# (pytest-xdist), and two dbt runs must never share a manifest or a partial-parse file.
os.environ["DBT_TARGET_PATH"] = str(TEST_HOME / "dbt-target")
os.environ["DBT_LOG_PATH"] = str(TEST_HOME / "dbt-logs")
os.environ.pop("DBT_TARGET", None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The cluster module last, the rest in name order (`make test` hands files out in this order).

    Its PostgreSQL, master, two workers and Thrift server share the same two cores with the other
    test process: beside the rest, the module took 2,509 s and the plain `dbt build` test next to
    it 1,133 s; alone, the module took 1,407 s and that test takes about 2 minutes. Last, it
    overlaps only the other process's last files, which it still slows: in the first `make test`
    with this order (173 passed in 3,555 s, from 4,050 s) the plain build took 390 s, but the
    warehouse's rebuild test, beside the cluster, 885 s against 249 s before.
    """
    items.sort(key=lambda item: item.get_closest_marker("cluster") is not None)


@pytest.fixture(scope="session", autouse=True)
def test_home() -> Iterator[Path]:
    """A fresh test folder for the session, removed afterwards."""
    shutil.rmtree(TEST_HOME, ignore_errors=True)
    TEST_HOME.mkdir(parents=True)
    yield TEST_HOME
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()
    shutil.rmtree(TEST_HOME, ignore_errors=True)


@pytest.fixture
def spark(test_home: Path):
    """The process-wide SparkSession, built from profiles.yml like every entry point's.

    Function-scoped but cheap: it returns the active session, and starts one only when a test
    stopped it (the scoring-job kill test hands the metastore to child processes).
    """
    from sparkify.runtime.spark import get_spark

    return get_spark()


@pytest.fixture(scope="session")
def real_rows() -> Path:
    """The 2,600 real Sparkify rows shipped in ../shared."""
    if not REAL_ROWS.exists():
        pytest.fail(f"real rows not found at {REAL_ROWS}; the project expects ../shared beside it")
    return REAL_ROWS


PIPELINE_SCHEMAS = ("raw", "analytics", "snapshots")


def drop_schemas(spark, schemas: tuple[str, ...] = PIPELINE_SCHEMAS) -> None:
    """Drop the schemas the pipeline writes (all by default), so a scenario starts from nothing."""
    for schema in schemas:
        spark.sql(f"drop database if exists {schema} cascade")


def build_generated_warehouse(scale: str, seed: int = 1, users: int | None = None) -> Path:
    """Empty the test warehouse, generate a log at ``scale`` (``users`` of them when given, else the
    preset's) into the landing folder, ingest it, dbt build.

    dbt's unit tests are left out, as ``sparkify build`` leaves them: tests/test_dbt.py runs them.
    """
    from sparkify.app.build_checks import WITHOUT_UNIT_TESTS
    from sparkify.app.cli import main
    from sparkify.ingest.command import run_ingest
    from sparkify.runtime.dbt import run_dbt
    from sparkify.runtime.spark import get_spark

    drop_schemas(get_spark())
    landing = Path(os.environ["SPARKIFY_RAW_DIR"])
    size = ["--users", str(users)] if users else []
    assert (
        main(["generate", "--scale", scale, *size, "--seed", str(seed), "--out", str(landing), "--quiet"])
        == 0
    )
    run_ingest(landing)
    assert run_dbt(["build", *WITHOUT_UNIT_TESTS]) == 0, "dbt build failed (see output above)"
    return landing
