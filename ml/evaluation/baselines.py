"""What a model must beat: the base rate, a one-feature rule, and (on generated logs) the oracle."""

from __future__ import annotations

from datetime import date
from typing import Protocol

import numpy as np
import pandas as pd

RULE_FEATURE = "songs_14d"  # the one-feature baseline: the fewest songs in the last 14 days is most at risk


def base_rate_scores(rows: pd.DataFrame, train_base_rate: float) -> np.ndarray:
    """Everyone gets the churn rate of the training dates."""
    return np.full(len(rows), train_base_rate)


def rule_scores(rows: pd.DataFrame) -> np.ndarray:
    """Fewest songs in the last 14 days first: a rank, not a probability."""
    return -rows[RULE_FEATURE].fillna(0).to_numpy(dtype=float)


class Oracle(Protocol):
    """A churn probability that knows each user's latent state: an evaluation input, not a feature.

    Generated logs bring one (the generator's ground truth); real logs have none. The caller (the
    application layer) builds it and hands it to training, so ml/ never reads the landing folder.
    """

    def knows(self, user_id: str) -> bool: ...

    def oracle_probability(self, user_id: str, as_of: date, horizon_days: int) -> float: ...


def oracle_scores(rows: pd.DataFrame, oracle: Oracle | None, horizon_days: int) -> np.ndarray | None:
    """The oracle's probability for each row, or None without an oracle or when it lacks a user.

    The latent oracle knows the hazard the simulator used; the observable ceiling knows only the log.
    Rows are asked for user by user, each user's dates in order, so that an oracle needs one user's
    state at a time (the observable ceiling keeps no more); the scores come back in row order.
    """
    if oracle is None or not all(oracle.knows(user) for user in set(rows["user_id"])):
        return None
    keys = rows[["user_id", "as_of_date"]].reset_index(drop=True)
    scores = np.empty(len(keys))
    for at, user, as_of in keys.sort_values(["user_id", "as_of_date"], kind="stable").itertuples():
        scores[at] = oracle.oracle_probability(user, as_of, horizon_days)
    return scores
