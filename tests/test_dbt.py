"""dbt on the project's profile: a plain `dbt build` from the project root writes Delta tables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from itertools import takewhile
from pathlib import Path

from sparkify.app.build_checks import WITHOUT_UNIT_TESTS
from tests.conftest import PROJECT_ROOT

VENV_BIN = Path(sys.executable).parent


def test_plain_dbt_build_from_the_project_root_uses_delta(real_rows: Path, test_home: Path):
    """What an analytics engineer does by hand: activate the venv, `dbt build`, query the result.

    Runs in child processes against a lakehouse of its own, because the embedded Derby metastore
    admits one process at a time and this test process holds the suite's.
    """
    env = {**os.environ, "SPARKIFY_LAKEHOUSE": str(test_home / "plain-dbt-lakehouse")}

    def run(*command: str) -> subprocess.CompletedProcess:
        # A hang guard, not a time limit: idle, the build takes about 2 min; in `make test` it runs
        # beside the cluster module's start (five JVMs on the same two cores) and once took over 10.
        return subprocess.run(
            command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=1800
        )

    ingest = run(str(VENV_BIN / "sparkify"), "ingest", "--from", str(real_rows))
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    build = run(str(VENV_BIN / "dbt"), "build")
    assert build.returncode == 0, build.stdout[-3000:]
    assert "Completed successfully" in build.stdout
    finished = [line for line in build.stdout.splitlines() if "Finished running" in line]
    assert finished and " unit tests" in finished[0], finished  # a plain dbt build runs dbt's unit tests
    # An analyst's three statements in one `sparkify sql` (one JVM): the staged table's description,
    # the real log's churners, then four of a mart's row rules broken at once.
    answers = run(
        str(VENV_BIN / "sparkify"),
        "sql",
        "describe extended analytics.stg_sparkify__events",
        "select coalesce(d.user_id, r.user_id) as user_id, unix_millis(d.churn_ts) <=> r.ts as at_the_event "
        "from (select user_id, churn_ts from analytics.dim_users where churn_ts is not null) as d "
        "full outer join (select userId as user_id, ts from raw.sparkify_events "
        "where page = 'Cancellation Confirmation') as r on d.user_id = r.user_id",
        # Two not-null columns, an accepted value and the key (user 18 becomes a second user 32).
        "update analytics.dim_users set has_churned = null, last_activity_ts = null, gender = 'X', "
        "user_id = if(user_id = '18', '32', user_id)",
        "--format",
        "json",
    )
    assert answers.returncode == 0, answers.stderr[-2000:]
    described, churners, _ = json.loads(answers.stdout)
    assert {"col_name": "Provider", "data_type": "delta", "comment": ""} in described, described
    # The columns come first, up to the blank row before the partitioning and the table's details.
    first_fields = [row["col_name"].strip() for row in described]
    names = {name.lower() for name in takewhile(lambda name: name and not name.startswith("#"), first_fields)}
    assert "event_id" in names and not names & {"firstname", "lastname", "first_name", "last_name"}, names
    # The real log's churners are exactly its five users with a Cancellation Confirmation, each
    # churned at that event's instant, to the millisecond.
    assert {row["user_id"] for row in churners} == {"18", "32", "12", "125", "100001"}, churners
    assert all(row["at_the_event"] for row in churners), churners
    # The build just compiled every node: the catalog needs no second compilation.
    docs = run(str(VENV_BIN / "dbt"), "docs", "generate", "--no-compile")
    assert docs.returncode == 0, docs.stdout[-3000:]
    catalog = json.loads((Path(os.environ["DBT_TARGET_PATH"]) / "catalog.json").read_text())
    documented = {node["metadata"]["name"] for node in catalog["nodes"].values()}
    assert {"fct_user_features", "fct_churn_labels", "fct_training_set", "dim_users"} <= documented
    assert not (PROJECT_ROOT / "metastore_db").exists() and not (PROJECT_ROOT / "spark-warehouse").exists()
    # The damaged mart's one data test fails with one row per broken rule.
    checked = run(str(VENV_BIN / "dbt"), "test", "--select", "dim_users", *WITHOUT_UNIT_TESTS)
    assert checked.returncode == 1, checked.stdout[-3000:]
    failed = [line for line in checked.stdout.splitlines() if " FAIL " in line]
    assert len(failed) == 1 and "valid_rows_dim_users" in failed[0] and "FAIL 4" in failed[0], failed
