"""``sparkify train``: fit the candidate families on a purged time split, keep the best, decide the champion.

Tuning: every grid point is fitted on the dates whose label horizon closed before the validation
dates and ranked by AUC-PR on them; the decision threshold (best churn-class F1) is chosen there
too. The best point of each family is then refitted on every date whose horizon closed before the
test dates and judged on them, next to the baselines and, for generated logs, the observable ceiling
and the latent oracle. Each family's
probabilities are Platt-calibrated when that lowers their cross-fitted ECE on the validation period
(``calibration``); the held-out metrics are those of the calibrated probabilities. The family to
publish is chosen on validation (``selection``): the one-feature rule competes as a family,
``calibrated_rule``, and a trained model displaces it only when a paired bootstrap over the
validation users says it beats the rule. That family is saved as a new version; it becomes champion
when asked (``--promote``), when there is none, or when it matches or beats the current champion on
the same held-out rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkify.ml import calibration, tracking
from sparkify.ml.calibration import IDENTITY, Calibration
from sparkify.ml.evaluation import baselines, metrics
from sparkify.ml.evaluation.baselines import RULE_FEATURE
from sparkify.ml.evaluation.importance import feature_importances
from sparkify.ml.inference.predict import with_churn_probability
from sparkify.ml.model_card import ModelCard, Selection
from sparkify.ml.reporting import plots
from sparkify.ml.training import selection
from sparkify.ml.training.dataset import (
    KEYS,
    LABEL,
    TRAINING_TABLE,
    FeatureSet,
    TimeSplit,
    feature_set,
    label_horizon_days,
    rows_at,
    trainable_split,
    with_label_and_weight,
)
from sparkify.ml.training.pipelines import (
    CALIBRATED_RULE,
    Candidate,
    candidates,
    features_used,
    head,
    preparation,
    requested_families,
)
from sparkify.runtime.errors import CheckFailed
from sparkify.runtime.progress import say, step
from sparkify.runtime.spark import delta_version, get_spark


@dataclass(frozen=True)
class Tuned:
    """The best grid point of one family on validation."""

    candidate: Candidate
    validation_auc_pr: float
    threshold: float
    validation_labels: np.ndarray
    validation_scores: np.ndarray
    validation_users: np.ndarray


@dataclass(frozen=True)
class Fitted:
    """A fitted pipeline and the churner weight it was fitted with (to correct its probabilities)."""

    pipeline: PipelineModel
    positive_weight: float


# Above this many user-dates a fit costs minutes on two cores: larger fit sets keep every churner
# and a seeded sample of the others (stratified, so no churner is dropped).
MAX_FIT_ROWS = 100_000
SAMPLE_SEED = 11
# Fit rows are hashed into partitions of about this many rows (at least two, one per core here)
# and sorted within them before sampling and fitting: Spark's per-partition sampling and the
# forests' bootstraps follow the physical row order, so the same rows then give the same model
# whatever order the table's files were read in. The count depends on the rows only, not on the
# cluster, so a model trained on a cluster is the one trained here. Small partitions cost: every
# optimiser iteration runs a task per partition (8 fixed partitions made mini training 40% slower).
FIT_ROWS_PER_PARTITION = 50_000


class FitSet:
    """One fit set laid out, sampled and weighted once; each feature set's preparation fitted once on it.

    Every grid point then fits only its head (scaler, classifier) on cached feature vectors. Fitting
    the whole pipeline per grid point refitted the same medians, indices and vectors thirteen times,
    and re-read the fit rows for each: at mini scale that was most of a tuning step (a logistic fit
    9.7 s, of which its classifier 3.1 s). The models are the ones the whole pipeline fits: the same
    stages on the same rows in the same order.
    """

    def __init__(self, rows: DataFrame) -> None:
        # Cached once laid out: the fits pass over these rows many times, and reading the shuffle
        # again on each pass doubled the mini-scale training time.
        partitions = max(2, -(-rows.count() // FIT_ROWS_PER_PARTITION))
        self._ordered = rows.repartition(partitions, *KEYS).sortWithinPartitions(*KEYS).cache()
        self._prepared: dict[FeatureSet, tuple[PipelineModel, DataFrame]] = {}
        self._weighted, self.positive_weight = _sampled_and_weighted(self._ordered)

    def fit(self, candidate: Candidate, features: FeatureSet) -> Fitted:
        """The whole pipeline of ``candidate``: the shared preparation, then its head fitted on its vectors."""
        prepared_model, vectors = self._prepared_for(features_used(candidate.family, features))
        fitted_head = head(candidate).fit(vectors)
        pipeline = PipelineModel(stages=[*prepared_model.stages, *fitted_head.stages])
        return Fitted(pipeline, self.positive_weight)

    def _prepared_for(self, used: FeatureSet) -> tuple[PipelineModel, DataFrame]:
        if used not in self._prepared:
            model = preparation(used).fit(self._weighted)
            vectors = model.transform(self._weighted).select("features", "label", "class_weight").cache()
            self._prepared[used] = (model, vectors)
        return self._prepared[used]

    def __enter__(self) -> FitSet:
        return self

    def __exit__(self, *exc: object) -> None:
        for _, vectors in self._prepared.values():
            vectors.unpersist()
        self._ordered.unpersist()


def _sampled_and_weighted(rows: DataFrame) -> tuple[DataFrame, float]:
    """Both classes weighing the same, and the weight that undoes that for probabilities.

    Sampling the stayers at a rate f multiplies the odds the model sees by 1/f, and weighting the
    churners by w multiplies them by w; the correction divides by both, which is the stayers-to-
    churners ratio of all fit rows, whatever the sample kept.
    """
    total = rows.count()
    positives = rows.where(F.col(LABEL)).count()
    if positives == 0 or positives == total:
        raise CheckFailed(f"the fit rows have {positives} churners of {total}: both classes are needed")
    correction = (total - positives) / positives
    if total > MAX_FIT_ROWS:
        kept = max(MAX_FIT_ROWS - positives, 1) / (total - positives)
        rows = rows.sampleBy(F.col(LABEL).cast("int"), {0: min(kept, 1.0), 1: 1.0}, seed=SAMPLE_SEED)
        weight = (rows.count() - positives) / positives  # every churner was kept
    else:
        weight = correction
    return with_label_and_weight(rows, weight), correction


def _predict(
    model: PipelineModel, positive_weight: float, rows: DataFrame, calibrated: Calibration = IDENTITY
) -> pd.DataFrame:
    """Keys, label and churn probability of ``rows``, collected (held-out sets are small)."""
    scored = with_churn_probability(model, with_label_and_weight(rows, 1.0), positive_weight, calibrated)
    return scored.select(*KEYS, "label", "churn_probability").toPandas()


def tune(
    features: FeatureSet, table: DataFrame, split: TimeSplit, families: tuple[str, ...]
) -> dict[str, Tuned]:
    """Best grid point of each of ``families`` by validation AUC-PR."""
    validation_rows = rows_at(table, split.validation)
    best: dict[str, Tuned] = {}
    with FitSet(rows_at(table, split.tune_fit)) as fit_set:
        for candidate in candidates(families):
            with step(f"tune {candidate.name}"):
                fitted = fit_set.fit(candidate, features)
                # In key order, so every family's validation scores line up row by row (``selection``).
                scored = _predict(fitted.pipeline, fitted.positive_weight, validation_rows).sort_values(
                    list(KEYS)
                )
            labels, scores = scored["label"].to_numpy(), scored["churn_probability"].to_numpy()
            auc = metrics.auc_pr(labels, scores)
            say(f"  validation AUC-PR {auc:.3f}")
            if candidate.family not in best or auc > best[candidate.family].validation_auc_pr:
                threshold = metrics.best_f1_threshold(labels, scores)
                users = scored["user_id"].to_numpy()
                best[candidate.family] = Tuned(candidate, auc, threshold, labels, scores, users)
    return best


@dataclass(frozen=True)
class Refit:
    """A family's best grid point refitted on every date before the test dates, and its test scores."""

    fitted: Fitted
    scores: np.ndarray


