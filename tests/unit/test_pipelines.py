"""The model families' column choices against the documented mart contract (no Spark, no JVM)."""

from __future__ import annotations

import yaml

from sparkify.ml.dataset import RULE_FEATURE, FeatureSet
from sparkify.ml.pipelines import CALIBRATED_RULE, GRIDS, SIGNAL_FEATURES, SIGNAL_LOGISTIC, features_used
from tests.conftest import PROJECT_ROOT

EVERY_FEATURE = FeatureSet(numeric=("songs_14d", "sessions_7d"), categorical=("level",))


def _mart_columns(model: str) -> dict[str, str]:
    spec = yaml.safe_load((PROJECT_ROOT / "models/marts/churn/_churn__models.yml").read_text())
    (found,) = [m for m in spec["models"] if m["name"] == model]
    return {column["name"]: column["data_type"] for column in found["columns"]}


def test_the_narrow_families_read_numeric_columns_of_the_training_set():
    columns = _mart_columns("fct_training_set")
    for family, expected in ((CALIBRATED_RULE, (RULE_FEATURE,)), (SIGNAL_LOGISTIC, SIGNAL_FEATURES)):
        used = features_used(family, EVERY_FEATURE)
        assert used == FeatureSet(numeric=expected, categorical=())
        assert all(columns.get(name) in {"bigint", "int", "double"} for name in used.numeric), used


def test_the_broad_families_read_every_feature():
    for family in set(GRIDS) - {CALIBRATED_RULE, SIGNAL_LOGISTIC}:
        assert features_used(family, EVERY_FEATURE) == EVERY_FEATURE
