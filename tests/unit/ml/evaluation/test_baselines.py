"""The oracles' scores: in row order, asked for user by user (the observable ceiling keeps one user),
and computed in a second process beside the model fits."""

from __future__ import annotations

import os
import time
from datetime import date

import numpy as np
import pandas as pd
import pytest

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


class _ProcessOracle:
    """An oracle whose probability is the id of the process that computed it."""

    def knows(self, user_id: str) -> bool:
        return True

    def oracle_probability(self, user_id: str, as_of: date, horizon_days: int) -> float:
        return float(os.getpid())


class _StuckOracle(_ProcessOracle):
    def oracle_probability(self, user_id: str, as_of: date, horizon_days: int) -> float:
        time.sleep(600)
        return 0.0


def test_oracle_scores_apart_are_the_same_scores_from_another_process_in_the_oracles_order():
    rows = pd.DataFrame({"user_id": ["7", "3", "7"], "as_of_date": [date(2018, 11, d) for d in (9, 2, 1)]})
    oracles = {"observable_ceiling": None, "oracle": _RecordingOracle(), "process": _ProcessOracle()}
    with baselines.oracle_scores_apart(rows, oracles, 14) as waited:
        scores = waited()
    assert list(scores) == ["observable_ceiling", "oracle", "process"]
    assert scores["observable_ceiling"] is None
    np.testing.assert_allclose(scores["oracle"], baselines.oracle_scores(rows, _RecordingOracle(), 14))
    assert len(set(scores["process"])) == 1 and scores["process"][0] != os.getpid()


def test_leaving_early_stops_the_oracles_process_instead_of_waiting_for_it():
    rows = pd.DataFrame({"user_id": ["7"], "as_of_date": [date(2018, 11, 9)]})
    started = time.monotonic()
    with (
        pytest.raises(RuntimeError, match="a fit failed"),
        baselines.oracle_scores_apart(rows, {"stuck": _StuckOracle()}, 14),
    ):
        raise RuntimeError("a fit failed")
    assert time.monotonic() - started < 300  # the oracle alone would take 600 s


def test_without_oracles_nothing_is_started():
    rows = pd.DataFrame({"user_id": ["7"], "as_of_date": [date(2018, 11, 9)]})
    with baselines.oracle_scores_apart(rows, {"observable_ceiling": None, "oracle": None}, 14) as waited:
        assert waited() == {"observable_ceiling": None, "oracle": None}
