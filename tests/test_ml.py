"""Validation gate, training, scoring and the report on a generated mini-scale log (seed 1), end to end.

One warehouse is built for the module (ingest + dbt build, about 3 minutes); the tests then run
in order on it, as the scheduled job would: validate, train, score (twice), report, the next day
through `sparkify daily`, a bad day that validation must stop, and a scoring job killed half-way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from pyspark.ml.functions import vector_to_array
from pyspark.sql import functions as F

from sparkify.app.cli import main
from sparkify.app.jobs import train_job as train
from sparkify.expectations.suites import SUITES
from sparkify.expectations.validate import columns_read, data_docs_index
from sparkify.ingest.command import run_ingest
from sparkify.ml import tracking
from sparkify.ml.calibration import IDENTITY, Calibration
from sparkify.ml.model_card import ModelCard
from sparkify.ml.reporting.report import render_report
from sparkify.runtime import storage
from sparkify.runtime.dbt import run_dbt
from sparkify.runtime.spark import delta_version, stop_spark
from tests.conftest import PROJECT_ROOT, build_generated_warehouse

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# The mini preset's 63 days and seed, with 120 of its 225 users: the purged split still holds
# churners on every side, and the module's build, training and scoring read half the rows.
LOG_USERS = 120
LOG_SEED = 1
# The same population's later days (the daily and the bad-day tests) come from the same options.
SAME_LOG = ("--scale", "mini", "--users", str(LOG_USERS), "--seed", str(LOG_SEED))


@pytest.fixture(scope="module")
def warehouse(test_home: Path):
    """A generated mini-scale log (LOG_SEED, LOG_USERS users), ingested and built."""
    return build_generated_warehouse("mini", seed=LOG_SEED, users=LOG_USERS)


def _scores_version(spark) -> int:
    return delta_version(spark, "analytics.churn_scores")


def test_validate_passes_on_a_clean_log_and_records_every_result(warehouse, spark):
    assert main(["validate"]) == 0
    index = data_docs_index().read_text()
    for spec in SUITES:
        if spec.name != "churn_scores":  # no scores before the first scoring run: skipped, not failed
            assert spec.name in index, spec.name
    rows = spark.sql(
        "select suite, success, count(*) as n from analytics.validation_results group by 1, 2"
    ).collect()
    assert {r.suite for r in rows} >= {"stg_sparkify__events", "fct_user_features", "fct_training_set"}
    assert all(r.success for r in rows if r.suite != "churn_scores")


def test_each_suite_caches_exactly_the_columns_its_expectations_read():
    # validate caches only these columns per suite: a column missing here would fail the suite.
    expected = {
        "stg_sparkify__events": ["user_id", "page", "song_length_s"],
        "stg_sparkify__events_daily": ["thumbs_down_share", "song_share"],
        "churn_scores": [
            "churn_probability",
            "churn_probability_over_mean",  # derived by the suite's frame: the relative spread
            "user_id",
            "as_of_date",
            "model_version",
            "risk_decile",
        ],
    }
    for spec in SUITES:
        read = columns_read(spec.expectations({}))
        if spec.name in expected:
            assert sorted(read) == sorted(expected[spec.name]), spec.name
        assert read, spec.name


def test_champion_is_trained_on_a_purged_split_and_beats_the_base_rate(warehouse):
    # Seed 1 at mini scale: no trained family beats the one-feature rule convincingly on
    # validation, so the rule is published; see docs/ml.md "Where the models stand".
    card = train()
    held_out = card.held_out
    champion = card.published
    # The rule competes as a family; made a scorer, it keeps the rule's ranking (same AUC-ROC on
    # the held-out rows). A trained family is published only when it won validation and beat the
    # rule in most bootstrap resamples of the validation users; otherwise the rule is published.
    validation = card.validation_auc_pr
    chosen = card.selection
    assert {"calibrated_rule", "xgboost"} <= set(validation) <= set(held_out)
    assert validation[chosen.best_on_validation] == max(validation.values())
    assert card.family == chosen.published
    if card.family != chosen.best_on_validation:
        assert card.family == "calibrated_rule" and chosen.win_share < 0.9, chosen
    elif card.family != "calibrated_rule":
        assert chosen.win_share >= 0.9, chosen
    assert held_out["calibrated_rule"]["auc_roc"] == pytest.approx(
        held_out["rule_fewest_songs_14d"]["auc_roc"]
    )
    assert card.promoted
    assert tracking.champion().version == card.version
    assert champion["auc_pr"] > held_out["base_rate"]["auc_pr"]
    # The published scores are never worse than the rule we already compute (issue 16's mini target).
    assert champion["auc_pr"] >= held_out["rule_fewest_songs_14d"]["auc_pr"] - 1e-9
    assert champion["auc_roc"] > 0.5
    assert held_out["oracle"]["auc_pr"] > champion["auc_pr"]  # generated log: the ceiling is reported
    # Beside it, the observable ceiling (Bayes from the log alone): a calibrated probability that
    # knows less than the oracle, so it can neither rank nor fit better on the same rows.
    ceiling = held_out["observable_ceiling"]
    assert held_out["base_rate"]["auc_roc"] < ceiling["auc_roc"] < held_out["oracle"]["auc_roc"]
    assert ceiling["brier"] >= held_out["oracle"]["brier"] * 0.9
    assert {"rule_fewest_songs_14d", "base_rate"} <= set(held_out)
    assert 0 <= champion["brier"] < held_out["base_rate"]["brier"] * 1.5
    # Every family's calibration was decided on validation; the champion's is the published one.
    assert set(card.validation_calibration) == set(validation)
    assert card.calibration == card.validation_calibration[card.family]
    assert 0 <= champion["ece"] < 0.5
    split = {name: [date.fromisoformat(d) for d in days] for name, days in card.split.items()}
    horizon = timedelta(days=card.horizon_days)
    assert max(split["final_fit"]) + horizon <= min(
        split["test"]
    )  # purged: no fit label covers the test period
    assert max(split["tune_fit"]) + horizon <= min(split["validation"])
    _assert_the_run_is_tracked_in_mlflow(card)


def _assert_the_run_is_tracked_in_mlflow(card: ModelCard) -> None:
    """The training is an MLflow run: parameters, metrics of every scorer, plots, card, lineage tags."""
    run = tracking.client().get_run(card.run_id)
    assert run.info.status == "FINISHED"
    for scorer in card.held_out:  # families, baselines and both ceilings
        assert run.data.metrics[f"held_out.{scorer}.auc_pr"] == pytest.approx(card.held_out[scorer]["auc_pr"])
    assert {f"validation.{family}.auc_pr" for family in card.validation_auc_pr} <= set(run.data.metrics)
    assert run.data.params["published_family"] == card.family
    assert run.data.tags["training_table_delta_version"] == str(card.training_table_delta_version)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    # The full commit, which MLflow's UI shows; the card's version names its short form.
    assert run.data.tags["mlflow.source.git.commit"] == head.stdout.strip()
    assert head.stdout.startswith(card.code_version.split("+")[1].removesuffix(".dirty"))
    artifacts = {entry.path for entry in tracking.client().list_artifacts(run.info.run_id, "plots")}
    assert {"plots/pr_curve.png", "plots/calibration.png", "plots/lift.png"} <= artifacts
    version = tracking.client().get_model_version_by_alias(tracking.MODEL_NAME, tracking.CHAMPION_ALIAS)
    assert f"{tracking.MODEL_NAME}/{version.version}" == card.version
    assert version.run_id == run.info.run_id and version.tags["promotion"] == card.promotion
    assert tracking.champion().card == card  # the card travels with the run


def test_a_model_becomes_champion_only_when_it_matches_the_champion_on_the_same_rows(warehouse, spark):
    from sparkify.ml.training.dataset import KEYS, LABEL, TRAINING_TABLE, rows_at, trainable_split
    from sparkify.ml.training.train import _decide_promotion

    champion = tracking.champion()
    test_rows = rows_at(spark.table(TRAINING_TABLE), trainable_split(spark).test)
    labels = (
        test_rows.select(*KEYS, F.col(LABEL).cast("double").alias("label")).toPandas().sort_values(list(KEYS))
    )["label"].to_numpy()
    champion_auc = champion.card.published["auc_pr"]
    # A challenger registered as the next version: the champion's own pipeline under a new number.
    with tracking.training_run({"purpose": "promotion test"}) as run_id:
        challenger = tracking.register(champion.load(), run_id, champion.card)
        tracking.log_card(challenger.card)
    assert challenger.number == champion.number + 1
    worse = _decide_promotion(challenger, False, champion_auc - 0.01, test_rows, labels)
    assert worse.startswith("not promoted"), worse
    assert tracking.champion().number == champion.number
    matching = _decide_promotion(challenger, False, champion_auc + 1e-9, test_rows, labels)
    assert matching.startswith("promoted (held-out AUC-PR"), matching
    assert tracking.champion().number == challenger.number


def test_the_calibration_map_is_the_same_in_spark_and_numpy(spark):
    probabilities = np.array([0.0, 1e-9, 0.003, 0.05, 0.5, 0.97, 1.0])
    platt = Calibration("platt", 0.62, -0.4)
    frame = spark.createDataFrame([(float(p),) for p in probabilities], "p double")
    in_spark = [row[0] for row in frame.select(platt.column(F.col("p"))).collect()]
    assert in_spark == pytest.approx(platt.apply(probabilities).tolist(), rel=1e-12)
    assert [row[0] for row in frame.select(IDENTITY.column(F.col("p"))).collect()] == probabilities.tolist()


def test_the_xgboost_family_saves_loads_and_names_the_column_it_splits_on(spark, test_home):
    from pyspark.ml import PipelineModel

    from sparkify.ml.evaluation.importance import feature_importances
    from sparkify.ml.training.dataset import FeatureSet
    from sparkify.ml.training.pipelines import GRIDS, XGBOOST, build_pipeline, candidates

    # Churn follows `signal` alone; `noise` and the category carry nothing.
    rows = spark.range(3000).select(
        F.rand(3).alias("signal"),
        F.rand(4).alias("noise"),
        F.when(F.rand(5) < 0.5, "paid").otherwise("free").alias("level"),
    )
    rows = rows.select(
        "*",
        (F.col("signal") + F.rand(6) * 0.3 > 1.0).cast("double").alias("label"),
        F.lit(1.0).alias("class_weight"),
    )
    candidate = next(candidates((XGBOOST,)))
    assert candidate.params == {name: values[0] for name, values in GRIDS[XGBOOST].items()}
    features = FeatureSet(numeric=("signal", "noise"), categorical=("level",))
    model = build_pipeline(candidate, features).fit(rows)
    folder = str(test_home / "xgboost-pipeline")
    model.write().overwrite().save(folder)
    loaded = PipelineModel.load(folder)

    def churn_probabilities(pipeline) -> list[float]:
        scored = pipeline.transform(rows).select(vector_to_array("probability")[1].alias("p"))
        return [row.p for row in scored.collect()]

    assert churn_probabilities(loaded) == pytest.approx(churn_probabilities(model), abs=1e-7)
    importances = feature_importances(loaded, loaded.transform(rows.limit(1)))
    assert importances[0][0] == "signal" and importances[0][1] > 0.8, importances
    assert {name for name, _ in importances} == {"signal", "noise", "level"}


def test_a_grid_point_fitted_on_the_shared_preparation_is_the_model_its_whole_pipeline_fits(spark):
    from sparkify.ml.training.dataset import KEYS, LABEL, FeatureSet, with_label_and_weight
    from sparkify.ml.training.pipelines import CALIBRATED_RULE, build_pipeline, candidates
    from sparkify.ml.training.train import FitSet

    # Churn follows `songs_14d` (the rule's feature) and `friction`; a tenth of `friction` is missing.
    rows = spark.range(2000).select(
        F.col("id").cast("string").alias("user_id"),
        F.date_add(F.lit("2018-10-01").cast("date"), (F.col("id") % 5).cast("int")).alias("as_of_date"),
        (F.rand(3) * 100).alias("songs_14d"),
        F.when(F.rand(4) < 0.1, F.lit(None)).otherwise(F.rand(5)).alias("friction"),
        F.when(F.rand(6) < 0.5, "paid").otherwise("free").alias("level"),
    )
    rows = rows.select(
        "*", (F.coalesce("friction", F.lit(0.5)) * 2 - F.col("songs_14d") / 50 > 0.6).alias(LABEL)
    )
    features = FeatureSet(numeric=("songs_14d", "friction"), categorical=("level",))
    families = ("logistic_regression", "random_forest", CALIBRATED_RULE)
    chosen = [
        c for c in candidates(families) if c.family != "logistic_regression" or c.params["regParam"] == 0.03
    ]

    def probabilities(model) -> list[float]:
        scored = model.transform(with_label_and_weight(rows, 1.0)).orderBy(*KEYS)
        return [row.p for row in scored.select(vector_to_array("probability")[1].alias("p")).collect()]

    with FitSet(rows) as fit_set:
        laid_out = rows.repartition(2, *KEYS).sortWithinPartitions(*KEYS)
        for candidate in chosen:
            shared = fit_set.fit(candidate, features)
            whole = build_pipeline(candidate, features).fit(
                with_label_and_weight(laid_out, shared.positive_weight)
            )
            assert [type(stage) for stage in shared.pipeline.stages] == [
                type(stage) for stage in whole.stages
            ]
            assert probabilities(shared.pipeline) == pytest.approx(probabilities(whole), abs=1e-9), (
                candidate.name
            )


def test_scoring_twice_replaces_instead_of_adding(warehouse, spark):
    assert main(["score"]) == 0
    first = spark.table("analytics.churn_scores").count()
    assert main(["score"]) == 0
    scores = spark.table("analytics.churn_scores")
    assert scores.count() == first > 50
    assert scores.where(~F.col("churn_probability").between(0, 1)).count() == 0
    sizes = [r["count"] for r in scores.groupBy("risk_decile").count().collect()]
    assert len(sizes) == 10 and max(sizes) - min(sizes) <= 1
    with_factor = scores.where(F.col("risk_factor_1").isNotNull())
    # Scored by the version the alias points at (models:/sparkify_churn@champion).
    champion = tracking.champion()
    assert {r.model_version for r in scores.select("model_version").distinct().collect()} == {
        champion.version
    }
    if champion.card.family == "calibrated_rule":
        # One feature: a user has a factor when their songs_14d is below the median of those
        # scored (fewer songs push the risk up), so about half of them do.
        named = {r.risk_factor_1 for r in with_factor.select("risk_factor_1").distinct().collect()}
        assert named == {"songs_14d"}
        assert with_factor.count() > first * 0.4
    else:
        assert with_factor.count() > first / 2
    assert scores.where(F.col("validation_skipped")).count() == 0
    active = spark.table("analytics.dim_users").where("churn_ts is null").count()
    assert spark.table("analytics.fct_churn_risk").count() == min(first, active)
    assert main(["validate", "--suite", "churn_scores"]) == 0


def test_report_is_one_self_contained_html_file(warehouse):
    html = storage.local_path(render_report()).read_text()
    assert html.count("data:image/png;base64,") >= 10
    assert 'src="http' not in html and "<script" not in html
    for heading in ("Who cancels", "before they cancel", "The champion model", "Latest scoring run"):
        assert heading in html


def _plant_a_killed_writers_file(spark, table: str) -> Path:
    """A data file no commit references, as a writer killed before its commit leaves one, old
    enough (eight days) to be past the 168-hour retention."""
    folder = storage.local_path(spark.sql(f"describe detail {table}").first()["location"])
    orphan = folder / "part-00000-left-by-a-killed-writer.snappy.parquet"
    orphan.write_bytes(b"never committed")
    eight_days_ago = time.time() - 8 * 24 * 3600
    os.utime(orphan, (eight_days_ago, eight_days_ago))
    return orphan


def test_the_daily_command_lands_the_next_day_and_only_a_full_vacuum_removes_a_killed_writers_leftovers(
    warehouse, spark, capsys
):
    """The cron line: one more day lands; `sparkify daily` ingests, builds, validates and scores it,
    then maintains every table with VACUUM LITE; the weekly `sparkify maintain` vacuums in full."""
    landing = Path(os.environ["SPARKIFY_RAW_DIR"])
    staged = "analytics.stg_sparkify__events"
    orphan = _plant_a_killed_writers_file(spark, staged)
    before = spark.table("analytics.fct_user_features").agg(F.max("as_of_date")).first()[0]
    day = ["--start", "2018-12-03", "--end", "2018-12-04", "--out", str(landing), "--quiet"]
    assert main(["generate", *SAME_LOG, *day]) == 0
    assert main(["daily"]) == 0
    summary = capsys.readouterr().err.strip().splitlines()[-1]
    assert summary.startswith("daily: 1 new files") and "0 refused; build passed" in summary, summary
    newest = spark.table("analytics.fct_user_features").agg(F.max("as_of_date")).first()[0]
    assert newest == before + timedelta(days=1)
    scores = spark.table("analytics.churn_scores").where(F.col("as_of_date") == F.lit(newest))
    users = spark.table("analytics.fct_user_features").where(F.col("as_of_date") == F.lit(newest)).count()
    assert scores.count() == users > 50 and f"{users:,} users scored at {newest}" in summary
    maintained = int(summary.split(" tables maintained;")[0].rsplit("; ", 1)[1])
    assert maintained >= 15, summary  # OPTIMIZE and VACUUM LITE of every Delta table, views skipped
    assert orphan.exists()  # LITE reads the transaction log only
    rows = spark.table(staged).count()
    assert main(["maintain"]) == 0
    assert not orphan.exists()
    assert spark.table(staged).count() == rows
    operations = {r.operation for r in spark.sql(f"describe history {staged}").collect()}
    assert {"VACUUM START", "VACUUM END"} <= operations, operations


def test_a_day_of_thumbs_up_logged_as_thumbs_down_fails_validation_and_closes_the_gate(
    warehouse, spark, test_home: Path
):
    bad_day = test_home / "bad-day"
    day = ["--start", "2018-12-04", "--end", "2018-12-05", "--out", str(bad_day), "--quiet"]
    assert main(["generate", *SAME_LOG, *day]) == 0
    day_file = bad_day / "events" / "2018-12-04.json"
    text = day_file.read_text()
    assert text.count('"page":"Thumbs Up"') > 25
    day_file.write_text(text.replace('"page":"Thumbs Up"', '"page":"Thumbs Down"'))
    run_ingest(bad_day)
    assert run_dbt(["build", "--select", "stg_sparkify__events"]) == 0  # dbt's own tests pass
    before = _scores_version(spark)
    assert main(["validate", "--suite", "stg_sparkify__events_daily"]) == 1
    failed = spark.sql(
        "select expectation from analytics.validation_results where not success "
        "and suite = 'stg_sparkify__events_daily'"
    ).collect()
    assert {r.expectation for r in failed} == {"thumbs_down_share_per_day"}
    assert main(["score"]) == 1
    assert _scores_version(spark) == before


def test_losing_half_the_users_against_the_previous_run_fails(warehouse, spark):
    users = spark.table("analytics.fct_user_features").select("user_id").distinct().count()
    spark.sql(
        "insert into analytics.validation_results values ('planted-previous', 'fct_user_features', "
        f"'users_vs_previous_run', 'critical', true, '{users * 2}', '{{}}', 'analytics.fct_user_features', "
        "0, current_timestamp())"
    )
    assert main(["validate", "--suite", "fct_user_features"]) == 1
    failed = spark.sql(
        "select expectation from analytics.validation_results where not success and suite = 'fct_user_features'"
    ).collect()
    assert [r.expectation for r in failed] == ["users_vs_previous_run"]


def test_a_scoring_job_killed_half_way_leaves_the_scores_as_they_were(warehouse, spark):
    before_version = _scores_version(spark)
    before = spark.table("analytics.churn_scores").count()
    stop_spark()  # the embedded metastore admits one JVM: hand it to the child processes
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "sparkify.app", "score", "--skip-validation"]
    child = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    for line in child.stdout:  # kill it once it is scoring, before the MERGE commits
        if "score users at" in line:
            time.sleep(1)
            break
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    time.sleep(2)
    rerun = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    from sparkify.runtime.spark import get_spark

    spark = get_spark()
    history = spark.sql("describe history analytics.churn_scores").collect()
    versions = sorted(r.version for r in history)
    assert versions[-1] == before_version + 1  # the killed run committed nothing; the rerun one version
    assert spark.table("analytics.churn_scores").count() == before
    # The rerun replaced its own date's rows (earlier dates, scored by the daily test, stay).
    scores = spark.table("analytics.churn_scores")
    newest = scores.where(F.col("as_of_date") == scores.agg(F.max("as_of_date")).first()[0])
    assert newest.where("validation_skipped").count() == newest.count() > 0


def test_scores_that_fail_their_audit_are_never_published(warehouse, spark):
    """Write-audit-publish: collapsed scores stay in the staged table; churn_scores is untouched."""
    features = spark.table("analytics.fct_user_features")
    as_of = features.agg(F.max("as_of_date")).first()[0]
    features_version = delta_version(spark, "analytics.fct_user_features")
    published_version = _scores_version(spark)
    published = spark.table("analytics.churn_scores").collect()
    # Plant a fault upstream of the model: every user at the scoring date gets one user's features.
    at_date = features.where(F.col("as_of_date") == F.lit(as_of))
    template = at_date.limit(1).drop("user_id")
    clones = at_date.select("user_id").crossJoin(template).select(*features.columns)
    clones.localCheckpoint().write.format("delta").mode("overwrite").option(
        "replaceWhere", f"as_of_date = date'{as_of.isoformat()}'"
    ).saveAsTable("analytics.fct_user_features")
    try:
        assert main(["score", "--skip-validation"]) == 1
        assert _scores_version(spark) == published_version
        assert sorted(spark.table("analytics.churn_scores").collect()) == sorted(published)
        staged = spark.table("analytics.churn_scores_staged")
        assert staged.agg(F.countDistinct("churn_probability")).first()[0] == 1
    finally:
        spark.sql(f"restore table analytics.fct_user_features to version as of {features_version}")
