"""Scale presets matching the published figures of the real Sparkify logs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Scale:
    """Population size and observation window of one log."""

    name: str
    users: int
    start: date
    days: int
    songs: int
    artists: int


REAL_START = date(2018, 10, 1)
REAL_DAYS = 63  # 2018-10-01 .. 2018-12-02; the last sessions run past midnight into 12-03, as in the real log

SCALES: dict[str, Scale] = {
    # mini: 286,500 rows, 225 users, 52 churners
    "mini": Scale("mini", 225, REAL_START, REAL_DAYS, songs=90_000, artists=24_000),
    # medium: 543,705 rows, 448 users, 99 churners
    "medium": Scale("medium", 448, REAL_START, REAL_DAYS, songs=120_000, artists=30_000),
    # full: 26,259,199 rows (12 GB), 22,277 users, 5,003 churners
    "full": Scale("full", 22_277, REAL_START, REAL_DAYS, songs=400_000, artists=60_000),
}
