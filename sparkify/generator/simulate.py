"""Simulate one shard of users day by day and write sorted per-day part files.

Every user draws from a random stream of its own (seeded by the log's seed and the user's
index), so the log does not depend on how users are sharded over worker processes. Lines are
rendered only for days that are written; skipped days (``--start`` later than the population's
first day) are simulated identically but not rendered, so a later slice continues the same users.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sparkify.generator.catalogue import build_catalogue, load_user_agents, weighted_index
from sparkify.generator.chain import DISSATISFACTION_LEVELS, END, Chain
from sparkify.generator.population import DAY_MS, SESSION_THINNING, User, make_user

# Share of sessions starting in each UTC hour (evening peak, night trough).
HOURLY_WEIGHTS = (
    2,
    1.5,
    1,
    1,
    1,
    1.5,
    2.5,
    3.5,
    4.5,
    5,
    5.5,
    6,
    6.5,
    6.5,
    6,
    6,
    6.5,
    7,
    8,
    8.5,
    8,
    6.5,
    4.5,
    3,
)
WEEKEND_FACTOR = 0.8
NON_SONG_GAP_MEAN_S = 165.0
MIN_SESSION_GAP_MS = 30 * 60 * 1000
MAX_EVENTS_PER_SESSION = 600
NULL_DETAILS = (
    '"location":null,"userAgent":null,"lastName":null,"firstName":null,"registration":null,"gender":null'
)
NULL_SONG = '"artist":null,"song":null,"length":null'


@dataclass(frozen=True)
class ShardJob:
    """What one worker simulates: users ``indices`` of the population over ``[first_day, last_day)``."""

    seed: int
    users: int
    indices: tuple[int, ...]
    population_start: date
    population_days: int
    write_from: date
    write_until: date
    songs: int
    artists: int
    parts_dir: str
    shard: int


def epoch_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    limit, k, product = math.exp(-lam), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _user_details(user: User) -> str:
    return (
        f'"location":{json.dumps(user.location)},"userAgent":{json.dumps(user.user_agent)},'
        f'"lastName":{json.dumps(user.last_name)},"firstName":{json.dumps(user.first_name)},'
        f'"registration":{user.registration_ms},"gender":"{user.gender}"'
    )


class ShardSimulator:
    """State of one shard: its users, their random streams, the day buffers."""

    def __init__(self, job: ShardJob) -> None:
        self.job = job
        self.chain = Chain()
        self.catalogue = build_catalogue(job.seed, job.songs, job.artists)
        agents = load_user_agents()
        agent_cumulative = list(itertools.accumulate(a.weight for a in agents))
        self.start_ms = epoch_ms(job.population_start)
        self.end_ms = epoch_ms(job.write_until)  # the log ends here, as an export does
        self.users = [
            make_user(job.seed, i, self.start_ms, job.population_days, agents, agent_cumulative)
            for i in job.indices
        ]
        self.streams = {u.index: random.Random(f"{job.seed}:events:{u.index}") for u in self.users}
        for user in self.users:
            user.details = _user_details(user)
        self.hour_cumulative = list(itertools.accumulate(HOURLY_WEIGHTS))
        self.session_scale = max(1, job.users // 4)
        self.buffers: dict[int, list[str]] = {}
        self.propensity_rows: list[str] = []
        self.emission_rows: list[str] = []

    def run(self, progress: Callable[[], None] | None = None) -> None:
        """Simulate every day up to ``write_until`` and flush each written day to its part file."""
        job = self.job
        days = (job.write_until - job.population_start).days
        first_written = (job.write_from - job.population_start).days
        parts = Path(job.parts_dir)
        for day in range(days):
            writing = day >= first_written
            for user in self.users:
                self._simulate_day(user, day, writing)
            if writing:
                self._flush(parts, day)
            if progress is not None:
                progress()

    def _flush(self, parts: Path, day: int) -> None:
        lines = self.buffers.pop(day, [])
        name = (self.job.population_start + timedelta(days=day)).isoformat()
        path = parts / f"{name}.{self.job.shard:03d}"
        lines.sort()
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.writelines(lines)

    def _simulate_day(self, user: User, day: int, writing: bool) -> None:
        rng = self.streams[user.index]
        day_start = self.start_ms + day * DAY_MS
        day_end = day_start + DAY_MS
        if user.churn_ms is not None or user.registration_ms >= day_end:
            return
        signup_today = not user.registered
        if user.onset_day is None and rng.random() < user.onset_rate:
            user.onset_day = day
        d = user.dissatisfaction(day)
        hazard = user.daily_hazard(day)
        self.propensity_rows.append(f"{user.user_id},{day},{d:.4f},{hazard:.6f}\n")
        cancels_today = rng.random() < hazard
        weekday = datetime.fromtimestamp(day_start / 1000, tz=UTC).weekday()
        rate = (
            user.sessions_per_day * (WEEKEND_FACTOR if weekday >= 5 else 1.0) * (1.0 - SESSION_THINNING * d)
        )
        count = _poisson(rng, rate)
        # Every user in the log was seen at least once: a guaranteed visit early in the window.
        guaranteed_visit = user.registered and day == user.first_visit_day
        if signup_today or cancels_today or guaranteed_visit:
            count = max(count, 1)
        starts = sorted(
            day_start + weighted_index(self.hour_cumulative, rng) * 3_600_000 + rng.randrange(3_600_000)
            for _ in range(count)
        )
        if signup_today:
            starts[0] = user.registration_ms - 180_000
        sessions = 0
        day_log_likelihood = [0.0] * DISSATISFACTION_LEVELS
        for position, start in enumerate(starts):
            start = max(start, user.busy_until_ms + MIN_SESSION_GAP_MS, day_start)
            last = position == len(starts) - 1
            if start >= day_end and not (cancels_today and last):
                continue  # still busy with earlier sessions: today's later ones do not happen
            sessions += 1
            self._session(
                user,
                rng,
                day,
                start,
                d,
                writing,
                signup=signup_today and position == 0,
                cancel=cancels_today and last,
                logged_in=guaranteed_visit and position == 0,
                log_likelihood=day_log_likelihood,
            )
            if user.churn_ms is not None:
                break
        if sessions:
            levels = ",".join(f"{value:.6f}" for value in day_log_likelihood)
            self.emission_rows.append(f"{user.user_id},{day},{sessions},{levels}\n")

    def _session(
        self,
        user: User,
        rng: random.Random,
        day: int,
        ts: int,
        d: float,
        writing: bool,
        *,
        signup: bool,
        cancel: bool,
        logged_in: bool,
        log_likelihood: list[float],
    ) -> None:
        """Walk the chain for one session; add each transition's log probability per level to ``log_likelihood``."""
        chain = self.chain
        states = chain.states
        log_probabilities = chain.log_probabilities
        session_id = int((ts - self.start_ms) / DAY_MS * self.session_scale) + rng.randrange(
            1, self.session_scale + 1
        )
        emitted: list[tuple[int, int, int]] = []  # (ts, state, song or -1)
        if signup:
            for state in chain.guest_signup:
                emitted.append((ts, state, -1))
                ts += int(rng.expovariate(1.0 / 40.0) * 1000) + 1000
            user.registered = True
            state = chain.home_logged_in[user.level]
        else:
            starts_logged_in = rng.random() < 0.9 or logged_in
            state = (
                chain.start("Logged In", user.level, rng)
                if starts_logged_in
                else chain.start("Logged Out", user.level, rng)
            )
        while True:
            song = -1
            page = states[state].page
            if page == "NextSong":
                song = self.catalogue.pick(rng)
            emitted.append((ts, state, song))
            if song >= 0:
                ts += int(self.catalogue.song_lengths[song] * 1000)
            else:
                ts += int(rng.expovariate(1.0 / NON_SONG_GAP_MEAN_S) * 1000) + 1000
            if states[state].logged_in:
                user.level = states[state].level
            if page == "Submit Downgrade" and user.downgrade_ms is None:
                user.downgrade_ms = emitted[-1][0]
            nxt = chain.next(state, d, rng)
            for level, value in enumerate(log_probabilities[state][nxt]):
                log_likelihood[level] += value
            if nxt == END or len(emitted) >= MAX_EVENTS_PER_SESSION or (cancel and rng.random() < 0.02):
                break
            state = nxt
        if cancel:
            if not states[state].logged_in:
                emitted.append((ts, chain.login[user.level], -1))
                ts += 2000
            emitted.append((ts, chain.cancel[user.level], -1))
            emitted.append((ts, chain.confirm[user.level], -1))
            user.churn_ms = ts
        user.busy_until_ms = ts
        if writing:
            self._render(user, day, session_id, emitted)

    def _render(self, user: User, day: int, session_id: int, emitted: list[tuple[int, int, int]]) -> None:
        """Render a session into the file of the day it started, so day files never overlap."""
        states = self.chain.states
        fragments = self.catalogue.song_fragments
        buffer = self.buffers.setdefault(day, [])
        for item, (ts, state_index, song) in enumerate(emitted):
            if ts >= self.end_ms:
                break
            ts -= ts % 1000
            state = states[state_index]
            shows_user = state.auth in ("Logged In", "Cancelled")
            uid = user.user_id if shows_user else ""
            details = user.details if shows_user else NULL_DETAILS
            song_part = fragments[song] if song >= 0 else NULL_SONG
            line = (
                f'{{"ts":{ts},"userId":"{uid}","sessionId":{session_id},{state.fragment},"level":"{state.level}",'
                f'"itemInSession":{item},{details},{song_part}}}\n'
            )
            buffer.append(line)

    def _in_log(self, ts: int | None) -> int | None:
        """A time the log shows (truth must agree with the log); None past the log's end."""
        return ts if ts is not None and ts < self.end_ms else None

    def truth_rows(self) -> list[str]:
        """Per-user ground truth as CSV lines (see truth.USER_COLUMNS)."""
        rows = []
        for u in self.users:
            rows.append(
                ",".join(
                    str(v) if v is not None else ""
                    for v in (
                        u.user_id,
                        u.registration_ms,
                        int(u.registers_in_window),
                        u.gender,
                        u.sessions_per_day,
                        u.base_hazard,
                        u.onset_rate,
                        u.ramp_days,
                        u.onset_day,
                        self._in_log(u.churn_ms),
                        self._in_log(u.downgrade_ms),
                        u.initial_level,
                    )
                )
                + "\n"
            )
        return rows


_DAYS_DONE = None


def init_worker(counter: Any) -> None:
    """Pool initializer: the shared counter of simulated shard-days that drives the progress bar."""
    global _DAYS_DONE
    _DAYS_DONE = counter


def _tick() -> None:
    if _DAYS_DONE is not None:
        with _DAYS_DONE.get_lock():
            _DAYS_DONE.value += 1


def run_shard(job: ShardJob) -> tuple[list[str], list[str], list[str]]:
    """Worker entry point: simulate, write part files, return (truth, propensity, emission rows)."""
    simulator = ShardSimulator(job)
    simulator.run(_tick)
    return simulator.truth_rows(), simulator.propensity_rows, simulator.emission_rows
