"""What a model must beat: the base rate, a one-feature rule, and (on generated logs) the oracle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ml.dataset import RULE_FEATURE


def base_rate_scores(rows: pd.DataFrame, train_base_rate: float) -> np.ndarray:
    """Everyone gets the churn rate of the training dates."""
    return np.full(len(rows), train_base_rate)


def rule_scores(rows: pd.DataFrame) -> np.ndarray:
    """Fewest songs in the last 14 days first: a rank, not a probability."""
    return -rows[RULE_FEATURE].fillna(0).to_numpy(dtype=float)


def oracle_scores(rows: pd.DataFrame, landing: Path, horizon_days: int) -> np.ndarray | None:
    """The generator's own churn probability given each user's latent state, when the log was generated.

    This is the ceiling no model can reach from the log alone: it knows the hazard the simulator
    used. Returns None for logs without ground truth (real data) or with users it does not know.
    """
    if not (landing / "_ground_truth" / "users.csv").exists():
        return None
    from sparkify.generator.truth import load_ground_truth

    truth = load_ground_truth(landing)
    if not set(rows["user_id"]).issubset(truth.users):
        return None
    return np.array(
        [
            truth.oracle_probability(user, as_of, horizon_days)
            for user, as_of in zip(rows["user_id"], rows["as_of_date"], strict=True)
        ]
    )
