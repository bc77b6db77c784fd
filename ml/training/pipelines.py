"""The candidate model families as Spark ML pipelines, each with its small tuning grid.

Every family shares the same preparation (median imputation, one-hot categories, one vector), so
the saved PipelineModel scores raw mart rows with nothing else to apply. Class weights balance
the churn class in every family.

The gradient-boosted family comes twice: Spark ML's own trees, and XGBoost's distributed trainer
(``xgboost.spark``), which runs as a barrier stage on the same executors (one worker: the fit sets
are at most ``train.MAX_FIT_ROWS`` rows) and saves inside the same PipelineModel.

One family is the baseline rule itself, made a scorer: a logistic fit on the rule's one feature.
Its ranking is the rule's (fewest songs first, as long as the fitted slope is negative) and its
scores are probabilities, so when the rule beats every trained family on the validation period
the job can publish it like any model, and a published score is never a trained model that lost
to the rule.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import product
from typing import Any

from pyspark.ml import Pipeline
from pyspark.ml.classification import GBTClassifier, LogisticRegression, RandomForestClassifier
from pyspark.ml.feature import Imputer, OneHotEncoder, StandardScaler, StringIndexer, VectorAssembler

from sparkify.ml.evaluation.baselines import RULE_FEATURE
from sparkify.ml.training.dataset import FeatureSet
from sparkify.runtime.errors import UsageError

SEED = 7
CALIBRATED_RULE = "calibrated_rule"
SIGNAL_LOGISTIC = "signal_logistic"
XGBOOST = "xgboost"
# The few features a study of the generated full-scale log found to carry the signal
# (shared/docs/churn-signal.md): session friction, recent and decayed, and listening, decayed and
# over two weeks. A logistic fit on five columns needs far fewer churners to settle than one on
# sixty, which is what a mini-scale log (a few hundred churners) offers.
SIGNAL_FEATURES = (
    "friction_per_session_ewm_7d",
    "friction_per_session_7d",
    "songs_per_day_ewm_7d",
    "songs_14d",
    "days_since_last_activity",
)
# The linear families read standardised features.
SCALED_FAMILIES = ("logistic_regression", SIGNAL_LOGISTIC)


@dataclass(frozen=True)
class Candidate:
    """One family at one point of its grid."""

    family: str
    params: dict[str, Any]

    @property
    def name(self) -> str:
        settings = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.family}({settings})"


# Small grids: the validation date is one date of users, too few churners to rank finer grids
# reliably; shallow trees and leaf minimums because churners are a few hundred rows at mini scale.
GRIDS: dict[str, dict[str, list[Any]]] = {
    "logistic_regression": {"regParam": [0.03, 0.3], "elasticNetParam": [0.0, 0.5]},
    # One depth: at full scale depth 4 validated 0.024 below depth 7, at mini scale 0.001 above it.
    "random_forest": {"numTrees": [200], "maxDepth": [7], "minInstancesPerNode": [5]},
    "gradient_boosted_trees": {"maxIter": [40], "maxDepth": [2, 3], "subsamplingRate": [0.8]},
    # Shallow, slowly learning, leaf-regularised boosters. No row or column subsampling, so the
    # model does not depend on the order XGBoost's repartition hands it the rows in.
    XGBOOST: {"max_depth": [2, 4], "n_estimators": [150], "learning_rate": [0.05], "min_child_weight": [5.0]},
    SIGNAL_LOGISTIC: {"regParam": [0.01, 0.1], "elasticNetParam": [0.0]},
    CALIBRATED_RULE: {"regParam": [0.0]},
}


def requested_families(names: Iterable[str] | None = None) -> tuple[str, ...]:
    """The families to train, in ``GRIDS`` order: every one when ``names`` is None.

    The calibrated rule is always among them: it is the baseline a trained family must beat to be
    published (``selection``), so a run without it could not decide what to publish.
    """
    if names is None:
        return tuple(GRIDS)
    wanted = set(names)
    unknown = sorted(wanted - set(GRIDS))
    if unknown:
        raise UsageError(f"unknown model family {', '.join(unknown)}; the families are {', '.join(GRIDS)}")
    return tuple(family for family in GRIDS if family in wanted or family == CALIBRATED_RULE)


def candidates(families: tuple[str, ...] = tuple(GRIDS)) -> Iterator[Candidate]:
    """Every grid point of the requested families."""
    for family in families:
        grid = GRIDS[family]
        for values in product(*grid.values()):
            yield Candidate(family, dict(zip(grid, values, strict=True)))


def features_used(family: str, features: FeatureSet) -> FeatureSet:
    """The columns a family's pipeline reads: the rule's one feature, the signal's few, or every feature."""
    if family == CALIBRATED_RULE:
        return FeatureSet(numeric=(RULE_FEATURE,), categorical=())
    if family == SIGNAL_LOGISTIC:
        return FeatureSet(numeric=SIGNAL_FEATURES, categorical=())
    return features


