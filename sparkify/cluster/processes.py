"""Processes the cluster command started, known by pid and start time, so that it stops exactly those.

A pid alone can be reused by an unrelated process after a crash or a reboot; the kernel's start
time of the process (field 22 of ``/proc/PID/stat``) tells the two apart. The record is a small
JSON file, replaced atomically.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Started:
    """One process of the cluster: what it is, its pid, its kernel start time, its log."""

    name: str
    pid: int
    start_ticks: int
    log: str


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after its end.
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[19])


def is_running(process: Started) -> bool:
    """True while the very process that was started still runs (not a later one with its pid)."""
    if start_ticks(process.pid) != process.start_ticks:
        return False
    state = Path(f"/proc/{process.pid}/stat").read_text()
    return state[state.rindex(")") + 2] != "Z"


def spawn(name: str, command: Sequence[str], log: Path, env: Mapping[str, str]) -> Started:
    """Start ``command`` in a session of its own (it outlives this command), output to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        child = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env),
            start_new_session=True,
        )
    ticks = start_ticks(child.pid)
    if ticks is None:
        raise RuntimeError(f"{name} exited at once; see {log}")
    return Started(name, child.pid, ticks, str(log))


def stop(process: Started, sig: signal.Signals = signal.SIGTERM, timeout_s: float = 30.0) -> bool:
    """Signal the process, wait for it to exit, kill it after ``timeout_s``; False if it was not running."""
    if not is_running(process):
        return False
    os.kill(process.pid, sig)
    deadline = time.monotonic() + timeout_s
    while is_running(process) and time.monotonic() < deadline:
        time.sleep(0.2)
    if is_running(process):
        os.kill(process.pid, signal.SIGKILL)
        while is_running(process):
            time.sleep(0.1)
    _reap(process.pid)
    return True


def _reap(pid: int) -> None:
    """Collect the exit status when the process is our own child (tests start and stop in one process)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def read_state(path: Path) -> list[Started]:
    if not path.exists():
        return []
    return [Started(**item) for item in json.loads(path.read_text())]


def write_state(path: Path, processes: Sequence[Started]) -> None:
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps([asdict(p) for p in processes], indent=1) + "\n")
    partial.replace(path)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((host, port)) == 0


def wait_until(what: str, ready: Callable[[], bool], process: Started, timeout_s: float) -> None:
    """Poll ``ready`` until it is true; fail with the log's tail if the process dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ready():
            return
        if not is_running(process):
            raise RuntimeError(
                f"{process.name} exited before {what}; last lines of {process.log}:\n{tail(process.log)}"
            )
        time.sleep(0.5)
    raise RuntimeError(
        f"{process.name}: no {what} after {timeout_s:.0f} s; last lines of {process.log}:\n{tail(process.log)}"
    )


def tail(log: str, lines: int = 15) -> str:
    try:
        return "\n".join(Path(log).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
