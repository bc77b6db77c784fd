"""ml/calibration.py on generated scores whose true calibration is known (no Spark)."""

from __future__ import annotations

import numpy as np
import pytest

from sparkify.ml import calibration
from sparkify.ml.evaluation import metrics


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-values))


def _overconfident_scores(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from sigmoid(z - 2) while the scores say sigmoid(2.5 z - 2): right order, wrong scale."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=rows)
    labels = (rng.random(rows) < _sigmoid(latent - 2.0)).astype(float)
    return labels, _sigmoid(2.5 * latent - 2.0)


def test_platt_recovers_the_map_from_the_scores_logit_to_the_true_one():
    labels, scores = _overconfident_scores(40_000, seed=1)
    slope, intercept = calibration.fit_platt(labels, scores)
    # true probability = sigmoid(z - 2) = sigmoid(0.4 * logit(score) - 1.2)
    assert slope == pytest.approx(0.4, abs=0.03)
    assert intercept == pytest.approx(-1.2, abs=0.06)


def test_miscalibrated_scores_are_calibrated_and_keep_their_ranking():
    labels, scores = _overconfident_scores(5_000, seed=2)
    chosen = calibration.choose(labels, scores)
    assert chosen.method == "platt"
    assert chosen.validation_ece_platt < chosen.validation_ece_raw
    fresh_labels, fresh_scores = _overconfident_scores(5_000, seed=3)
    calibrated = chosen.apply(fresh_scores)
    assert metrics.expected_calibration_error(fresh_labels, calibrated) < 0.5 * (
        metrics.expected_calibration_error(fresh_labels, fresh_scores)
    )
    assert np.all(np.diff(calibrated[np.argsort(fresh_scores)]) >= 0)
    assert metrics.auc_pr(fresh_labels, calibrated) == pytest.approx(
        metrics.auc_pr(fresh_labels, fresh_scores)
    )


def test_calibrated_scores_stay_calibrated():
    def calibrated_sample(seed: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        scores = _sigmoid(rng.normal(size=5_000) - 2.0)
        return (rng.random(scores.size) < scores).astype(float), scores

    chosen = calibration.choose(*calibrated_sample(4))
    assert chosen.slope == pytest.approx(1.0, abs=0.15)
    fresh_labels, fresh_scores = calibrated_sample(5)
    raw_ece = metrics.expected_calibration_error(fresh_labels, fresh_scores)
    assert metrics.expected_calibration_error(fresh_labels, chosen.apply(fresh_scores)) <= raw_ece + 0.01


def test_scores_that_rank_backwards_are_never_inverted():
    labels, scores = _overconfident_scores(5_000, seed=5)
    chosen = calibration.choose(labels, 1.0 - scores)
    assert chosen.method == "none"
    assert chosen.validation_ece_platt is None


def test_too_few_churners_for_every_fold_leaves_the_scores_raw():
    labels = np.zeros(200)
    labels[:2] = 1.0
    chosen = calibration.choose(labels, np.linspace(0.9, 0.01, 200))
    assert chosen.method == "none"
    assert chosen.validation_ece_platt is None
    assert "fewer than 20 churners" in chosen.describe()
