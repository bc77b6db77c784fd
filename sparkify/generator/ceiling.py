"""The observable ceiling: the Bayes probability of churn given only what the log shows.

The latent oracle (``truth.oracle_probability``) knows each user's onset day, ramp and hazard, which
the log shows only through behaviour, so no model can reach it. This module computes what a model
could reach at best: for a user alive at the as-of date, the posterior probability of cancelling
within the horizon given the user's sessions and page transitions on every day before it, under the
generator's own emission model and population priors:

- hidden per user: onset rate, ramp length, base hazard and activity (each a discrete prior from
  quadrature over the population's distribution), and the onset day (a daily Bernoulli before onset);
- per day ``t`` before the as-of date: no cancellation (probability ``1 - hazard``), the session count
  (Poisson with the user's activity, the weekday factor and the thinning of dissatisfaction) and the
  page transitions (their log likelihood at each dissatisfaction level, which the generator records
  in ``emissions.csv`` as it walks the chain);
- the horizon: the exact survival over its days for every hidden state, future onsets included.

Known approximations, each small: the guaranteed first visit and the sign-up session are treated as
ordinary Poisson sessions; the few sessions a busy user skips are not modelled; a user who registers
in the window gets the prior of their observed (free) level. The result is therefore very close to,
not exactly, the best possible score; ``tests/unit/test_ceiling.py`` checks the filter against brute
force enumeration on a population small enough to enumerate.
"""

from __future__ import annotations

import csv
import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from sparkify.generator.chain import DISSATISFACTION_LEVELS
from sparkify.generator.population import (
    BASE_HAZARD,
    DAY_MS,
    FREE_ONSET_FACTOR,
    MAX_EXTRA_HAZARD,
    ONSET_RATE,
    PAID_ACTIVITY_FACTOR,
    RAMP_DAYS,
    SESSION_THINNING,
    SESSIONS_PER_DAY,
)
from sparkify.generator.simulate import WEEKEND_FACTOR
from sparkify.generator.truth import EMISSION_COLUMNS, GroundTruth


@dataclass(frozen=True)
class DiscretePrior:
    """A prior as a few values and their probabilities (summing to 1)."""

    values: np.ndarray
    weights: np.ndarray

    @classmethod
    def lognormal(cls, median: float, sigma: float, points: int) -> DiscretePrior:
        """Gauss-Hermite nodes of ``median * exp(sigma * Z)``, Z standard normal."""
        nodes, weights = np.polynomial.hermite_e.hermegauss(points)
        return cls(median * np.exp(sigma * nodes), weights / weights.sum())

    @classmethod
    def uniform(cls, low: float, high: float, points: int) -> DiscretePrior:
        """Midpoints of ``points`` equal bins of ``[low, high]``."""
        width = (high - low) / points
        return cls(low + width * (np.arange(points) + 0.5), np.full(points, 1.0 / points))


@dataclass(frozen=True)
class Priors:
    """The population's priors over one user's hidden parameters, and the process constants."""

    onset_rate: DiscretePrior
    ramp_days: DiscretePrior
    base_hazard: DiscretePrior
    sessions_per_day: DiscretePrior
    max_extra_hazard: float = MAX_EXTRA_HAZARD
    session_thinning: float = SESSION_THINNING

    @classmethod
    @functools.cache
    def of_population(cls, initial_level: str) -> Priors:
        """The generator's priors for a user first seen at ``initial_level`` (free users start
        dissatisfaction more often; paid users listen more)."""
        onset_median, onset_sigma = ONSET_RATE
        activity_median, activity_sigma = SESSIONS_PER_DAY
        free = initial_level == "free"
        return cls(
            onset_rate=DiscretePrior.lognormal(
                onset_median * (FREE_ONSET_FACTOR if free else 1.0), onset_sigma, 5
            ),
            ramp_days=DiscretePrior.uniform(*RAMP_DAYS, 6),
            base_hazard=DiscretePrior.lognormal(*BASE_HAZARD, 3),
            sessions_per_day=DiscretePrior.lognormal(
                activity_median * (1.0 if free else PAID_ACTIVITY_FACTOR), activity_sigma, 7
            ),
        )


