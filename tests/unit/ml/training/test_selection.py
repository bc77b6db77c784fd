"""ml/training/selection.py: a model displaces the rule only on validation evidence (no Spark)."""

from __future__ import annotations

import numpy as np
import pytest

from sparkify.ml.evaluation import metrics
from sparkify.ml.training import selection

RULE = "calibrated_rule"


def _scorers(rows: int, churn_rate: float, strengths: dict[str, float], seed: int):
    """Labels and, per name, a score that is ``strength`` x the label plus unit Gaussian noise."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(rows) < churn_rate).astype(float)
    scores = {name: strength * labels + rng.normal(size=rows) for name, strength in strengths.items()}
    validation = {name: metrics.auc_pr(labels, values) for name, values in scores.items()}
    return labels, scores, validation


def test_a_model_that_is_clearly_better_is_published():
    labels, scores, validation = _scorers(4_000, 0.05, {"gbt": 2.0, RULE: 0.5}, seed=1)
    chosen = selection.choose(validation, labels, scores, RULE)
    assert chosen.published == chosen.best_on_validation == "gbt"
    assert chosen.win_share is not None and chosen.win_share >= 0.99
    assert "gbt" in chosen.reason and "bootstrap" in chosen.reason


def test_a_lucky_validation_win_on_few_churners_publishes_the_rule():
    # Two scorers of the same quality on 300 users (about 15 churners): one wins validation by chance.
    labels, scores, validation = _scorers(300, 0.05, {"forest": 1.0, RULE: 1.0}, seed=4)
    assert validation["forest"] > validation[RULE]  # the precondition: the model won validation
    chosen = selection.choose(validation, labels, scores, RULE)
    assert chosen.best_on_validation == "forest"
    assert chosen.published == RULE
    assert chosen.win_share is not None and chosen.win_share < selection.CONFIDENCE
    assert f"{RULE} is published" in chosen.reason


def test_the_rule_best_on_validation_is_published_without_a_bootstrap():
    labels, scores, validation = _scorers(500, 0.1, {"forest": 0.2, RULE: 2.0}, seed=2)
    chosen = selection.choose(validation, labels, scores, RULE)
    assert (chosen.published, chosen.best_on_validation, chosen.win_share) == (RULE, RULE, None)


def test_ties_never_win_and_the_bootstrap_is_reproducible():
    labels, scores, _ = _scorers(1_000, 0.1, {"a": 1.0}, seed=3)
    assert selection.paired_win_share(labels, scores["a"], scores["a"].copy()) == 0.0
    better = scores["a"] + 0.5 * labels
    assert selection.paired_win_share(labels, better, scores["a"]) == selection.paired_win_share(
        labels, better, scores["a"]
    )


def test_scores_of_other_rows_are_refused():
    with pytest.raises(ValueError, match="same rows"):
        selection.paired_win_share(np.zeros(10), np.zeros(10), np.zeros(9))


def test_users_are_resampled_whole():
    # 40 users with 7 rows each; one user's rows are all positives. Resampling users keeps those 7
    # together, so a resample has either none or a multiple of 7 of them: the share of resamples
    # without a churner is about (1 - 1/40)^40 = 36%, where resampling rows would give (1 - 7/280)^280, about 0.
    users = np.repeat(np.arange(40), 7)
    labels = (users == 0).astype(float)
    always = np.ones(labels.size)
    rng = np.random.default_rng(5)
    challenger = labels + rng.normal(scale=0.01, size=labels.size)  # wins whenever a churner is drawn
    by_user = selection.paired_win_share(labels, challenger, always, users, resamples=2_000)
    by_row = selection.paired_win_share(labels, challenger, always, resamples=2_000)
    assert by_user == pytest.approx(1 - (1 - 1 / 40) ** 40, abs=0.04)
    assert by_row > 0.99
    with pytest.raises(ValueError, match="groups"):
        selection.paired_win_share(labels, challenger, always, users[:-1])


def _win_share_by_copying_rows(labels, challenger, baseline, groups, resamples, seed):
    """The bootstrap by its definition: copy each drawn user's rows, score the copy."""
    codes = np.unique(groups, return_inverse=True)[1].reshape(-1)
    count = int(codes.max()) + 1
    rng = np.random.default_rng(seed)
    wins = 0
    for _ in range(resamples):
        draws = np.bincount(rng.integers(0, count, count), minlength=count)
        rows = np.repeat(np.arange(labels.size), draws[codes])
        if labels[rows].sum() == 0:
            continue
        wins += metrics.auc_pr(labels[rows], challenger[rows]) > metrics.auc_pr(labels[rows], baseline[rows])
    return wins / resamples


@pytest.mark.parametrize("seed", range(3))
def test_the_bootstrap_wins_exactly_as_often_as_copying_the_drawn_rows(seed: int):
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(150), 5)
    labels = (rng.random(users.size) < 0.06).astype(float)
    challenger = np.round(labels * 0.6 + rng.normal(size=users.size), 1)  # rounded: ties
    baseline = np.round(labels * 0.5 + rng.normal(size=users.size), 1)
    expected = _win_share_by_copying_rows(labels, challenger, baseline, users, 200, seed)
    assert selection.paired_win_share(labels, challenger, baseline, users, 200, seed) == expected
    assert 0.0 < expected < 1.0  # a contest, not a walkover either way
