"""The scheduled jobs, composed from the domain packages: train, and gate -> score -> mart refresh.

These are the steps a scheduler (cron, spark-submit) runs. Each is one function so that the
``sparkify`` command, ``sparkify run`` and spark-submit run exactly the same sequence.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sparkify.expectations.gate import check_gate
from sparkify.generator.truth import ground_truth_if_any
from sparkify.ml.score import SCORES_TABLE, ScoreResult, champion_or_fail, latest_as_of, score
from sparkify.ml.train import train
from sparkify.runtime.dbt import run_dbt
from sparkify.runtime.errors import CheckFailed
from sparkify.runtime.progress import step
from sparkify.runtime.settings import raw_landing_dir
from sparkify.runtime.spark import get_spark

RISK_MART = "fct_churn_risk"


def train_job(promote_new: bool = False) -> dict[str, Any]:
    """Train on the training set, with the generator's oracle as the ceiling when the log has one."""
    return train(promote_new, oracle=ground_truth_if_any(raw_landing_dir()))


def ensure_scores_table() -> None:
    """The scores table's DDL lives in one place, the dbt macro that ``dbt build`` also runs on start."""
    spark = get_spark()
    created = (
        spark.catalog.tableExists(SCORES_TABLE)
        or run_dbt(["run-operation", "create_churn_scores_table"]) == 0
    )
    if not created:
        raise CheckFailed(f"could not create {SCORES_TABLE} (dbt run-operation create_churn_scores_table)")


def score_job(as_of: date | None = None, skip_validation: bool = False) -> ScoreResult:
    """Gate on the latest validation, score the champion's users, then refresh the analysts' mart."""
    spark = get_spark()
    as_of = as_of or latest_as_of(spark)
    champion = champion_or_fail()
    validation_run_id = check_gate(spark, as_of, skip_validation)
    ensure_scores_table()
    result = score(as_of, champion, validation_run_id, skip_validation)
    with step(f"refresh analytics.{RISK_MART}"):
        if run_dbt(["build", "--select", RISK_MART]) != 0:
            raise CheckFailed(f"dbt build --select {RISK_MART} failed after scoring")
    return result