@dataclass(frozen=True)
class UserHistory:
    """What the log shows of one user, day by day from the first day they could act (day ``first_day``)."""

    first_day: int
    sessions: np.ndarray  # per day: sessions started
    log_likelihood: np.ndarray  # per day and dissatisfaction level: log P(the day's transitions)
    weekday_factor: np.ndarray  # per day: the calendar's factor on the session rate


def _level(dissatisfaction: np.ndarray) -> np.ndarray:
    return np.minimum(
        DISSATISFACTION_LEVELS - 1, (dissatisfaction * (DISSATISFACTION_LEVELS - 1) + 0.5).astype(int)
    )


def _ramp(days: np.ndarray, onsets: np.ndarray, ramps: np.ndarray) -> np.ndarray:
    """Dissatisfaction on each of ``days`` for each (onset, ramp): shape (onsets, ramps, days)."""
    since = days[None, None, :] - onsets[:, None, None] + 1.0
    return np.clip(since / ramps[None, :, None], 0.0, 1.0)


def _horizon_survival(
    dissatisfaction: np.ndarray, base_hazard: np.ndarray, max_extra_hazard: float
) -> np.ndarray:
    """Probability of surviving every day of ``dissatisfaction`` (last axis), per base hazard (new last axis)."""
    hazard = base_hazard + max_extra_hazard * dissatisfaction[..., None] ** 2
    return np.exp(np.log1p(-hazard).sum(axis=-2))


def _logsumexp(values: np.ndarray, axis: int) -> np.ndarray:
    peak = values.max(axis=axis, keepdims=True)
    return np.log(np.exp(values - peak).sum(axis=axis)) + np.squeeze(peak, axis=axis)


@dataclass(frozen=True)
class RunningTerms:
    """For one user and every (onset day, ramp), the log likelihood terms summed over the days before
    each possible as-of date (index ``k``: the first ``k`` observed days), so that every as-of date of
    the user is a slice instead of a new pass over the days."""

    chain: np.ndarray  # (onset, ramp, k): transitions at the level each day's dissatisfaction implies
    thinning: np.ndarray  # (onset, ramp, k): sum of n_t * log(1 - thinning * d_t)
    rate: np.ndarray  # (onset, ramp, k): sum of weekday_t * (1 - thinning * d_t)
    survival: np.ndarray  # (onset, ramp, hazard, k): sum of log(1 - hazard_t)

    @classmethod
    def of(cls, history: UserHistory, priors: Priors) -> RunningTerms:
        count = len(history.sessions)
        days = np.arange(history.first_day, history.first_day + count, dtype=float)
        d = _ramp(days, days, priors.ramp_days.values)  # (onset, ramp, day)
        chain = np.take_along_axis(history.log_likelihood[None, None], _level(d)[..., None], axis=-1)[..., 0]
        thinned = 1.0 - priors.session_thinning * d
        hazard = priors.base_hazard.values + priors.max_extra_hazard * d[..., None] ** 2  # (o, r, day, h)

        def running(per_day: np.ndarray) -> np.ndarray:
            zero = np.zeros((*per_day.shape[:-1], 1))
            return np.concatenate([zero, np.cumsum(per_day, axis=-1)], axis=-1)

        return cls(
            chain=running(chain),
            thinning=running(history.sessions * np.log(thinned)),
            rate=running(history.weekday_factor * thinned),
            survival=running(np.moveaxis(np.log1p(-hazard), 2, 3)),
        )


