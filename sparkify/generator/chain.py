"""eventsim's page-transition chain, bent by how dissatisfied a user is.

The chain is eventsim's own table (auth x level x page). Two changes make it a churn simulator
with ground truth: ``Cancel`` is removed from the chain, because cancelling is decided by the
user's latent hazard (see ``population``), and destination probabilities are multiplied by
factors that grow with the user's dissatisfaction ``d`` in [0, 1]: more Thumbs Down, adverts,
errors, help, downgrade visits and early session ends; fewer Thumbs Up, playlist adds and
friends. Tables are precomputed for a few levels of ``d`` so the inner loop is one bisect.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass

from sparkify.generator.catalogue import load_transitions, weighted_index

DISSATISFACTION_LEVELS = 5  # d quantised to 0, 0.25, 0.5, 0.75, 1
END = -1

# Multiplier at d = 1 for each destination page (linear in d); "END" is the session-end mass.
DISSATISFACTION_EFFECT: dict[str, float] = {
    "Thumbs Down": 3.0,
    "Thumbs Up": -0.6,
    "Roll Advert": 2.0,
    "Help": 3.0,
    "Error": 2.0,
    "Downgrade": 2.5,
    "Logout": 1.5,
    "Add to Playlist": -0.5,
    "Add Friend": -0.5,
    "END": 2.5,
}
# Calibration against the real mini log's page shares (see docs/generator.md): eventsim's table
# over-produces a few pages relative to the published Sparkify figures.
BASE_ADJUSTMENT: dict[str, float] = {"Roll Advert": 1.3, "Thumbs Up": 1.1}


@dataclass(frozen=True)
class State:
    """One node of the chain and its pre-rendered JSON fragment."""

    page: str
    auth: str
    level: str
    method: str
    status: int
    fragment: str  # '"page":"…","auth":"…","method":"…","status":…'

    @property
    def logged_in(self) -> bool:
        return self.auth == "Logged In"


class Chain:
    """Transition tables indexed by state and dissatisfaction level."""

    def __init__(self) -> None:
        table = load_transitions()
        self.session_gap_seconds: int = table["session_gap_seconds"]
        self.states: list[State] = []
        self._index: dict[tuple[str, str, str], int] = {}
        raw: dict[int, list[tuple[int, float]]] = {}
        for key, dests in table["transitions"].items():
            auth, level, page = key.split("|")
            source = self._state(page, auth, level, None, None)
            raw[source] = []
            for d_page, d_auth, d_level, d_method, d_status, prob in dests:
                if d_page in ("Cancel", "Cancellation Confirmation"):
                    continue
                raw[source].append((self._state(d_page, d_auth, d_level, d_method, d_status), float(prob)))
        self.starts: dict[tuple[str, str], tuple[list[float], list[int]]] = {}
        for page, auth, level, method, status, weight in table["new_session"]:
            idx = self._state(page, auth, level, method, status)
            cumulative, targets = self.starts.setdefault((auth, level), ([], []))
            cumulative.append((cumulative[-1] if cumulative else 0.0) + weight)
            targets.append(idx)
        self.cancel = {lvl: self._state("Cancel", "Logged In", lvl, "PUT", 307) for lvl in ("free", "paid")}
        self.confirm = {
            lvl: self._state("Cancellation Confirmation", "Cancelled", lvl, "GET", 200)
            for lvl in ("free", "paid")
        }
        self.login = {lvl: self._state("Login", "Logged Out", lvl, "PUT", 307) for lvl in ("free", "paid")}
        self.guest_signup = [
            self._state("Home", "Guest", "free", "GET", 200),
            self._state("Register", "Guest", "free", "GET", 200),
            self._state("Submit Registration", "Guest", "free", "PUT", 307),
        ]
        self.home_logged_in = {
            lvl: self._state("Home", "Logged In", lvl, "GET", 200) for lvl in ("free", "paid")
        }
        self.tables = [
            [self._table(raw.get(i, []), level) for level in range(DISSATISFACTION_LEVELS)]
            for i in range(len(self.states))
        ]
        self.log_probabilities = [self._log_probabilities(levels) for levels in self.tables]

    def _state(self, page: str, auth: str, level: str, method: str | None, status: int | None) -> int:
        key = (page, auth, level)
        if key in self._index:
            idx = self._index[key]
            existing = self.states[idx]
            if method is not None and existing.method == "":
                self.states[idx] = _make_state(page, auth, level, method, int(status or 200))
            return idx
        self._index[key] = len(self.states)
        self.states.append(_make_state(page, auth, level, method or "", int(status or 200)))
        return self._index[key]

    def _table(self, dests: list[tuple[int, float]], level: int) -> tuple[list[float], list[int]]:
        d = level / (DISSATISFACTION_LEVELS - 1)
        weights: list[float] = []
        targets: list[int] = []
        for target, prob in dests:
            page = self.states[target].page
            factor = (1.0 + DISSATISFACTION_EFFECT.get(page, 0.0) * d) * BASE_ADJUSTMENT.get(page, 1.0)
            weights.append(prob * max(factor, 0.0))
            targets.append(target)
        end_mass = max(0.0, 1.0 - sum(p for _, p in dests)) * (1.0 + DISSATISFACTION_EFFECT["END"] * d)
        weights.append(end_mass)
        targets.append(END)
        total = sum(weights) or 1.0
        cumulative: list[float] = []
        running = 0.0
        for weight in weights:
            running += weight / total
            cumulative.append(running)
        return cumulative, targets

    @staticmethod
    def _log_probabilities(
        levels: list[tuple[list[float], list[int]]],
    ) -> dict[int, tuple[float, ...]]:
        """For each destination (``END`` included), its log probability at every dissatisfaction level.

        The observable ceiling (``ceiling``) needs how likely a day's transitions were at each level;
        the generator adds these up while it walks the chain, so the filter never re-reads the log.
        """
        per_level: list[dict[int, float]] = []
        for cumulative, targets in levels:
            probability: dict[int, float] = {}
            previous = 0.0
            for bound, target in zip(cumulative, targets, strict=True):
                probability[target] = probability.get(target, 0.0) + bound - previous
                previous = bound
            per_level.append(probability)
        destinations = set().union(*per_level)
        return {
            target: tuple(math.log(max(level.get(target, 0.0), 1e-300)) for level in per_level)
            for target in destinations
        }

    def start(self, auth: str, level: str, rng: random.Random) -> int:
        """First page of a new session."""
        cumulative, targets = self.starts[(auth, level)]
        return targets[weighted_index(cumulative, rng)]

    def next(self, state: int, dissatisfaction: float, rng: random.Random) -> int:
        """Next state, or ``END`` when the session ends."""
        cumulative, targets = self.tables[state][level_of(dissatisfaction)]
        pos = bisect.bisect_right(cumulative, rng.random())
        return targets[min(pos, len(targets) - 1)]


def level_of(dissatisfaction: float) -> int:
    """The table a dissatisfaction ``d`` in [0, 1] walks: ``d`` rounded to the nearest of the levels."""
    return min(DISSATISFACTION_LEVELS - 1, int(dissatisfaction * (DISSATISFACTION_LEVELS - 1) + 0.5))


def _make_state(page: str, auth: str, level: str, method: str, status: int) -> State:
    fragment = f'"page":"{page}","auth":"{auth}","method":"{method}","status":{status}'
    return State(page, auth, level, method, status, fragment)
