"""The scheduled jobs, composed from the domain packages: train, and gate -> score -> mart refresh.

These are the steps a scheduler (cron, spark-submit) runs. Each is one function so that the
``sparkify`` command, ``sparkify run`` and spark-submit run exactly the same sequence.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sparkify.app.build_checks import (
    check_scope,
    record_checked,
    runs_every_test,
    with_scope,
    with_unit_tests_or_not,
)
from sparkify.expectations.gate import check_gate
from sparkify.expectations.validate import validate
from sparkify.generator.ceiling import load_observable_ceiling
from sparkify.generator.truth import ground_truth_if_any
from sparkify.ingest.tables import files_replaced_since
from sparkify.ml.inference.score import (
    SCORES_TABLE,
    STAGED_SCORES_TABLE,
    ScoreResult,
    champion_or_fail,
    latest_as_of,
    publish,
    stage,
)
from sparkify.ml.model_card import ModelCard
from sparkify.ml.training.pipelines import requested_families
from sparkify.ml.training.train import train
from sparkify.runtime.dbt import run_dbt
from sparkify.runtime.errors import CheckFailed
from sparkify.runtime.progress import say, step
from sparkify.runtime.settings import SettingsError, raw_landing_dir
from sparkify.runtime.spark import delta_version, get_spark

RISK_MART = "fct_churn_risk"
STAGING_TABLE = "analytics.stg_sparkify__events"
MART_REFRESH_ATTEMPTS = 3


def build_warehouse(
    dbt_args: list[str] | tuple[str, ...] = (), full_checks: bool = False, unit_tests: bool = False
) -> int:
    """``dbt build``, in full when a file's rows were replaced (``--reingest``) since the last build.

    Incremental models only ever add what new batches bring; rows a reingest removed from the raw
    layer can only leave the warehouse through a full refresh, so the build takes one, and says so.
    The staging tests read only the event dates of rows no passing build has checked yet
    (``build_checks``), every event with ``full_checks`` or on a full refresh. dbt's unit tests
    run only with ``unit_tests`` or when the options choose resource types themselves.
    """
    args = list(dbt_args)
    if "--full-refresh" not in args:
        replaced = files_replaced_since(STAGING_TABLE)
        if replaced:
            say(
                f"build: {len(replaced)} files were reingested since the last build ({replaced[0]}, ...): full refresh"
            )
            args.append("--full-refresh")
    scope = None if full_checks or "--full-refresh" in args else check_scope(STAGING_TABLE)
    if scope is not None:
        say(
            f"build: the event tests read rows after batch {scope.checked_through}, "
            f"dated {scope.events_from} on (--full-checks reads all)"
        )
        args = with_scope(args, scope)
    every_test = runs_every_test(args)
    code = run_dbt(["build", *with_unit_tests_or_not(args, unit_tests)])
    if code == 0 and every_test:
        record_checked(STAGING_TABLE)
    return code


def train_job(promote_new: bool = False, families: Sequence[str] | None = None) -> ModelCard:
    """Train on the training set, with the generator's ceilings beside the models when the log has them:
    the observable ceiling (Bayes from the log alone) and the latent oracle (knows the hidden state).

    ``families``: the model families to fit (None: every one); the calibrated rule is always fitted.
    """
    chosen = requested_families(families)
    try:
        landing = raw_landing_dir()
    except SettingsError:  # a landing on another file system: a real log there has no ground truth
        return train(promote_new, oracle=None, families=chosen)
    truth = ground_truth_if_any(landing)
    ceiling = load_observable_ceiling(landing, truth) if truth is not None else None
    return train(promote_new, oracle=truth, ceiling=ceiling, families=chosen)


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
    """Gate on the inputs' validation, score into the staged table, audit it, publish, refresh the mart.

    A failed audit (the churn_scores suite on the staged scores) stops before publishing: the
    published table keeps its version, and the message says so. ``skip_validation`` skips the
    input gate only; the scores are always audited.
    """
    spark = get_spark()
    as_of = as_of or latest_as_of(spark)
    champion = champion_or_fail()
    validation_run_id = check_gate(spark, as_of, skip_validation)
    ensure_scores_table()
    staged = stage(as_of, champion, validation_run_id, skip_validation)
    with step("audit the staged scores"):
        failed = [o for o in validate(("churn_scores",)) if o.critical_failures]
    if failed:
        published_before = delta_version(spark, SCORES_TABLE)
        raise CheckFailed(
            f"the staged scores failed validation ({'; '.join(failed[0].critical_failures)}): nothing was "
            f"published, {SCORES_TABLE} is unchanged at Delta version {published_before}; the rejected scores "
            f"are in {STAGED_SCORES_TABLE}"
        )
    with step(f"publish the audited scores to {SCORES_TABLE}"):
        version = publish(spark, as_of, champion.version, staged.table_version)
    say(f"score: published {staged.users:,} scores at {as_of} -> {SCORES_TABLE} (Delta version {version})")
    result = ScoreResult(as_of, champion.version, staged.users, version)
    with step(f"refresh analytics.{RISK_MART}"):
        # Idempotent: a scoring run beside this one may replace the mart at the same moment, and
        # Delta then refuses one of the two commits; the refresh is simply run again.
        if not any(run_dbt(["build", "--select", RISK_MART]) == 0 for _ in range(MART_REFRESH_ATTEMPTS)):
            raise CheckFailed(f"dbt build --select {RISK_MART} failed after scoring")
    return result
