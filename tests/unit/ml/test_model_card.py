"""The model card survives its trip through JSON, as scoring reads it back from the MLflow run (no Spark)."""

from __future__ import annotations

import json

from sparkify.ml.calibration import Calibration
from sparkify.ml.model_card import ModelCard, Selection


def _card() -> ModelCard:
    platt = Calibration("platt", 0.8, -0.2, 0.031, 0.012)
    return ModelCard(
        family="xgboost",
        params={"max_depth": 2, "n_estimators": 150},
        threshold=0.21,
        positive_weight=22.5,
        calibration=platt,
        validation_calibration={"xgboost": platt, "calibrated_rule": Calibration()},
        numeric_features=("songs_14d", "thumbs_down_per_song_7d"),
        categorical_features=("current_level",),
        label="churned_within_horizon",
        horizon_days=7,
        split={"final_fit": ["2018-11-01"], "validation": ["2018-11-12"], "test": ["2018-11-20"]},
        training_table="analytics.fct_training_set",
        training_table_delta_version=4,
        as_of_range=("2018-11-01", "2018-11-26"),
        validation_auc_pr={"xgboost": 0.13, "calibrated_rule": 0.08},
        selection=Selection("xgboost", "xgboost", 0.93, "xgboost beat calibrated_rule in 93%"),
        held_out={"xgboost": {"auc_pr": 0.12, "top_decile": {"lift": 3.1}}, "base_rate": {"auc_pr": 0.04}},
        curves={"xgboost": {"pr": [[0.0, 1.0], [1.0, 0.04]]}},
        feature_importances=[("songs_14d", 0.7), ("current_level", 0.3)],
        code_version="0.1.0+abc1234",
        trained_at="2026-12-05T03:00:00+00:00",
    )


def test_a_card_read_back_from_json_is_the_card_that_was_written() -> None:
    card = _card().registered("sparkify_churn/3", "0123abcd").judged("promoted (no champion yet)")
    again = ModelCard.from_dict(json.loads(json.dumps(card.to_dict())))
    assert again == card
    assert isinstance(again.calibration, Calibration) and again.calibration.method == "platt"
    assert again.selection.win_share == 0.93


def test_the_published_metrics_and_the_promotion_are_read_from_the_card() -> None:
    card = _card()
    assert card.published["auc_pr"] == 0.12
    assert not card.promoted and card.version == ""
    assert card.judged("not promoted (champion sparkify_churn/2 0.140 > 0.120)").promoted is False
    assert card.judged("promoted (--promote)").promoted
