"""Platt scaling of a family's churn probabilities, fitted on the validation period, kept only when it helps.

The class-weight correction (``predict.prior_corrected``) restores the base rate exactly for
logistic regression but only roughly for trees, whose leaves are over- or under-confident. A
Platt map ``p -> sigmoid(slope * logit(p) + intercept)`` fixes both kinds with two numbers.

Why Platt and not isotonic regression: the map is strictly increasing (a fit whose slope is not
positive is refused), so ranking metrics (AUC-PR, lift, the chosen users) stay exactly what
validation chose them on; two parameters settle on the few hundred churners a mini-scale
validation date has, where an isotonic step function would overfit them and tie many scores.

Which rows fit it: the validation predictions of the model fitted on the tuning dates, which never
saw them. The published model is then refitted on more dates, so the map is an approximation for
it; the held-out ECE, computed after calibration, is the honest check. Whether to calibrate at all
is decided on the validation rows alone, by cross-fitting: the ECE of out-of-fold Platt
predictions against the ECE of the raw probabilities on the same rows. On scores that are already
calibrated the fitted map is close to the identity (it then only absorbs the validation period's
own churn rate), so choosing it by a small margin costs nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from pyspark.sql import Column
from pyspark.sql import functions as F

from sparkify.ml.evaluation.metrics import expected_calibration_error

# Probabilities are clipped away from 0 and 1 before the logit, so the map is finite everywhere.
EPSILON = 1e-6
FOLDS = 5
# Below this many churners on validation the fit would follow noise: the scores stay raw.
MIN_CHURNERS = 20
FOLD_SEED = 13
NEWTON_STEPS = 50
# A tiny ridge on the two parameters keeps Newton's step defined when one class is nearly separable.
RIDGE = 1e-6


@dataclass(frozen=True)
class Calibration:
    """The map applied to a family's corrected probabilities; the identity when ``method`` is ``none``."""

    method: str = "none"
    slope: float = 1.0
    intercept: float = 0.0
    validation_ece_raw: float | None = None
    validation_ece_platt: float | None = None

    def apply(self, probabilities: np.ndarray) -> np.ndarray:
        if self.method == "none":
            return probabilities
        return _sigmoid(self.slope * _logit(probabilities) + self.intercept)

    def column(self, probability: Column) -> Column:
        """The same map as a Spark column expression (built-ins only, no Python UDF)."""
        if self.method == "none":
            return probability
        clipped = F.least(F.greatest(probability, F.lit(EPSILON)), F.lit(1.0 - EPSILON))
        logit = F.log(clipped / (F.lit(1.0) - clipped))
        return F.lit(1.0) / (F.lit(1.0) + F.exp(-(F.lit(self.slope) * logit + F.lit(self.intercept))))

    def describe(self) -> str:
        """One line for the training summary and the report: what was applied and why."""
        if self.method == "platt":
            return (
                f"Platt (slope {self.slope:.3f}, intercept {self.intercept:.3f}): validation ECE "
                f"{self.validation_ece_raw:.3f} raw, {self.validation_ece_platt:.3f} cross-fitted"
            )
        if self.validation_ece_platt is None:
            return (
                f"none (fewer than {MIN_CHURNERS} churners on validation, a fold without one, "
                "or scores that rank churners last)"
            )
        return (
            f"none: cross-fitted Platt ECE {self.validation_ece_platt:.3f} did not beat the raw "
            f"{self.validation_ece_raw:.3f} on validation"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


IDENTITY = Calibration()


def _logit(probabilities: np.ndarray) -> np.ndarray:
    clipped = np.clip(probabilities, EPSILON, 1.0 - EPSILON)
    return np.log(clipped / (1.0 - clipped))


def fit_platt(labels: np.ndarray, probabilities: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of the logistic fit of ``labels`` on ``logit(probabilities)`` (Newton's method).

    Targets are Platt's smoothed ones ((N+ + 1) / (N+ + 2) and 1 / (N- + 2)), which keep a small
    sample from pushing the map to 0 or 1.
    """
    positives = float(labels.sum())
    negatives = float(labels.size - positives)
    targets = np.where(labels == 1, (positives + 1) / (positives + 2), 1 / (negatives + 2))
    design = np.column_stack([_logit(probabilities), np.ones(labels.size)])
    # Start from the constant model (slope 0, the base rate's logit): the log loss is convex, and
    # Newton steps halved until the loss falls cannot overshoot from there, however wrong the scores.
    params = np.array([0.0, float(_logit(np.array([targets.mean()]))[0])])
    loss = _log_loss(design, targets, params)
    for _ in range(NEWTON_STEPS):
        predicted = _sigmoid(design @ params)
        gradient = design.T @ (predicted - targets) + RIDGE * params
        curvature = design.T @ (design * (predicted * (1 - predicted))[:, None]) + RIDGE * np.eye(2)
        step = np.linalg.solve(curvature, gradient)
        while True:
            candidate = params - step
            candidate_loss = _log_loss(design, targets, candidate)
            if candidate_loss <= loss or np.max(np.abs(step)) < 1e-12:
                break
            step = step / 2
        params, loss = candidate, candidate_loss
        if np.max(np.abs(step)) < 1e-10:
            break
    return float(params[0]), float(params[1])


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(values, -500.0, 500.0)))


def _log_loss(design: np.ndarray, targets: np.ndarray, params: np.ndarray) -> float:
    """Summed cross-entropy of the targets under the map plus the ridge: what the Newton steps minimise."""
    logits = design @ params
    # log(1 + e^x) - t x is the cross-entropy of target t at logit x
    return float(np.sum(np.logaddexp(0.0, logits) - targets * logits) + RIDGE * params @ params / 2)


def _out_of_fold_platt(labels: np.ndarray, probabilities: np.ndarray) -> np.ndarray | None:
    """Each row's Platt probability from a map fitted on the other folds; None when a fold lacks a class."""
    folds = np.random.default_rng(FOLD_SEED).permutation(labels.size) % FOLDS
    calibrated = np.empty(labels.size)
    for fold in range(FOLDS):
        held, fit = folds == fold, folds != fold
        if labels[fit].sum() in (0, fit.sum()):
            return None
        slope, intercept = fit_platt(labels[fit], probabilities[fit])
        if slope <= 0:
            return None
        calibrated[held] = Calibration("platt", slope, intercept).apply(probabilities[held])
    return calibrated


def choose(labels: np.ndarray, probabilities: np.ndarray) -> Calibration:
    """Platt fitted on every validation row when its cross-fitted ECE beats the raw ECE; else the identity.

    Both ECEs are recorded either way, so the report can say why a family was or was not calibrated.
    """
    raw_ece = expected_calibration_error(labels, probabilities)
    if labels.sum() < MIN_CHURNERS:
        return Calibration(validation_ece_raw=raw_ece)
    out_of_fold = _out_of_fold_platt(labels, probabilities)
    if out_of_fold is None:
        return Calibration(validation_ece_raw=raw_ece)
    platt_ece = expected_calibration_error(labels, out_of_fold)
    slope, intercept = fit_platt(labels, probabilities)
    if platt_ece >= raw_ece or slope <= 0:
        return Calibration(validation_ece_raw=raw_ece, validation_ece_platt=platt_ece)
    return Calibration("platt", slope, intercept, raw_ece, platt_ece)
