"""``sparkify generate``: arguments and the command."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from sparkify.generator.scales import SCALES
from sparkify.generator.writer import GenerateRequest, generate
from sparkify.runtime.errors import UsageError
from sparkify.runtime.progress import say
from sparkify.runtime.settings import raw_landing_dir


def add_generate_arguments(parser: argparse.ArgumentParser, to_path: Callable[[str], Path]) -> None:
    """Options of ``sparkify generate``."""
    parser.description = (
        "Write a Sparkify-format JSON-lines log, one file per day under OUT/events/, with ground truth "
        "(OUT/_ground_truth/) and, with --corrupt-rate, a manifest of injected faults (OUT/_corruptions.jsonl)."
    )
    parser.add_argument(
        "--scale", choices=sorted(SCALES), default="mini", help="preset matching a real log (default mini)"
    )
    parser.add_argument("--users", type=int, help="number of users (overrides the preset)")
    parser.add_argument("--days", type=int, help="days in the population's window (overrides the preset)")
    parser.add_argument(
        "--seed", type=int, default=1, help="seed; the same seed gives byte-identical files (default 1)"
    )
    parser.add_argument(
        "--out",
        type=to_path,
        default=None,
        help="output folder (default: the landing folder, $SPARKIFY_RAW_DIR)",
    )
    parser.add_argument(
        "--start",
        type=date.fromisoformat,
        help="first day to write (YYYY-MM-DD); earlier days are simulated, not written",
    )
    parser.add_argument(
        "--end",
        type=date.fromisoformat,
        help="day after the last day to write (exclusive); may run past the window to continue the population",
    )
    parser.add_argument("--gzip", action="store_true", help="write .json.gz files")
    parser.add_argument(
        "--corrupt-rate", type=float, default=0.0, help="share of lines turned into faults (0..0.5)"
    )
    parser.add_argument("--workers", type=int, default=0, help="worker processes (default: one per core)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def generate_command(args: argparse.Namespace) -> int:
    """Validate arguments, generate, print a one-line summary."""
    scale = SCALES[args.scale]
    users = args.users or scale.users
    days = args.days or scale.days
    if users < 1 or days < 1:
        raise UsageError("--users and --days must be positive")
    if not 0.0 <= args.corrupt_rate <= 0.5:
        raise UsageError("--corrupt-rate must be between 0 and 0.5")
    start = args.start or scale.start
    end = args.end or scale.start + timedelta(days=days)
    if start < scale.start or end <= start:
        raise UsageError(f"need {scale.start} <= --start < --end")
    out = args.out or raw_landing_dir()
    request = GenerateRequest(
        out=out,
        seed=args.seed,
        users=users,
        population_start=scale.start,
        population_days=days,
        write_from=start,
        write_until=end,
        songs=scale.songs,
        artists=scale.artists,
        gzip=args.gzip,
        corrupt_rate=args.corrupt_rate,
        workers=args.workers,
    )
    summary = generate(request, show_progress=not args.quiet)
    say(
        f"generated {summary.rows:,} rows for {users:,} users in {len(summary.files)} daily files under "
        f"{out / 'events'} ({summary.corrupted:,} faults injected) in {summary.seconds:.1f} s"
    )
    return 0
