"""Honest churn metrics on held-out predictions, computed the same way for models and baselines.

Ranking metrics group tied scores into one threshold, so a constant score (the base-rate
baseline) gets exactly the base rate as AUC-PR and 0.5 as AUC-ROC, and a coarse rule is not
credited for an arbitrary order among its ties. AUC-PR is average precision (the step-wise area,
which, unlike the trapezoid, does not reward interpolating between operating points).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Curve:
    """Points of one curve, for the report."""

    x: list[float]
    y: list[float]


@dataclass(frozen=True)
class Ranking:
    """One scorer's rows, highest score first, and the last position of each run of tied scores."""

    order: np.ndarray
    last_of_tie: np.ndarray
    thresholds: np.ndarray

    @classmethod
    def of(cls, scores: np.ndarray) -> Ranking:
        order = np.argsort(-scores, kind="mergesort")
        sorted_scores = scores[order]
        last_of_tie = np.r_[np.flatnonzero(np.diff(sorted_scores)), scores.size - 1]
        return cls(order, last_of_tie, sorted_scores[last_of_tie])


class ResampledAucPr:
    """``auc_pr`` of one scorer on resamples of its rows' groups, the rows ranked once for all resamples.

    The selection's bootstrap judges the same scores on 400 resamples of the users. Copying the
    drawn users' rows and sorting the copy, twice per resample, took 10.6 s of a full-scale training
    run. A copied row keeps its original's score, so it joins the same run of ties: a resample's
    operating points are the ranking's, with each row counted as often as its group was drawn. Only
    the runs holding a churner add recall, so a resample is one cumulative count of the drawn rows,
    read at the ends of those runs, and one over the churners' rows.
    """

    def __init__(self, labels: np.ndarray, scores: np.ndarray, groups: np.ndarray) -> None:
        """``groups``: each row's group as a code 0..n-1 (the unit a resample draws)."""
        ranking = Ranking.of(scores)
        ranked_labels = labels[ranking.order] > 0
        self._ranked_groups = groups[ranking.order]
        self._churner_groups = self._ranked_groups[ranked_labels]
        # Each churner's run of ties, by the run's last position; one entry per run holding churners.
        run_of_churner = np.searchsorted(ranking.last_of_tie, np.flatnonzero(ranked_labels))
        last_churner_of_run = np.flatnonzero(np.r_[np.diff(run_of_churner), 1])[: run_of_churner.size]
        self._last_churner_of_run = last_churner_of_run
        self._end_of_run = ranking.last_of_tie[run_of_churner[last_churner_of_run]]

    def __call__(self, draws: np.ndarray) -> float:
        """AUC-PR of the rows of group g repeated ``draws[g]`` times; nan when no churner was drawn."""
        if self._churner_groups.size == 0:
            return float("nan")
        true_pos = np.cumsum(draws[self._churner_groups])[self._last_churner_of_run]
        positives = true_pos[-1]
        if positives == 0:
            return float("nan")
        flagged = np.cumsum(draws[self._ranked_groups])[self._end_of_run]
        found = np.diff(np.r_[0, true_pos])
        steps = found > 0  # a run whose churners were all left out adds no recall
        return float(np.sum(found[steps] / positives * (true_pos[steps] / flagged[steps])))


