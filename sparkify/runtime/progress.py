"""Progress for steps that take more than a few seconds.

On a terminal a step shows a live elapsed-time line; in logs and CI (no TTY) it prints one line
when it starts and one when it ends, so cron output stays short and greppable.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


def say(message: str) -> None:
    """Print a progress line to stderr (stdout is for results such as query output)."""
    print(message, file=sys.stderr, flush=True)


@contextmanager
def step(name: str, *, live: bool = True) -> Iterator[None]:
    """Announce ``name``, tick while it runs on a TTY, and report its wall time at the end."""
    started = time.monotonic()
    ticking = live and sys.stderr.isatty()
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(1.0):
            sys.stderr.write(f"\r  {name} … {time.monotonic() - started:5.0f} s")
            sys.stderr.flush()

    ticker = threading.Thread(target=tick, daemon=True) if ticking else None
    say(f"▶ {name}")
    if ticker:
        ticker.start()
    try:
        yield
    except BaseException:
        stop.set()
        if ticking:
            sys.stderr.write("\n")
        say(f"✗ {name} failed after {time.monotonic() - started:.1f} s")
        raise
    stop.set()
    if ticker:
        ticker.join()
        sys.stderr.write("\r")
    say(f"✔ {name} ({time.monotonic() - started:.1f} s)")
