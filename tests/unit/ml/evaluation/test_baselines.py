"""The oracles' scores: in row order, asked for user by user (the observable ceiling keeps one user)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from sparkify.ml.evaluation import baselines


class _RecordingOracle:
    """An oracle whose probability encodes its question, and which remembers the order asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, date]] = []

    def knows(self, user_id: str) -> bool:
        return user_id != "stranger"

    def oracle_probability(self, user_id: str, as_of: date, horizon_days: int) -> float:
        self.asked.append((user_id, as_of))
        return int(user_id) / 100 + as_of.day / 10_000 + horizon_days / 1_000_000


def test_oracle_scores_are_in_row_order_and_asked_one_user_at_a_time():
    users = ["7", "3", "7", "12", "3", "7"]
    days = [9, 2, 1, 5, 4, 3]
    rows = pd.DataFrame(
        {"user_id": users, "as_of_date": [date(2018, 11, d) for d in days]}, index=[40, 41, 42, 43, 44, 45]
    )
    oracle = _RecordingOracle()
    scores = baselines.oracle_scores(rows, oracle, 14)
    expected = [int(u) / 100 + d / 10_000 + 14 / 1_000_000 for u, d in zip(users, days, strict=True)]
    np.testing.assert_allclose(scores, expected)
    asked_users = [user for user, _ in oracle.asked]
    assert asked_users == sorted(asked_users)  # each user's dates together
    assert oracle.asked == sorted(oracle.asked)  # and each user's dates in order
    assert len(oracle.asked) == len(rows)


def test_an_oracle_that_lacks_a_user_gives_no_scores():
    rows = pd.DataFrame({"user_id": ["3", "stranger"], "as_of_date": [date(2018, 11, 1)] * 2})
    assert baselines.oracle_scores(rows, _RecordingOracle(), 14) is None
    assert baselines.oracle_scores(rows, None, 14) is None
