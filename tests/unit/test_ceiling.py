"""The observable ceiling's filter against brute-force enumeration of every hidden history."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from sparkify.generator.ceiling import DiscretePrior, Priors, RunningTerms, UserHistory, churn_probability
from sparkify.generator.chain import DISSATISFACTION_LEVELS, Chain, level_of


def _tiny_priors() -> Priors:
    return Priors(
        onset_rate=DiscretePrior(np.array([0.05, 0.3]), np.array([0.6, 0.4])),
        ramp_days=DiscretePrior(np.array([1.5, 3.0]), np.array([0.5, 0.5])),
        base_hazard=DiscretePrior(np.array([0.01, 0.08]), np.array([0.7, 0.3])),
        sessions_per_day=DiscretePrior(np.array([0.5, 2.0]), np.array([0.5, 0.5])),
        max_extra_hazard=0.4,
        session_thinning=0.6,
    )


def _brute_force(history: UserHistory, priors: Priors, as_of_day: int, horizon_days: int) -> float:
    """Sum over every hidden parameter and every onset day, one day at a time, with plain floats."""
    end = as_of_day + horizon_days
    evidence = churn_and_evidence = 0.0
    for (rate, w_rate), (ramp, w_ramp), (base, w_base), (activity, w_activity) in itertools.product(
        *(
            zip(prior.values.tolist(), prior.weights.tolist(), strict=True)
            for prior in (priors.onset_rate, priors.ramp_days, priors.base_hazard, priors.sessions_per_day)
        )
    ):
        onsets = [*range(history.first_day, end), None]
        for onset in onsets:
            if onset is None:
                p_onset = (1.0 - rate) ** (end - history.first_day)
            else:
                p_onset = rate * (1.0 - rate) ** (onset - history.first_day)
            weight = w_rate * w_ramp * w_base * w_activity * p_onset
            survive_horizon = 1.0
            for day in range(history.first_day, end):
                d = 0.0 if onset is None or day < onset else min(1.0, (day - onset + 1) / ramp)
                hazard = base + priors.max_extra_hazard * d * d
                if day < as_of_day:
                    i = day - history.first_day
                    mean = activity * history.weekday_factor[i] * (1.0 - priors.session_thinning * d)
                    n = int(history.sessions[i])
                    poisson = math.exp(-mean) * mean**n / math.factorial(n)
                    weight *= (1.0 - hazard) * poisson * math.exp(history.log_likelihood[i][level_of(d)])
                else:
                    survive_horizon *= 1.0 - hazard
            evidence += weight
            churn_and_evidence += weight * (1.0 - survive_horizon)
    return churn_and_evidence / evidence


def _history(first_day: int, days: int, seed: int) -> UserHistory:
    rng = np.random.default_rng(seed)
    sessions = rng.poisson(1.0, days).astype(float)
    log_likelihood = rng.normal(-3.0, 1.5, (days, DISSATISFACTION_LEVELS)) * sessions[:, None]
    weekday = np.where(rng.random(days) < 0.3, 0.8, 1.0)
    return UserHistory(first_day, sessions, log_likelihood, weekday)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    ("first_day", "as_of_day", "horizon_days"), [(0, 4, 3), (2, 7, 2), (0, 0, 3), (1, 6, 1)]
)
def test_the_filter_equals_brute_force_enumeration(seed, first_day, as_of_day, horizon_days):
    history = _history(first_day, 8, seed)
    priors = _tiny_priors()
    expected = _brute_force(history, priors, as_of_day, horizon_days)
    assert churn_probability(history, priors, as_of_day, horizon_days) == pytest.approx(expected, rel=1e-9)
    # The running terms of the whole history serve any as-of date: the same answer from a slice.
    terms = RunningTerms.of(history, priors)
    assert churn_probability(history, priors, as_of_day, horizon_days, terms) == pytest.approx(
        expected, rel=1e-9
    )


def test_an_as_of_date_past_the_history_is_refused():
    history = _history(0, 4, 1)
    with pytest.raises(ValueError, match="covers 4 days"):
        churn_probability(history, _tiny_priors(), 5, 2)


def test_evidence_of_dissatisfaction_raises_the_probability():
    priors = Priors.of_population("free")
    calm = UserHistory(0, np.ones(30), np.tile([-10.0, -11.0, -12.0, -13.0, -14.0], (30, 1)), np.ones(30))
    unhappy_late = calm.log_likelihood.copy()
    unhappy_late[-8:] = [-14.0, -13.0, -12.0, -11.0, -10.0]
    unhappy = UserHistory(0, np.ones(30), unhappy_late, np.ones(30))
    assert churn_probability(unhappy, priors, 30, 14) > 2 * churn_probability(calm, priors, 30, 14)


def test_the_chain_records_a_probability_distribution_per_state_and_level():
    chain = Chain()
    for destinations in chain.log_probabilities:
        if not destinations:
            continue
        for level in range(DISSATISFACTION_LEVELS):
            total = sum(math.exp(values[level]) for values in destinations.values())
            assert total == pytest.approx(1.0, abs=1e-9)
