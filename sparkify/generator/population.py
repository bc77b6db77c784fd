"""Users and their latent churn process.

Every user has a small baseline daily hazard of cancelling. At a random moment (a daily
Bernoulli with the user's onset rate) dissatisfaction sets in and ramps linearly from 0 to 1
over ``ramp_days``; the daily hazard is ``base_hazard + MAX_EXTRA_HAZARD * d**2``. The same
``d`` bends the user's behaviour (see ``chain``) and thins their sessions, so the signal a
point-in-time model can find is real but bounded: the onset itself is invisible until it
starts to show. ``truth.oracle_probability`` computes, from these parameters, the exact
probability of cancelling within a horizon.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from sparkify.generator.catalogue import (
    FIRST_NAMES_F,
    FIRST_NAMES_M,
    LAST_NAMES,
    LOCATIONS,
    UserAgent,
    weighted_index,
)

MAX_EXTRA_HAZARD = 0.12  # extra daily cancel probability at full dissatisfaction
SESSION_THINNING = 0.6  # share of sessions lost at full dissatisfaction
NEW_USER_SHARE = 0.025  # users who register during the window (arrive as guests)
# The population's priors (a lognormal as median and sigma of its log; a uniform as its bounds). The
# observable ceiling (``ceiling``) marginalises over exactly these, so they live here once.
SESSIONS_PER_DAY = (0.20, 0.6)
PAID_ACTIVITY_FACTOR = 1.15
BASE_HAZARD = (0.0006, 0.8)
ONSET_RATE = (0.0031, 0.9)
FREE_ONSET_FACTOR = 1.25
RAMP_DAYS = (6.0, 24.0)
DAY_MS = 86_400_000


@dataclass
class User:
    """A listener: identity, habits, latent churn parameters and the state the simulation carries."""

    index: int
    user_id: str
    gender: str
    first_name: str
    last_name: str
    location: str
    user_agent: str
    registration_ms: int
    registers_in_window: bool
    level: str
    sessions_per_day: float
    base_hazard: float
    onset_rate: float
    ramp_days: float
    first_visit_day: int = 0
    onset_day: int | None = None
    churn_ms: int | None = None
    downgrade_ms: int | None = None
    busy_until_ms: int = 0
    registered: bool = True
    initial_level: str = ""
    details: str = field(default="", repr=False)

    def dissatisfaction(self, day: int) -> float:
        """Latent dissatisfaction on ``day`` (0 before onset, ramping to 1)."""
        if self.onset_day is None or day < self.onset_day:
            return 0.0
        return min(1.0, (day - self.onset_day + 1) / self.ramp_days)

    def daily_hazard(self, day: int) -> float:
        """Probability of cancelling on ``day`` given the latent state."""
        return self.base_hazard + MAX_EXTRA_HAZARD * self.dissatisfaction(day) ** 2


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


def make_user(
    seed: int, index: int, start_ms: int, days: int, agents: list[UserAgent], agent_cumulative: list[float]
) -> User:
    """User ``index`` of the population; depends only on (seed, index), never on other users."""
    rng = random.Random(f"{seed}:user:{index}")
    gender = "M" if rng.random() < 0.54 else "F"
    first = rng.choice(FIRST_NAMES_M if gender == "M" else FIRST_NAMES_F)
    new_user = rng.random() < NEW_USER_SHARE
    if new_user:
        registration_ms = start_ms + int(rng.uniform(0, max(1, days - 10)) * DAY_MS)
    else:
        registration_ms = start_ms - int(rng.uniform(1, 200) * DAY_MS)
    level = "paid" if rng.random() < 0.34 else "free"
    activity = _lognormal(rng, *SESSIONS_PER_DAY) * (PAID_ACTIVITY_FACTOR if level == "paid" else 1.0)
    agent_pick = agents[weighted_index(agent_cumulative, rng)]
    user = User(
        index=index,
        user_id=str(10 + index * 3 + rng.randrange(3)) if index % 2 else str(100_000 + index),
        gender=gender,
        first_name=first,
        last_name=rng.choice(LAST_NAMES),
        location=rng.choice(LOCATIONS),
        user_agent=agent_pick.text,
        registration_ms=registration_ms - registration_ms % 1000,
        registers_in_window=new_user,
        level="free" if new_user else level,
        sessions_per_day=activity,
        base_hazard=_lognormal(rng, *BASE_HAZARD),
        onset_rate=_lognormal(rng, *ONSET_RATE) * (FREE_ONSET_FACTOR if level == "free" else 1.0),
        ramp_days=rng.uniform(*RAMP_DAYS),
        registered=not new_user,
        first_visit_day=rng.randrange(min(7, days)),
    )
    user.initial_level = user.level
    return user
