"""What a model must beat: the base rate, a one-feature rule, and (on generated logs) the oracle."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from multiprocessing import get_context
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


@contextmanager
def oracle_scores_apart(
    rows: pd.DataFrame, oracles: Mapping[str, Oracle | None], horizon_days: int
) -> Iterator[Callable[[], dict[str, np.ndarray | None]]]:
    """``oracle_scores`` of each oracle, computed in a second process while the caller fits models.

    Yields the function that waits for them. At full scale the observable ceiling is about 100 s
    of one core for 125,000 held-out user-dates, while the model fits leave about a third of two
    cores idle. A thread would hold the interpreter lock against the driver's tens of thousands of
    py4j calls. The process is spawned, since a fork would copy the Spark gateway's threads and
    locks, and it is terminated on leaving, so a failed training run does not wait for it.
    """
    if all(oracle is None for oracle in oracles.values()):
        yield lambda: dict.fromkeys(oracles)
        return
    with get_context("spawn").Pool(1) as pool:
        pending = pool.apply_async(_scores_of_each, (rows, dict(oracles), horizon_days))
        yield pending.get


def _scores_of_each(
    rows: pd.DataFrame, oracles: Mapping[str, Oracle | None], horizon_days: int
) -> dict[str, np.ndarray | None]:
    return {name: oracle_scores(rows, oracle, horizon_days) for name, oracle in oracles.items()}