def churn_probability(
    history: UserHistory,
    priors: Priors,
    as_of_day: int,
    horizon_days: int,
    terms: RunningTerms | None = None,
) -> float:
    """P(cancel on a day in ``[as_of_day, as_of_day + horizon_days)`` | the log before ``as_of_day``).

    Two branches of the onset day: on an observed day (then the hidden state that matters for the
    horizon is onset day, ramp and base hazard) or not yet (ramp, base hazard, onset rate). Activity,
    and in the first branch the onset rate, do not change the horizon's probability, so they are
    summed out first (exactly, in log space); everything is normalised once at the end. ``terms``
    (from ``RunningTerms.of`` on the same history) saves the per-day pass when a user has many dates.
    """
    observed = max(0, as_of_day - history.first_day)
    if observed > len(history.sessions):
        raise ValueError(
            f"the history covers {len(history.sessions)} days, not the {observed} before the as-of"
        )
    terms = terms or RunningTerms.of(history, priors)
    days = np.arange(history.first_day, history.first_day + observed, dtype=float)
    ramps, hazards = priors.ramp_days.values, priors.base_hazard.values
    activity, onset_rates = priors.sessions_per_day.values, priors.onset_rate.values
    log_activity_weight = np.log(priors.sessions_per_day.weights)
    log_rate_weight = np.log(priors.onset_rate.weights)
    log_ramp_weight = np.log(priors.ramp_days.weights)
    log_hazard_weight = np.log(priors.base_hazard.weights)
    total_sessions = history.sessions[:observed].sum()
    future = np.arange(as_of_day, as_of_day + horizon_days, dtype=float)

    # Onset on an observed day: dissatisfaction ramps over the rest of the observed days.
    chain_ll = terms.chain[:observed, :, observed]  # (onset, ramp)
    rate_sum = terms.rate[:observed, :, observed]
    # Session counts, activity summed out; log n! and n log(weekday) are the same in every state.
    count_ll = terms.thinning[:observed, :, observed] + _logsumexp(
        total_sessions * np.log(activity) - rate_sum[..., None] * activity + log_activity_weight, axis=-1
    )  # (onset, ramp)
    survival_ll = terms.survival[:observed, :, :, observed]  # (onset, ramp, hazard)
    onset_ll = _logsumexp(
        np.log(onset_rates) + np.log1p(-onset_rates) * (days - history.first_day)[:, None] + log_rate_weight,
        axis=-1,
    )  # (onset,): the first onset on that day, onset rate summed out
    started = (
        (chain_ll + count_ll + onset_ll[:, None] + log_ramp_weight)[:, :, None]
        + survival_ll
        + log_hazard_weight
    )  # (onset, ramp, hazard)
    started_churn = 1.0 - _horizon_survival(_ramp(future, days, ramps), hazards, priors.max_extra_hazard)

    # Onset not yet: no dissatisfaction on observed days; it may start on any day of the horizon.
    quiet_ll = (
        history.log_likelihood[:observed, 0].sum()
        + _logsumexp(
            total_sessions * np.log(activity)
            - history.weekday_factor[:observed].sum() * activity
            + log_activity_weight,
            axis=-1,
        )
        + observed * np.log1p(-hazards)
        + log_hazard_weight
    )  # (hazard,)
    not_yet_ll = observed * np.log1p(-onset_rates) + log_rate_weight  # (onset rate,)
    quiet = log_ramp_weight[:, None, None] + quiet_ll[None, :, None] + not_yet_ll  # (ramp, hazard, rate)
    later = _horizon_survival(_ramp(future, future, ramps), hazards, priors.max_extra_hazard)  # (o, r, h)
    offsets = np.arange(horizon_days)
    first_onset = onset_rates * (1.0 - onset_rates) ** offsets[:, None]  # (offset, onset rate)
    never = (1.0 - onset_rates) ** horizon_days
    quiet_churn = 1.0 - (
        np.einsum("orh,ol->rhl", later, first_onset)
        + never[None, None, :] * ((1.0 - hazards) ** horizon_days)[None, :, None]
    )  # (ramp, hazard, onset rate)

    log_weights = np.concatenate([started.ravel(), quiet.ravel()])
    churn = np.concatenate([started_churn.ravel(), quiet_churn.ravel()])
    weights = np.exp(log_weights - log_weights.max())
    return float(np.dot(weights, churn) / weights.sum())


