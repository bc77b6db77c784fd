"""Which scorer is published: the best on validation, but a model displaces the rule only on evidence.

Validation is a week of as-of dates. At mini scale it holds a few dozen churners, and the family
with the highest validation AUC-PR there often wins by chance: the held-out dates then rank it
below the one-feature rule we already compute, and the scheduled job would publish worse scores
than a baseline. So the best family is published only when a paired bootstrap over the validation
users says it beats the calibrated rule in at least ``CONFIDENCE`` of resampled validation sets;
otherwise the rule is published, and the model card and report say why. At full scale, with
thousands of validation churners, a real gain passes this easily; a lucky one does not.
"""

from __future__ import annotations

import numpy as np

from sparkify.ml.evaluation import metrics
from sparkify.ml.model_card import Selection

CONFIDENCE = 0.9
RESAMPLES = 400
SEED = 17


def paired_win_share(
    labels: np.ndarray,
    challenger: np.ndarray,
    baseline: np.ndarray,
    groups: np.ndarray | None = None,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> float:
    """Share of resamples of the groups (with replacement) where the challenger's AUC-PR beats the baseline's.

    Both score the same rows in the same order, so each resample compares them on identical users:
    the noise of which users happened to churn is shared, and only the difference is judged. The
    validation period has several as-of dates per user, and one churner is a positive on each of
    the dates before their cancellation, so the users (``groups``), not the rows, are resampled:
    each keeps all its rows. Without ``groups`` every row is its own group. A resample without a
    churner has no AUC-PR and counts as no win.
    """
    if not (labels.shape == challenger.shape == baseline.shape):
        raise ValueError("labels and both scores must cover the same rows")
    if groups is None:
        codes = np.arange(labels.size)
    elif groups.shape != labels.shape:
        raise ValueError("labels and groups must cover the same rows")
    else:
        codes = np.unique(groups, return_inverse=True)[1].reshape(-1)
    group_count = int(codes.max()) + 1 if codes.size else 0
    # Each scorer's rows are ranked once; a resample only counts them again.
    challenger_auc_pr = metrics.ResampledAucPr(labels, challenger, codes)
    baseline_auc_pr = metrics.ResampledAucPr(labels, baseline, codes)
    rng = np.random.default_rng(seed)
    wins = 0
    for _ in range(resamples):
        # How often each group was drawn; each of its rows counts as often.
        draws = np.bincount(rng.integers(0, group_count, group_count), minlength=group_count)
        challenger_score, baseline_score = challenger_auc_pr(draws), baseline_auc_pr(draws)
        wins += bool(challenger_score > baseline_score)  # nan (no churner drawn) is no win
    return wins / resamples


def choose(
    validation_auc_pr: dict[str, float],
    labels: np.ndarray,
    scores: dict[str, np.ndarray],
    baseline: str,
    groups: np.ndarray | None = None,
    confidence: float = CONFIDENCE,
) -> Selection:
    """The family to publish: the validation winner when it beats ``baseline`` with ``confidence``.

    ``scores`` holds each family's validation scores on the rows of ``labels``, in the same order;
    ``groups`` the user of each row (resampled whole, see ``paired_win_share``).
    """
    best = max(validation_auc_pr, key=lambda family: validation_auc_pr[family])
    if best == baseline:
        return Selection(baseline, best, None, f"{baseline} had the best validation AUC-PR")
    share = paired_win_share(labels, scores[best], scores[baseline], groups)
    comparison = (
        f"{best} (validation AUC-PR {validation_auc_pr[best]:.3f}) beat {baseline} "
        f"({validation_auc_pr[baseline]:.3f}) in {share:.0%} of {RESAMPLES} paired bootstrap resamples of the users"
    )
    if share >= confidence:
        return Selection(best, best, share, f"{comparison} (>= {confidence:.0%})")
    return Selection(
        baseline, best, share, f"{comparison}, fewer than {confidence:.0%}: {baseline} is published"
    )
