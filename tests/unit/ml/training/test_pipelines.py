"""Which model families train and which columns each reads (no Spark, no JVM)."""

from __future__ import annotations

import pytest

from sparkify.app.cli import build_parser
from sparkify.ml.evaluation.baselines import RULE_FEATURE
from sparkify.ml.training.dataset import FeatureSet
from sparkify.ml.training.pipelines import (
    CALIBRATED_RULE,
    GRIDS,
    SIGNAL_FEATURES,
    SIGNAL_LOGISTIC,
    features_used,
    requested_families,
)
from sparkify.runtime.errors import UsageError

EVERY_FEATURE = FeatureSet(numeric=("songs_14d", "sessions_7d"), categorical=("level",))


def test_the_narrow_families_read_only_their_own_columns():
    for family, expected in ((CALIBRATED_RULE, (RULE_FEATURE,)), (SIGNAL_LOGISTIC, SIGNAL_FEATURES)):
        assert features_used(family, EVERY_FEATURE) == FeatureSet(numeric=expected, categorical=())


def test_the_broad_families_read_every_feature():
    for family in set(GRIDS) - {CALIBRATED_RULE, SIGNAL_LOGISTIC}:
        assert features_used(family, EVERY_FEATURE) == EVERY_FEATURE


def test_asking_for_some_families_trains_them_and_the_rule_in_grid_order():
    assert requested_families(None) == tuple(GRIDS)
    assert requested_families(["xgboost", SIGNAL_LOGISTIC]) == ("xgboost", SIGNAL_LOGISTIC, CALIBRATED_RULE)
    assert requested_families([]) == (CALIBRATED_RULE,)
    with pytest.raises(UsageError, match="unknown model family xgb; the families are logistic_regression"):
        requested_families(["xgb", "xgboost"])


def test_the_families_option_names_every_family_and_parses_a_comma_list():
    parser = build_parser()
    for command in ("train", "run"):
        args = parser.parse_args([command, "--families", "xgboost, signal_logistic"])
        assert args.families == ["xgboost", "signal_logistic"]
        assert parser.parse_args([command]).families is None
    subcommands = next(a for a in parser._actions if a.dest == "command").choices
    option = next(a for a in subcommands["train"]._actions if a.dest == "families")
    assert all(family in option.help for family in GRIDS)