class ObservableCeiling:
    """The observable ceiling of a generated log, in the shape of an oracle (see ``ml`` baselines).

    Built from the ground truth beside the log: per user the first day they could act and their
    observed level, and the per-day emissions the generator recorded. A user's history and running
    terms are built once, through the log's last day, and serve every as-of date asked for in a row.
    Only the last user's are kept: the survival terms alone are days x ramps x hazards x (days + 1)
    doubles, about 5 MB for a user registered 200 days before the log ends, so keeping every user's
    took the full-scale training to 18.8 GB and the kernel killed it. Ask for a user's dates together
    (``oracle_scores`` does), or each change of user rebuilds the terms.
    """

    def __init__(self, truth: GroundTruth, emissions: dict[str, list[tuple[int, int, tuple[float, ...]]]]):
        self._truth = truth
        self._emissions = emissions
        self._current: tuple[str, UserHistory, RunningTerms] | None = None
        start_ms = _epoch_ms(truth.population_start)
        self._first_day = {
            user_id: max(0, (user.registration_ms - start_ms) // DAY_MS)
            for user_id, user in truth.users.items()
        }
        self._end_day = 1 + max((rows[-1][0] for rows in emissions.values() if rows), default=0)

    def knows(self, user_id: str) -> bool:
        """True when the user is one this population generated."""
        return self._truth.knows(user_id)

    def oracle_probability(self, user_id: str, as_of: date, horizon_days: int) -> float:
        """The Bayes probability of cancelling within the horizon, given the log before ``as_of``."""
        as_of_day = (as_of - self._truth.population_start).days
        priors = Priors.of_population(self._truth.users[user_id].initial_level)
        current = self._current
        if (
            current is None
            or current[0] != user_id
            or current[1].first_day + len(current[1].sessions) < as_of_day
        ):
            history = self._history(user_id, max(as_of_day, self._end_day))
            current = (user_id, history, RunningTerms.of(history, priors))
            self._current = current
        _, history, terms = current
        return churn_probability(history, priors, as_of_day, horizon_days, terms)

    def _history(self, user_id: str, through_day: int) -> UserHistory:
        first_day = int(self._first_day[user_id])
        days = max(through_day - first_day, 0)
        sessions = np.zeros(days)
        log_likelihood = np.zeros((days, DISSATISFACTION_LEVELS))
        for day, count, levels in self._emissions.get(user_id, []):
            if first_day <= day < first_day + days:
                sessions[day - first_day] = count
                log_likelihood[day - first_day] = levels
        start = self._truth.population_start
        weekday = np.array(
            [
                WEEKEND_FACTOR if (start + timedelta(days=first_day + i)).weekday() >= 5 else 1.0
                for i in range(days)
            ]
        )
        return UserHistory(first_day, sessions, log_likelihood, weekday)


def load_observable_ceiling(landing: Path, truth: GroundTruth) -> ObservableCeiling | None:
    """The ceiling of the generated log in ``landing``, or None when its ground truth has no emissions
    (a log generated before the generator recorded them)."""
    path = landing / "_ground_truth" / "emissions.csv"
    if not path.exists():
        return None
    emissions: dict[str, list[tuple[int, int, tuple[float, ...]]]] = defaultdict(list)
    with open(path) as handle:
        reader = csv.reader(handle)
        if tuple(next(reader)) != EMISSION_COLUMNS:
            return None
        for user_id, day, sessions, *levels in reader:
            emissions[user_id].append((int(day), int(sessions), tuple(float(v) for v in levels)))
    for rows in emissions.values():
        rows.sort()
    return ObservableCeiling(truth, dict(emissions))


def _epoch_ms(day: date) -> int:
    return (day - date(1970, 1, 1)).days * DAY_MS
