"""Statistics of a log next to the published figures of the real Sparkify mini log.

Run ``python -m sparkify.generator.stats DIR`` on a generated folder (or a folder of real
files) to print both side by side with the tolerance each figure is held to.
"""

from __future__ import annotations

import gzip
import json
import statistics
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Published figures of the real mini log (286,500 rows): see ../shared/data/sparkify-real/README.md.
REAL_MINI_ROWS = 286_500
REAL_MINI_USERS = 225
REAL_MINI_CHURNERS = 52
REAL_MINI_PAGES = {
    "NextSong": 228_108,
    "Home": 14_457,
    "Thumbs Up": 12_551,
    "Add to Playlist": 6_526,
    "Add Friend": 4_277,
    "Roll Advert": 3_933,
    "Login": 3_241,
    "Logout": 3_226,
    "Thumbs Down": 2_546,
    "Downgrade": 2_055,
    "Help": 1_726,
    "Settings": 1_514,
    "About": 924,
    "Upgrade": 499,
    "Save Settings": 310,
    "Error": 258,
    "Submit Upgrade": 159,
    "Submit Downgrade": 63,
    "Cancel": 52,
    "Cancellation Confirmation": 52,
    "Register": 18,
    "Submit Registration": 5,
}
REAL_MINI_EMPTY_USER_SHARE = 8_346 / REAL_MINI_ROWS
REAL_MINI_PAID_SHARE = 228_162 / REAL_MINI_ROWS
REAL_MINI_PUT_SHARE = 261_064 / REAL_MINI_ROWS
REAL_MINI_STATUS_SHARE = {
    200: 259_812 / REAL_MINI_ROWS,
    307: 26_430 / REAL_MINI_ROWS,
    404: 258 / REAL_MINI_ROWS,
}
REAL_MINI_SONG_LENGTH_MEAN = 249.1
REAL_MINI_SESSIONS_PER_USER_MEDIAN = 10


@dataclass(frozen=True)
class Check:
    """One figure: real, generated, and whether it is within tolerance."""

    name: str
    real: float
    generated: float
    tolerance: str
    ok: bool


def _lines(folder: Path) -> Iterator[dict]:
    files = sorted(folder.glob("events/*.json*")) or sorted(folder.glob("*.json*"))
    for path in files:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    yield json.loads(line)
                except ValueError:
                    continue


def log_statistics(folder: Path) -> dict:
    """Count what the acceptance figures need, in one pass."""
    rows = 0
    pages: Counter[str] = Counter()
    empty_user = paid = put = 0
    status: Counter[int] = Counter()
    lengths: list[float] = []
    sessions: dict[str, set[int]] = defaultdict(set)
    churners: set[str] = set()
    for event in _lines(folder):
        rows += 1
        pages[event.get("page")] += 1
        user = event.get("userId")
        if not user:
            empty_user += 1
        else:
            sessions[user].add(event.get("sessionId"))
        paid += event.get("level") == "paid"
        put += event.get("method") == "PUT"
        status[event.get("status")] += 1
        if event.get("length") is not None:
            lengths.append(event["length"])
        if event.get("page") == "Cancellation Confirmation":
            churners.add(user)
    return {
        "rows": rows,
        "pages": pages,
        "users": len(sessions),
        "churners": len(churners),
        "empty_user_share": empty_user / max(rows, 1),
        "paid_share": paid / max(rows, 1),
        "put_share": put / max(rows, 1),
        "status_share": {k: v / max(rows, 1) for k, v in status.items()},
        "song_length_mean": statistics.fmean(lengths) if lengths else 0.0,
        "sessions_per_user_median": statistics.median(len(s) for s in sessions.values()) if sessions else 0,
    }


def _relative(real: float, generated: float, tolerance: float) -> bool:
    return abs(generated - real) <= tolerance * abs(real)


def compare_to_real_mini(stats: dict) -> list[Check]:
    """The acceptance figures of issue 3 for a mini-scale log."""
    checks = [
        Check("rows", REAL_MINI_ROWS, stats["rows"], "±10%", _relative(REAL_MINI_ROWS, stats["rows"], 0.10)),
        Check("users", REAL_MINI_USERS, stats["users"], "exact", stats["users"] == REAL_MINI_USERS),
        Check(
            "churners",
            REAL_MINI_CHURNERS,
            stats["churners"],
            "±6",
            abs(stats["churners"] - REAL_MINI_CHURNERS) <= 6,
        ),
    ]
    for page, count in REAL_MINI_PAGES.items():
        share = count / REAL_MINI_ROWS
        if share > 0.005:
            generated = stats["pages"].get(page, 0) / max(stats["rows"], 1)
            checks.append(
                Check(f"share {page}", share, generated, "±20% rel", _relative(share, generated, 0.20))
            )
    for name, real, generated in (
        ("share empty userId", REAL_MINI_EMPTY_USER_SHARE, stats["empty_user_share"]),
        ("share paid rows", REAL_MINI_PAID_SHARE, stats["paid_share"]),
        ("share PUT", REAL_MINI_PUT_SHARE, stats["put_share"]),
        ("share status 200", REAL_MINI_STATUS_SHARE[200], stats["status_share"].get(200, 0.0)),
        ("share status 307", REAL_MINI_STATUS_SHARE[307], stats["status_share"].get(307, 0.0)),
        ("song length mean", REAL_MINI_SONG_LENGTH_MEAN, stats["song_length_mean"]),
    ):
        checks.append(Check(name, real, generated, "±15% rel", _relative(real, generated, 0.15)))
    checks.append(
        Check(
            "sessions/user median",
            REAL_MINI_SESSIONS_PER_USER_MEDIAN,
            stats["sessions_per_user_median"],
            "±30% rel",
            _relative(REAL_MINI_SESSIONS_PER_USER_MEDIAN, stats["sessions_per_user_median"], 0.30),
        )
    )
    return checks


def format_checks(checks: list[Check]) -> str:
    """Side-by-side table."""
    lines = [f"{'figure':<28}{'real mini':>14}{'generated':>14}  {'tolerance':<10} ok"]
    for check in checks:
        fmt = "{:>14.4f}" if check.real < 1 else "{:>14,.1f}"
        lines.append(
            f"{check.name:<28}{fmt.format(check.real)}{fmt.format(check.generated)}  {check.tolerance:<10} "
            f"{'yes' if check.ok else 'NO'}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """CLI: print the comparison; exit 1 when a figure is out of tolerance."""
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 1:
        print("usage: python -m sparkify.generator.stats DIR", file=sys.stderr)
        return 2
    checks = compare_to_real_mini(log_statistics(Path(args[0])))
    print(format_checks(checks))
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