def _operating_points(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True and false positives at each distinct threshold, highest score first, and the thresholds."""
    ranking = Ranking.of(scores)
    true_pos = np.cumsum(labels[ranking.order])[ranking.last_of_tie]
    false_pos = (ranking.last_of_tie + 1) - true_pos
    return true_pos, false_pos, ranking.thresholds


def auc_pr(labels: np.ndarray, scores: np.ndarray) -> float:
    """Average precision: sum over thresholds of (recall step) x precision."""
    true_pos, false_pos, _ = _operating_points(labels, scores)
    positives = labels.sum()
    if positives == 0:
        return float("nan")
    precision = true_pos / (true_pos + false_pos)
    recall = true_pos / positives
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def auc_roc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (trapezoid over distinct thresholds, so ties count one half)."""
    true_pos, false_pos, _ = _operating_points(labels, scores)
    positives, negatives = labels.sum(), labels.size - labels.sum()
    if positives == 0 or negatives == 0:
        return float("nan")
    tpr = np.r_[0.0, true_pos / positives]
    fpr = np.r_[0.0, false_pos / negatives]
    return float(np.trapezoid(tpr, fpr))


# Curves are drawn about 500 pixels wide: a point closer than this to the last one kept is not seen.
CURVE_RESOLUTION = 1e-3


def thinned(x: np.ndarray, y: np.ndarray, resolution: float = CURVE_RESOLUTION) -> Curve:
    """The first point of each run of points in one ``resolution`` cell, and the last point.

    A curve has a point per distinct score: 125,000 on the full-scale held-out dates, for each of
    ten scorers and two kinds. Kept whole they made the model card millions of numbers, and turning
    it into JSON, twice per training run, took about half a minute. Thinned, no point of the curve
    is more than one cell from a kept one, which a plot cannot show.
    """
    cells = np.floor(np.c_[x, y] / resolution)
    keep = np.r_[True, np.any(np.diff(cells, axis=0) != 0, axis=1)]
    keep[-1] = True
    return Curve(x[keep].round(4).tolist(), y[keep].round(4).tolist())


def pr_curve(labels: np.ndarray, scores: np.ndarray) -> Curve:
    true_pos, false_pos, _ = _operating_points(labels, scores)
    recall = true_pos / max(labels.sum(), 1)
    precision = true_pos / (true_pos + false_pos)
    return thinned(recall, precision)


def roc_curve(labels: np.ndarray, scores: np.ndarray) -> Curve:
    true_pos, false_pos, _ = _operating_points(labels, scores)
    fpr = np.r_[0.0, false_pos / max(labels.size - labels.sum(), 1)]
    tpr = np.r_[0.0, true_pos / max(labels.sum(), 1)]
    return thinned(fpr, tpr)


def best_f1_threshold(labels: np.ndarray, scores: np.ndarray) -> float:
    """The score threshold that maximises the churn class's F1 (chosen on validation data only)."""
    true_pos, false_pos, thresholds = _operating_points(labels, scores)
    positives = labels.sum()
    f1 = 2 * true_pos / (true_pos + false_pos + positives)
    return float(thresholds[int(np.argmax(f1))])


def at_threshold(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    """Churn-class precision, recall and F1 when every score >= threshold is flagged."""
    flagged = scores >= threshold
    true_pos = float(np.sum(flagged & (labels == 1)))
    precision = true_pos / flagged.sum() if flagged.sum() else 0.0
    recall = true_pos / labels.sum() if labels.sum() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"threshold": threshold, "precision": precision, "recall": recall, "f1": f1}


def _churners_in_top(labels: np.ndarray, ranking: Ranking, ks: np.ndarray) -> np.ndarray:
    """Churners among the ``k`` highest scores, for each ``k``; ties at the cut shared out in proportion.

    Which of a run of tied scores make the cut is arbitrary, so each tied row counts for the run's
    churner share: a constant score then finds the base rate at every ``k``, in any row order.
    """
    true_pos = np.r_[0.0, np.cumsum(labels[ranking.order])[ranking.last_of_tie]]
    flagged = np.r_[0, ranking.last_of_tie + 1]
    run = np.searchsorted(flagged[1:], ks)  # the run the k-th row falls in
    before, through = run, run + 1
    in_run = (true_pos[through] - true_pos[before]) / (flagged[through] - flagged[before])
    return true_pos[before] + (ks - flagged[before]) * in_run


def top_decile(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """Precision among the 10% highest scores, and its lift over the base rate (ties shared at the cut)."""
    k = max(1, round(labels.size / 10))
    precision = float(_churners_in_top(labels, Ranking.of(scores), np.array([k]))[0] / k)
    base_rate = float(labels.mean())
    return {"precision": precision, "lift": precision / base_rate if base_rate else float("nan")}


def lift_curve(labels: np.ndarray, scores: np.ndarray, bins: int = 10) -> Curve:
    """Cumulative lift at each tenth of the population, highest scores first, counted as ``top_decile`` counts."""
    xs = [tenth / bins for tenth in range(1, bins + 1)]
    ks = np.array([max(1, round(labels.size * tenth / bins)) for tenth in range(1, bins + 1)])
    base_rate = labels.mean() if labels.size else 0.0
    if not base_rate:
        return Curve(xs, [float("nan")] * bins)
    lifts = _churners_in_top(labels, Ranking.of(scores), ks) / ks / base_rate
    return Curve(xs, [round(float(y), 4) for y in lifts])


def brier(labels: np.ndarray, probabilities: np.ndarray) -> float:
    return float(np.mean((probabilities - labels) ** 2))


def calibration_table(
    labels: np.ndarray, probabilities: np.ndarray, bins: int = 10
) -> list[dict[str, float]]:
    """Mean predicted probability against the observed churn rate, per probability bin."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    table = []
    for index in range(bins):
        members = which == index
        if members.any():
            table.append(
                {
                    "bin": f"{edges[index]:.1f}-{edges[index + 1]:.1f}",
                    "rows": int(members.sum()),
                    "mean_predicted": float(probabilities[members].mean()),
                    "observed_rate": float(labels[members].mean()),
                }
            )
    return table


def expected_calibration_error(labels: np.ndarray, probabilities: np.ndarray, bins: int = 10) -> float:
    """Mean gap between predicted and observed churn rate, over equal-count bins of the prediction.

    Equal-count rather than equal-width bins: churn probabilities crowd below 0.1, where ten
    equal-width bins would put nearly every row in one bin and hide a miscalibration inside it.
    Each bin weighs by its share of rows; rows with the same probability stay in one bin.
    """
    if labels.size == 0:
        return float("nan")
    order = np.argsort(probabilities, kind="stable")
    sorted_p, sorted_y = probabilities[order], labels[order]
    # Bin edges at equal counts, moved forward past ties so that one value never spans two bins.
    cuts = np.unique(
        np.searchsorted(sorted_p, sorted_p[np.linspace(0, labels.size, bins + 1, dtype=int)[1:-1]])
    )
    gap = 0.0
    for members_p, members_y in zip(np.split(sorted_p, cuts), np.split(sorted_y, cuts), strict=True):
        if members_p.size:
            gap += members_p.size * abs(float(members_p.mean()) - float(members_y.mean()))
    return gap / labels.size


def evaluate(labels: np.ndarray, scores: np.ndarray, threshold: float | None, probabilities: bool) -> dict:
    """Every held-out metric of one scorer; probability metrics only for calibrated-scale scores."""
    result: dict = {
        "rows": int(labels.size),
        "positives": int(labels.sum()),
        "base_rate": float(labels.mean()) if labels.size else float("nan"),
        "auc_pr": auc_pr(labels, scores),
        "auc_roc": auc_roc(labels, scores),
        "top_decile": top_decile(labels, scores),
    }
    if threshold is not None:
        result["at_threshold"] = at_threshold(labels, scores, threshold)
    if probabilities:
        result["brier"] = brier(labels, scores)
        result["ece"] = expected_calibration_error(labels, scores)
        result["calibration"] = calibration_table(labels, scores)
    return result
