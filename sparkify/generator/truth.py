"""Ground truth beside a generated log, and the oracle a churn model is compared against.

``_ground_truth/users.csv``: one row per user with the latent parameters and what happened
(churn and first downgrade time). ``_ground_truth/propensity.csv``: per user and written day, the
latent dissatisfaction and daily cancel hazard. ``_ground_truth/emissions.csv``: per user and day
with sessions, how many and the log likelihood of that day's page transitions at each dissatisfaction
level (what the observable ceiling filters, see ``ceiling``). ``_ground_truth/model.json``: the
constants of the process. From these, ``oracle_probability`` gives the exact probability that a user who has
not cancelled before ``as_of`` cancels in ``[as_of, as_of + horizon)``, knowing the latent state
at ``as_of`` (a perfect point-in-time model could do no better).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sparkify.generator.chain import DISSATISFACTION_LEVELS

USER_COLUMNS = (
    "user_id",
    "registration_ms",
    "registers_in_window",
    "gender",
    "sessions_per_day",
    "base_hazard",
    "onset_rate",
    "ramp_days",
    "onset_day",
    "churn_ms",
    "downgrade_ms",
    "initial_level",
)
PROPENSITY_COLUMNS = ("user_id", "day", "dissatisfaction", "daily_hazard")
EMISSION_COLUMNS = (
    "user_id",
    "day",
    "sessions",
    *(f"log_likelihood_{level}" for level in range(DISSATISFACTION_LEVELS)),
)


@dataclass(frozen=True)
class UserTruth:
    """Latent parameters and outcomes of one user."""

    user_id: str
    registration_ms: int
    base_hazard: float
    onset_rate: float
    ramp_days: float
    onset_day: int | None
    churn_ms: int | None
    downgrade_ms: int | None
    initial_level: str = "free"


@dataclass(frozen=True)
class GroundTruth:
    """The ground truth of one generated log."""

    population_start: date
    max_extra_hazard: float
    users: dict[str, UserTruth]

    def knows(self, user_id: str) -> bool:
        """True when the user is one this population generated."""
        return user_id in self.users

    def oracle_probability(self, user_id: str, as_of: date, horizon_days: int) -> float:
        """P(cancel within ``[as_of, as_of + horizon)`` | alive at ``as_of``, latent state at ``as_of``)."""
        user = self.users[user_id]
        first_day = (as_of - self.population_start).days
        onset_known = user.onset_day is not None and user.onset_day < first_day

        def hazard(day: int, onset: int | None) -> float:
            d = 0.0 if onset is None or day < onset else min(1.0, (day - onset + 1) / user.ramp_days)
            return user.base_hazard + self.max_extra_hazard * d * d

        days = range(first_day, first_day + horizon_days)
        if onset_known:
            survive = 1.0
            for day in days:
                survive *= 1.0 - hazard(day, user.onset_day)
            return 1.0 - survive
        # Onset not yet happened: average over the day it first happens (or never in the horizon).
        survive_total = 0.0
        p_no_onset_yet = 1.0
        for onset in [*days, None]:
            if onset is None:
                weight = p_no_onset_yet
            else:
                weight = p_no_onset_yet * user.onset_rate
                p_no_onset_yet *= 1.0 - user.onset_rate
            survive = 1.0
            for day in days:
                survive *= 1.0 - hazard(day, onset)
            survive_total += weight * survive
        return 1.0 - survive_total


def write_ground_truth(
    out: Path,
    population_start: date,
    max_extra_hazard: float,
    users: list[str],
    propensity: list[str],
    emissions: list[str],
) -> None:
    """Write users.csv, propensity.csv, emissions.csv and model.json under ``out/_ground_truth``."""
    folder = out / "_ground_truth"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "users.csv", "w") as handle:
        handle.write(",".join(USER_COLUMNS) + "\n")
        handle.writelines(sorted(users, key=lambda row: int(row.split(",", 1)[0])))
    with open(folder / "propensity.csv", "w") as handle:
        handle.write(",".join(PROPENSITY_COLUMNS) + "\n")
        handle.writelines(
            sorted(propensity, key=lambda row: (int(row.split(",", 2)[1]), int(row.split(",", 1)[0])))
        )
    with open(folder / "emissions.csv", "w") as handle:
        handle.write(",".join(EMISSION_COLUMNS) + "\n")
        handle.writelines(
            sorted(emissions, key=lambda row: (int(row.split(",", 1)[0]), int(row.split(",", 2)[1])))
        )
    model = {
        "population_start": population_start.isoformat(),
        "max_extra_hazard": max_extra_hazard,
        "hazard": "base_hazard + max_extra_hazard * d**2, d = min(1, (day - onset_day + 1) / ramp_days) after onset",
        "onset": "each alive day before onset, onset happens with probability onset_rate",
        "day": "days since population_start (UTC); churn_ms and downgrade_ms are epoch milliseconds",
    }
    (folder / "model.json").write_text(json.dumps(model, indent=2) + "\n")


def load_ground_truth(out: Path) -> GroundTruth:
    """Read the ground truth written by ``write_ground_truth``."""
    folder = out / "_ground_truth"
    model = json.loads((folder / "model.json").read_text())

    def opt_int(text: str) -> int | None:
        return int(text) if text else None

    users: dict[str, UserTruth] = {}
    with open(folder / "users.csv") as handle:
        for row in csv.DictReader(handle):
            users[row["user_id"]] = UserTruth(
                user_id=row["user_id"],
                registration_ms=int(row["registration_ms"]),
                base_hazard=float(row["base_hazard"]),
                onset_rate=float(row["onset_rate"]),
                ramp_days=float(row["ramp_days"]),
                onset_day=opt_int(row["onset_day"]),
                churn_ms=opt_int(row["churn_ms"]),
                downgrade_ms=opt_int(row["downgrade_ms"]),
                initial_level=row.get("initial_level") or "free",
            )
    start = date.fromisoformat(model["population_start"])
    return GroundTruth(start, float(model["max_extra_hazard"]), users)


def ground_truth_if_any(landing: Path) -> GroundTruth | None:
    """The ground truth of a generated log in ``landing``, or None for a real log (it has none)."""
    if not (landing / "_ground_truth" / "users.csv").exists():
        return None
    return load_ground_truth(landing)