def _classifier(candidate: Candidate) -> Any:
    common = {"featuresCol": "features", "labelCol": "label", "weightCol": "class_weight"}
    if candidate.family in SCALED_FAMILIES:
        return LogisticRegression(
            featuresCol="scaled", labelCol="label", weightCol="class_weight", maxIter=100, **candidate.params
        )
    if candidate.family == "random_forest":
        return RandomForestClassifier(seed=SEED, featureSubsetStrategy="sqrt", **common, **candidate.params)
    if candidate.family == "gradient_boosted_trees":
        return GBTClassifier(seed=SEED, stepSize=0.1, **common, **candidate.params)
    if candidate.family == XGBOOST:
        return _xgboost(candidate)
    if candidate.family == CALIBRATED_RULE:
        return LogisticRegression(maxIter=100, **common, **candidate.params)
    raise ValueError(f"unknown model family {candidate.family}")


def _xgboost(candidate: Candidate) -> Any:
    """XGBoost's Spark estimator, imported only when fitted (it brings scikit-learn with it)."""
    from xgboost.spark import SparkXGBClassifier

    # Its per-fit INFO lines and per-round losses would bury the training summary.
    logging.getLogger("XGBoost-PySpark").setLevel(logging.WARNING)
    return SparkXGBClassifier(
        features_col="features",
        label_col="label",
        weight_col="class_weight",
        num_workers=1,
        random_state=SEED,
        verbose=False,
        **candidate.params,
    )


def preparation(features: FeatureSet) -> Pipeline:
    """Impute, encode (when there are categories) and assemble ``features`` into one vector column.

    Fitted once per fit set and feature set, and shared by every grid point that reads those
    features (``train.FitSet``): the medians and category indices depend on the rows only.
    """
    imputed = [f"{name}__imputed" for name in features.numeric]
    indexed = [f"{name}__index" for name in features.categorical]
    encoded = [f"{name}__onehot" for name in features.categorical]
    stages: list[Any] = [Imputer(inputCols=list(features.numeric), outputCols=imputed, strategy="median")]
    if features.categorical:  # Spark's indexer refuses an empty column list (the calibrated rule has none)
        stages += [
            StringIndexer(inputCols=list(features.categorical), outputCols=indexed, handleInvalid="keep"),
            OneHotEncoder(inputCols=indexed, outputCols=encoded, handleInvalid="keep"),
        ]
    stages.append(VectorAssembler(inputCols=imputed + encoded, outputCol="features", handleInvalid="keep"))
    return Pipeline(stages=stages)


def head(candidate: Candidate) -> Pipeline:
    """What a grid point fits on the assembled vector: scaling for the linear families, then its classifier."""
    stages: list[Any] = []
    if candidate.family in SCALED_FAMILIES:
        stages.append(StandardScaler(inputCol="features", outputCol="scaled", withMean=False, withStd=True))
    stages.append(_classifier(candidate))
    return Pipeline(stages=stages)


def build_pipeline(candidate: Candidate, features: FeatureSet) -> Pipeline:
    """The whole pipeline of one grid point: the preparation of the columns it reads, then its head."""
    used = features_used(candidate.family, features)
    return Pipeline(stages=[*preparation(used).getStages(), *head(candidate).getStages()])
