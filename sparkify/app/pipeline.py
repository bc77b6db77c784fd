"""``sparkify run``: every step in order, in one process (one JVM, one lock).

generate (only when nothing has landed) -> ingest -> dbt build -> validate -> train -> score
(written, audited, then published) -> report. A failed build or a failed validation stops the run
before anything is published. A landed file that was refused (damaged, rewritten) does not stop
the run; the run ends with exit 1 so that the scheduler notices.
"""

from __future__ import annotations

import time
from argparse import Namespace
from collections.abc import Sequence

from sparkify.app.jobs import build_warehouse, score_job, train_job
from sparkify.expectations.suites import SCORING_INPUT_SUITES
from sparkify.expectations.validate import SuiteOutcome, validate
from sparkify.generator.cli import generate_command
from sparkify.ingest.command import run_ingest
from sparkify.ingest.files import discover, needs_spark
from sparkify.ml.model_card import ModelCard
from sparkify.ml.reporting.report import render_report
from sparkify.ml.training.dataset import trainable_split
from sparkify.ml.training.pipelines import GRIDS as TRAINED_FAMILIES
from sparkify.runtime import storage
from sparkify.runtime.errors import EXIT_CHECK_FAILED, CheckFailed
from sparkify.runtime.progress import say, step
from sparkify.runtime.settings import (
    ANALYTICS_SCHEMA,
    RAW_SCHEMA,
    lakehouse_dir,
    raw_landing,
    raw_landing_dir,
)
from sparkify.runtime.spark import get_spark

# What the summary calls each reference score beside the trained model (anything else is a baseline).
REFERENCE_ROLES = {
    "observable_ceiling": "ceiling: Bayes from the log alone",
    "oracle": "latent oracle: knows the hidden state",
}


def run_pipeline(scale: str = "mini", seed: int = 1, families: Sequence[str] | None = None) -> int:
    """Run every step; print the tables built and the champion next to its baselines.

    ``families``: the model families to train (None: every one; the calibrated rule always).
    """
    started = time.monotonic()
    landing = raw_landing()
    if not needs_spark(landing) and not discover(landing):  # a landing elsewhere is never generated into
        landing = raw_landing_dir()
        with step(f"generate a {scale}-scale log (seed {seed}) into {landing}"):
            generate_command(
                Namespace(
                    scale=scale,
                    users=None,
                    days=None,
                    seed=seed,
                    out=landing,
                    start=None,
                    end=None,
                    gzip=False,
                    corrupt_rate=0.0,
                    workers=0,
                    quiet=True,
                )
            )
    ingested = run_ingest(None)
    with step("dbt build"):
        code = build_warehouse()
    if code != 0:
        raise CheckFailed("dbt build failed; see the dbt output above (and target/run_results.json)")
    # A cold start or a short log builds valid, small marts; training needs more: stop here, in one line.
    trainable_split(get_spark())
    with step("validate the warehouse"):
        outcomes = validate((*SCORING_INPUT_SUITES, "fct_training_set"))
    stop_on_failure(outcomes)
    with step("train churn models"):
        model = train_job(families=families)
    score_job()  # write, audit, publish: the scores are validated before anyone can read them
    with step("write the report"):
        report = render_report()
    _summary(time.monotonic() - started, model, report)
    if ingested.problems:
        say(
            f"run: {len(ingested.problems)} landed files were refused (named above): exit 1 so that the scheduler notices"
        )
        return EXIT_CHECK_FAILED
    return 0


def stop_on_failure(outcomes: list[SuiteOutcome]) -> None:
    failed = [f"{o.suite}: {', '.join(o.critical_failures)}" for o in outcomes if o.critical_failures]
    if failed:
        raise CheckFailed("validation failed, nothing published; " + "; ".join(failed))


def _summary(seconds: float, model: ModelCard, report: str) -> None:
    spark = get_spark()
    lines = [f"sparkify run finished in {seconds:.0f} s; lakehouse: {lakehouse_dir()}"]
    for schema in (RAW_SCHEMA, ANALYTICS_SCHEMA):
        for row in spark.sql(f"show tables in {schema}").collect():
            if row.isTemporary:
                continue
            name = f"{schema}.{row.tableName}"
            count = spark.table(name).count()
            lines.append(f"  {name:<45} {count:>12,} rows")
    # The model trained now is the champion only when it was promoted; otherwise the scores came
    # from the champion it failed to beat on the same rows, and the summary says so.
    promoted = model.promoted
    trained = "champion" if promoted else "trained"
    lines.append(
        f"{trained} {model.version} ({model.family}), held-out as-of {', '.join(model.split['test'])}:"
    )
    for name, result in model.held_out.items():
        if name == model.family or name not in TRAINED_FAMILIES:
            role = trained if name == model.family else REFERENCE_ROLES.get(name, "baseline")
            lines.append(
                f"  {name:<32} AUC-PR {result['auc_pr']:.3f}  AUC-ROC {result['auc_roc']:.3f}  ({role})"
            )
    if not promoted:
        lines.append(f"{model.version} {model.promotion}: the scores are the champion's")
    lines.append(f"report: {storage.local_path(report) or report}")
    say("\n".join(lines))
