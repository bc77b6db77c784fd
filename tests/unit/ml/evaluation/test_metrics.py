"""ml/evaluation/metrics.py against brute-force definitions, on small hand-made and random samples (no Spark)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sparkify.ml.evaluation import metrics


def _pairwise_auc_roc(labels: np.ndarray, scores: np.ndarray) -> float:
    """P(score of a random churner > score of a random stayer), ties counting one half."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (pos.size * neg.size)


def _thresholded_average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """Average precision by definition: one operating point per distinct score, highest first."""
    total, previous_recall = 0.0, 0.0
    for threshold in sorted(set(scores.tolist()), reverse=True):
        flagged = scores >= threshold
        hits = float(labels[flagged].sum())
        recall = hits / labels.sum()
        total += (recall - previous_recall) * hits / flagged.sum()
        previous_recall = recall
    return total


@pytest.mark.parametrize("seed", range(5))
def test_ranking_metrics_equal_their_definitions_on_random_scores_with_ties(seed: int):
    rng = np.random.default_rng(seed)
    labels = (rng.random(60) < 0.3).astype(float)
    labels[:2] = [0.0, 1.0]  # both classes present
    scores = rng.integers(0, 8, size=60).astype(float)  # few distinct values: many ties
    assert metrics.auc_roc(labels, scores) == pytest.approx(_pairwise_auc_roc(labels, scores))
    assert metrics.auc_pr(labels, scores) == pytest.approx(_thresholded_average_precision(labels, scores))


@pytest.mark.parametrize("seed", range(5))
def test_a_resample_of_groups_scores_as_the_drawn_rows_copied(seed: int):
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(100), 3)
    labels = (rng.random(300) < 0.2).astype(float)
    scores = rng.integers(0, 40, size=300).astype(float)  # many ties
    draws = rng.integers(0, 4, size=100)  # zero: a group left out of the resample
    draws[groups[scores == scores.max()]] = 0  # the whole top run of ties left out
    copied = np.repeat(np.arange(300), draws[groups])
    resampled = metrics.ResampledAucPr(labels, scores, groups)
    assert resampled(draws) == pytest.approx(metrics.auc_pr(labels[copied], scores[copied]), rel=1e-12)
    assert resampled(np.ones(100, dtype=int)) == pytest.approx(metrics.auc_pr(labels, scores), rel=1e-12)
    churner_groups = np.unique(groups[labels == 1])
    no_churner = draws.copy()
    no_churner[churner_groups] = 0
    assert np.isnan(resampled(no_churner))
    assert np.isnan(metrics.ResampledAucPr(np.zeros(300), scores, groups)(draws))


def test_a_constant_score_earns_exactly_the_base_rate_and_a_coin_flip():
    labels = np.array([1, 0, 0, 0, 1, 0, 0, 0, 0, 0], dtype=float)
    constant = np.full(labels.size, 0.2)
    assert metrics.auc_pr(labels, constant) == pytest.approx(0.2)
    assert metrics.auc_roc(labels, constant) == pytest.approx(0.5)
    assert metrics.top_decile(labels, constant)["lift"] == pytest.approx(1.0)


def test_a_perfect_ranking_scores_one_and_the_top_decile_is_all_churners():
    labels = np.array([1.0] * 10 + [0.0] * 90)
    scores = np.linspace(1.0, 0.0, 100)
    assert metrics.auc_pr(labels, scores) == pytest.approx(1.0)
    assert metrics.auc_roc(labels, scores) == pytest.approx(1.0)
    top = metrics.top_decile(labels, scores)
    assert top["precision"] == pytest.approx(1.0) and top["lift"] == pytest.approx(10.0)


def test_no_churner_gives_nan_not_a_flattering_number():
    labels = np.zeros(5)
    scores = np.arange(5, dtype=float)
    assert np.isnan(metrics.auc_pr(labels, scores))
    assert np.isnan(metrics.auc_roc(labels, scores))


def test_the_best_f1_threshold_is_the_one_a_search_over_every_score_finds():
    rng = np.random.default_rng(3)
    labels = (rng.random(80) < 0.25).astype(float)
    scores = rng.random(80) + 0.5 * labels
    chosen = metrics.best_f1_threshold(labels, scores)
    best = max(metrics.at_threshold(labels, scores, t)["f1"] for t in scores)
    assert metrics.at_threshold(labels, scores, chosen)["f1"] == pytest.approx(best)


def test_calibration_bins_cover_every_row_once():
    rng = np.random.default_rng(4)
    probabilities = rng.random(200)
    labels = (rng.random(200) < probabilities).astype(float)
    table = metrics.calibration_table(labels, probabilities)
    assert sum(row["rows"] for row in table) == 200
    assert all(0.0 <= row["observed_rate"] <= 1.0 for row in table)
    assert metrics.brier(labels, labels) == 0.0


def test_lift_curve_ends_at_one_when_everyone_is_flagged():
    labels = np.array([1, 0, 0, 1, 0, 0, 0, 0, 0, 0], dtype=float)
    curve = metrics.lift_curve(labels, np.arange(10, dtype=float))
    assert curve.x[-1] == 1.0 and curve.y[-1] == pytest.approx(1.0)


