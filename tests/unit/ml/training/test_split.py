"""The purged time split (ml/training/dataset.py plan_split): no label a fit learns from covers a judged date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from sparkify.ml.training.dataset import plan_split
from sparkify.runtime.errors import CheckFailed

START = date(2018, 10, 29)


def _days(count: int, start: date = START) -> list[date]:
    return [start + timedelta(days=offset) for offset in range(count)]


@pytest.mark.parametrize(("days", "horizon"), [(29, 7), (40, 7), (60, 14), (23, 7)])
def test_every_fit_date_has_its_horizon_closed_before_the_dates_it_is_judged_on(days: int, horizon: int):
    split = plan_split(_days(days), horizon)
    assert len(split.test) == 7 and len(split.validation) == 7
    assert max(d + timedelta(days=horizon) for d in split.tune_fit) <= min(split.validation)
    assert max(d + timedelta(days=horizon) for d in split.final_fit) <= min(split.test)
    assert max(split.validation) < min(split.test)
    assert set(split.tune_fit) <= set(split.final_fit)
    assert not set(split.final_fit) & set(split.test)


def test_the_test_dates_are_the_latest_and_duplicates_do_not_matter():
    dates = _days(30)
    split = plan_split(dates + dates[:5], 7)
    assert split.test == tuple(dates[-7:])


def test_too_few_dates_fail_with_a_message_that_names_what_is_needed():
    with pytest.raises(CheckFailed, match="too few for a purged split"):
        plan_split(_days(20), 7)
    with pytest.raises(CheckFailed, match="empty"):
        plan_split([], 7)


def test_describe_lists_every_part_as_iso_dates():
    described = plan_split(_days(29), 7).describe()
    assert set(described) == {"tune_fit", "validation", "final_fit", "test"}
    assert described["test"][-1] == (START + timedelta(days=28)).isoformat()