def refit_and_test(
    tuned: dict[str, Tuned],
    features: FeatureSet,
    table: DataFrame,
    fit_dates: tuple[date, ...],
    test_rows: DataFrame,
    calibrations: dict[str, Calibration],
) -> dict[str, Refit]:
    """Each family's best grid point fitted on ``fit_dates``; its calibrated scores of ``test_rows`` in key order."""
    refits: dict[str, Refit] = {}
    with FitSet(rows_at(table, fit_dates)) as fit_set:
        for family, best in tuned.items():
            with step(f"refit {best.candidate.name} on {len(fit_dates)} dates and test"):
                model = fit_set.fit(best.candidate, features)
                scored = _predict(model.pipeline, model.positive_weight, test_rows, calibrations[family])
            refits[family] = Refit(model, scored.sort_values(list(KEYS))["churn_probability"].to_numpy())
    return refits


def _rule_threshold(validation: pd.DataFrame) -> float:
    return metrics.best_f1_threshold(validation["label"].to_numpy(), baselines.rule_scores(validation))


def train(
    promote_new: bool = False,
    oracle: baselines.Oracle | None = None,
    ceiling: baselines.Oracle | None = None,
    families: tuple[str, ...] = requested_families(),
) -> ModelCard:
    """Train, evaluate, register a version, maybe promote it; returns the version's model card.

    ``oracle``: the generator's latent-state probability for generated logs, reported beside the
    models as the latent ceiling (an evaluation input; None for real logs). ``ceiling``: the Bayes
    probability given only the log before each as-of date (the observable ceiling, the best any model
    could do from the log; also generated logs only). ``families``: the model families to fit
    (``pipelines.requested_families``: the calibrated rule always among them).
    """
    spark = get_spark()
    # Checked before caching: a cached plan left behind by a refusal would outlive the table it read.
    split = trainable_split(spark)
    horizon_days = label_horizon_days(spark)
    table = spark.table(TRAINING_TABLE).cache()
    dates = [*split.final_fit, *split.validation, *split.test]
    features = feature_set(table)
    say(f"split: {split.describe()}")
    test_rows = rows_at(table, split.test)
    test_frame = test_rows.select(*KEYS, F.col(LABEL).cast("double").alias("label"), RULE_FEATURE).toPandas()
    test_frame = test_frame.sort_values(list(KEYS)).reset_index(drop=True)
    labels = test_frame["label"].to_numpy()
    oracles = {"observable_ceiling": ceiling, "oracle": oracle}
    # The oracles score the held-out rows in a second process while the models fit.
    with baselines.oracle_scores_apart(test_frame[list(KEYS)], oracles, horizon_days) as oracle_scores:
        tuned = tune(features, table, split, families)
        calibrations = {
            family: calibration.choose(best.validation_labels, best.validation_scores)
            for family, best in tuned.items()
        }
        # The map is increasing, so the F1-best threshold moves with the scores.
        thresholds = {
            family: float(calibrations[family].apply(np.array([best.threshold]))[0])
            for family, best in tuned.items()
        }

        refits = refit_and_test(tuned, features, table, split.final_fit, test_rows, calibrations)
        scores_of_oracles = oracle_scores()
    fitted = {family: refit.fitted for family, refit in refits.items()}
    held_out = {
        family: metrics.evaluate(labels, refit.scores, thresholds[family], probabilities=True)
        for family, refit in refits.items()
    }
    curves = {family: _curves(labels, refit.scores) for family, refit in refits.items()}

    fit_rate = rows_at(table, split.final_fit).select(F.avg(F.col(LABEL).cast("double"))).first()[0]
    validation = (
        rows_at(table, split.validation)
        .select(F.col(LABEL).cast("double").alias("label"), RULE_FEATURE)
        .toPandas()
    )
    base = baselines.base_rate_scores(test_frame, fit_rate)
    rule = baselines.rule_scores(test_frame)
    reference = {
        "base_rate": metrics.evaluate(labels, base, fit_rate, probabilities=True),
        f"rule_fewest_{RULE_FEATURE}": metrics.evaluate(labels, rule, _rule_threshold(validation), False),
    }
    curves["base_rate"] = _curves(labels, base)
    curves[f"rule_fewest_{RULE_FEATURE}"] = _curves(labels, rule)
    for name, reference_scores in scores_of_oracles.items():
        if reference_scores is not None:
            reference[name] = metrics.evaluate(labels, reference_scores, 0.5, probabilities=True)
            curves[name] = _curves(labels, reference_scores)

    chosen = _select(tuned)
    winner = chosen.published
    used = features_used(winner, features)
    model = fitted[winner].pipeline
    importances = feature_importances(model, model.transform(with_label_and_weight(test_rows.limit(1), 1.0)))
    card = ModelCard(
        family=winner,
        params=tuned[winner].candidate.params,
        threshold=thresholds[winner],
        positive_weight=fitted[winner].positive_weight,
        calibration=calibrations[winner],
        validation_calibration=calibrations,
        numeric_features=tuple(used.numeric),
        categorical_features=tuple(used.categorical),
        label=LABEL,
        horizon_days=horizon_days,
        split=split.describe(),
        training_table=TRAINING_TABLE,
        training_table_delta_version=delta_version(spark, TRAINING_TABLE),
        as_of_range=(min(dates).isoformat(), max(dates).isoformat()),
        validation_auc_pr={family: t.validation_auc_pr for family, t in tuned.items()},
        selection=chosen,
        held_out={**held_out, **reference},
        curves=curves,
        feature_importances=importances,
        code_version=tracking.code_version(),
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    with tracking.training_run(_run_tags(card)) as run_id:
        tracking.log_evaluation(_run_params(card, tuned), _run_metrics(card), plots.model_figures(card))
        registered = tracking.register(model, run_id, card)
        # The card is in the run before the alias can point at it (scoring reads it), and again
        # with the promotion decision once that is taken.
        tracking.log_card(registered.card)
        new_auc_pr = registered.card.published["auc_pr"]
        card = registered.card.judged(
            _decide_promotion(registered, promote_new, new_auc_pr, test_rows, labels)
        )
        tracking.log_card(card)
    table.unpersist()
    _print_summary(card)
    return card


def _select(tuned: dict[str, Tuned]) -> Selection:
    """The family to publish, from the validation scores of each family's best grid point.

    ``tune`` fits the requested families of ``pipelines.GRIDS``, the calibrated rule always among them.
    """
    validation = {family: t.validation_auc_pr for family, t in tuned.items()}
    labels = tuned[CALIBRATED_RULE].validation_labels
    if any(not np.array_equal(t.validation_labels, labels) for t in tuned.values()):
        raise CheckFailed("the families were validated on different rows: their scores cannot be compared")
    scores = {family: t.validation_scores for family, t in tuned.items()}
    users = tuned[CALIBRATED_RULE].validation_users
    chosen = selection.choose(validation, labels, scores, CALIBRATED_RULE, users)
    say(f"published family: {chosen.published} ({chosen.reason})")
    return chosen


def _curves(labels: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    pr, roc, lift = (
        metrics.pr_curve(labels, scores),
        metrics.roc_curve(labels, scores),
        metrics.lift_curve(labels, scores),
    )
    return {"pr": [pr.x, pr.y], "roc": [roc.x, roc.y], "lift": [lift.x, lift.y]}


def _decide_promotion(
    new: tracking.ModelVersion, forced: bool, new_auc_pr: float, test_rows: DataFrame, labels: np.ndarray
) -> str:
    """Promote when forced, when there is no champion, or when the new model matches or beats it on these rows."""
    current = tracking.champion()
    if forced:
        decision = "promoted (--promote)"
    elif current is None:
        decision = "promoted (no champion yet)"
    else:
        champion_auc = _champion_auc_pr(current, test_rows, labels)
        # A match is enough; a champion that could not score these rows (nan) is replaced too.
        if not champion_auc > new_auc_pr:
            decision = f"promoted (held-out AUC-PR {new_auc_pr:.3f} vs champion {current.version} {champion_auc:.3f})"
        else:
            say(
                f"kept champion {current.version}: its AUC-PR on the same rows is {champion_auc:.3f} > {new_auc_pr:.3f}"
            )
            return f"not promoted (champion {current.version} {champion_auc:.3f} > {new_auc_pr:.3f})"
    tracking.promote(new, decision)
    return decision


def _champion_auc_pr(champion: tracking.ModelVersion, test_rows: DataFrame, labels: np.ndarray) -> float:
    """The champion's AUC-PR on the new model's held-out rows; nan when it cannot score them."""
    try:
        card = champion.card
        scored = _predict(champion.load(), card.positive_weight, test_rows, card.calibration)
        return metrics.auc_pr(labels, scored.sort_values(list(KEYS))["churn_probability"].to_numpy())
    except Exception as error:  # a champion trained on other columns cannot score these rows
        say(f"the champion {champion.version} cannot score the current training set: {error}")
        return float("nan")


def _run_tags(card: ModelCard) -> dict[str, str]:
    """What the run was trained from: the code and the exact Delta version of the training table."""
    commit = tracking.git_commit()
    return {
        **({"mlflow.source.git.commit": commit} if commit else {}),
        "code_version": card.code_version,
        "training_table": card.training_table,
        "training_table_delta_version": str(card.training_table_delta_version),
        "as_of_range": " .. ".join(card.as_of_range),
        "published_family": card.family,
        "selection": card.selection.reason,
    }


def _run_params(card: ModelCard, tuned: dict[str, Tuned]) -> dict[str, Any]:
    """Each family's chosen grid point, and the settings of the published one."""
    params: dict[str, Any] = {
        "published_family": card.family,
        "horizon_days": card.horizon_days,
        "threshold": card.threshold,
        "calibration": card.calibration.method,
        "numeric_features": len(card.numeric_features),
        "categorical_features": len(card.categorical_features),
        **{f"split.{part}": ",".join(days) for part, days in card.split.items()},
    }
    for family, best in tuned.items():
        params.update({f"{family}.{name}": value for name, value in best.candidate.params.items()})
    return params


def _run_metrics(card: ModelCard) -> dict[str, float]:
    """Validation AUC-PR per family; every held-out measure of every scorer, baselines and ceilings too."""
    found = {f"validation.{family}.auc_pr": auc for family, auc in card.validation_auc_pr.items()}
    for scorer, result in card.held_out.items():
        found.update(
            {
                f"held_out.{scorer}.auc_pr": result["auc_pr"],
                f"held_out.{scorer}.auc_roc": result["auc_roc"],
                f"held_out.{scorer}.top_decile_lift": result["top_decile"]["lift"],
                f"held_out.{scorer}.top_decile_precision": result["top_decile"]["precision"],
            }
        )
        for measure in ("brier", "ece"):
            if measure in result:
                found[f"held_out.{scorer}.{measure}"] = result[measure]
    if card.selection.win_share is not None:
        found["selection.win_share"] = card.selection.win_share
    return found


def _print_summary(card: ModelCard) -> None:
    winner = card.family
    lines = [
        f"model {card.version} ({winner}) {card.promotion}",
        f"held-out as-of dates {', '.join(card.split['test'])}: "
        f"{card.published['rows']:,} user-dates, {card.published['positives']:,} churners",
        f"calibration of {winner}: {card.calibration.describe()}",
        f"{'scorer':<32} {'AUC-PR':>7} {'AUC-ROC':>8} {'top-10% prec':>12} {'lift':>5} {'F1@thr':>7} {'Brier':>6} {'ECE':>6}",
    ]
    for name, result in card.held_out.items():
        f1 = result.get("at_threshold", {}).get("f1", float("nan"))
        brier = result.get("brier", float("nan"))
        ece = result.get("ece", float("nan"))
        marker = " *" if name == winner else ""
        lines.append(
            f"{name + marker:<32} {result['auc_pr']:>7.3f} {result['auc_roc']:>8.3f} "
            f"{result['top_decile']['precision']:>12.3f} {result['top_decile']['lift']:>5.2f} {f1:>7.3f} {brier:>6.3f} {ece:>6.3f}"
        )
    say("\n".join(lines))