def test_the_lift_curve_counts_ties_as_the_top_decile_does_in_any_row_order():
    """Isotonic calibration and the rule give runs of tied scores: which tied row is first is arbitrary."""
    labels = np.array([1.0] + [0.0] * 19)
    constant = np.full(labels.size, 0.3)
    assert metrics.lift_curve(labels, constant).y == pytest.approx([1.0] * 10)
    rng = np.random.default_rng(8)
    labels = (rng.random(500) < 0.1).astype(float)
    steps = np.round(rng.random(500) + 0.3 * labels, 1)  # 14 distinct scores
    for order in (np.arange(500), rng.permutation(500)):
        curve = metrics.lift_curve(labels[order], steps[order])
        assert curve.y[0] == pytest.approx(metrics.top_decile(labels, steps)["lift"], abs=1e-4)
        brute = [
            _shared_hits_by_definition(labels, steps, max(1, round(500 * x))) / max(1, round(500 * x))
            for x in curve.x
        ]
        assert curve.y == pytest.approx([b / labels.mean() for b in brute], abs=1e-4)


def _shared_hits_by_definition(labels: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Churners above the k-th highest score, plus the tied rows' churner share of the places left."""
    cut = np.sort(scores)[::-1][k - 1]
    above, tied = scores > cut, scores == cut
    return labels[above].sum() + (k - above.sum()) * labels[tied].sum() / tied.sum()


def _ece_by_definition(labels: np.ndarray, probabilities: np.ndarray, groups: list[list[int]]) -> float:
    return (
        sum(len(g) * abs(probabilities[g].mean() - labels[g].mean()) for g in groups if len(g)) / labels.size
    )


def test_ece_is_the_row_weighted_gap_over_equal_count_bins():
    probabilities = np.array([0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.4, 0.4, 0.5, 0.5])
    labels = np.array([0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0])
    expected = _ece_by_definition(labels, probabilities, [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]])
    assert metrics.expected_calibration_error(labels, probabilities, bins=5) == pytest.approx(expected)


def test_ece_keeps_tied_probabilities_in_one_bin():
    probabilities = np.array([0.1, 0.2, 0.2, 0.2, 0.9, 0.9])
    labels = np.array([0.0, 0.0, 1.0, 0.0, 1.0, 1.0])
    # Three equal-count bins would cut between the tied 0.2s: they stay together instead.
    expected = _ece_by_definition(labels, probabilities, [[0], [1, 2, 3], [4, 5]])
    assert metrics.expected_calibration_error(labels, probabilities, bins=3) == pytest.approx(expected)


@pytest.mark.parametrize("seed", range(3))
def test_ece_is_near_zero_for_calibrated_scores_and_finds_a_shift(seed: int):
    rng = np.random.default_rng(seed)
    probabilities = rng.beta(1, 15, size=40_000)  # churn-like: most scores below 0.1
    labels = (rng.random(probabilities.size) < probabilities).astype(float)
    assert metrics.expected_calibration_error(labels, probabilities) < 0.005
    shifted = np.clip(probabilities + 0.05, 0, 1)
    assert metrics.expected_calibration_error(labels, shifted) == pytest.approx(0.05, abs=0.005)


def test_a_thinned_curve_keeps_its_ends_and_every_point_within_a_cell_of_a_kept_one():
    rng = np.random.default_rng(5)
    labels = (rng.random(10_000) < 0.05).astype(float)
    scores = rng.random(10_000) + labels * rng.random(10_000)  # churners score higher, with overlap
    thresholds = np.sort(np.unique(scores))[::-1]
    positives, negatives = labels.sum(), labels.size - labels.sum()
    flagged = [scores >= t for t in thresholds]
    tpr = np.r_[0.0, [labels[f].sum() / positives for f in flagged]]
    fpr = np.r_[0.0, [(1 - labels[f]).sum() / negatives for f in flagged]]
    curve = metrics.roc_curve(labels, scores)
    kept = np.c_[curve.x, curve.y]
    assert len(kept) < len(fpr) / 3
    assert tuple(kept[0]) == (0.0, 0.0) and tuple(kept[-1]) == (1.0, 1.0)
    every = np.c_[fpr, tpr]
    nearest = np.min(np.max(np.abs(every[:, None, :] - kept[None, :, :]), axis=2), axis=1)
    assert nearest.max() <= metrics.CURVE_RESOLUTION + 1e-4  # one cell, plus the 4-decimal rounding


def test_thinning_leaves_a_curve_of_few_points_whole():
    labels = np.array([1, 0, 1, 0, 0], dtype=float)
    curve = metrics.pr_curve(labels, np.array([0.9, 0.8, 0.7, 0.2, 0.1]))
    assert curve.x == [0.5, 0.5, 1.0, 1.0, 1.0]
    assert curve.y == [1.0, 0.5, 0.6667, 0.5, 0.4]
