"""Which columns each model family reads (no Spark, no JVM)."""

from __future__ import annotations

from sparkify.ml.evaluation.baselines import RULE_FEATURE
from sparkify.ml.training.dataset import FeatureSet
from sparkify.ml.training.pipelines import (
    CALIBRATED_RULE,
    GRIDS,
    SIGNAL_FEATURES,
    SIGNAL_LOGISTIC,
    features_used,
)

EVERY_FEATURE = FeatureSet(numeric=("songs_14d", "sessions_7d"), categorical=("level",))


def test_the_narrow_families_read_only_their_own_columns():
    for family, expected in ((CALIBRATED_RULE, (RULE_FEATURE,)), (SIGNAL_LOGISTIC, SIGNAL_FEATURES)):
        assert features_used(family, EVERY_FEATURE) == FeatureSet(numeric=expected, categorical=())


def test_the_broad_families_read_every_feature():
    for family in set(GRIDS) - {CALIBRATED_RULE, SIGNAL_LOGISTIC}:
        assert features_used(family, EVERY_FEATURE) == EVERY_FEATURE
