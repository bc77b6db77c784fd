"""Run one command as a child process and record wall time, CPU time and peak resident memory.

``os.wait4`` returns the child's resource usage the way ``/usr/bin/time -v`` reports it (the same
system call): CPU time summed over the child and the descendants it waited for (the JVM that
PySpark starts is one), and the peak RSS of the largest of them.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measurement:
    """One run of one stage."""

    stage: str
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    exit_code: int

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def measure(stage: str, command: Sequence[str], env: Mapping[str, str], log: Path) -> Measurement:
    """Run ``command``, its output appended to ``log``; the exit code is recorded, not raised.

    A failed stage stays in the results (and is flagged in BENCHMARKS.md) so that one failure at
    full scale does not throw away an hour of measurements of the other stages.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as sink:
        sink.write(f"\n$ {' '.join(command)}\n")
        sink.flush()
        started = time.monotonic()
        child = subprocess.Popen(list(command), env=dict(env), stdout=sink, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.monotonic() - started
        child.returncode = os.waitstatus_to_exitcode(status)
    result = Measurement(
        stage=stage,
        wall_s=round(wall, 2),
        cpu_s=round(usage.ru_utime + usage.ru_stime, 2),
        peak_rss_mb=round(usage.ru_maxrss / 1024, 1),
        exit_code=child.returncode,
    )
    return result
