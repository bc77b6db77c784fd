"""Turn shard part files into the delivered log: one file per day, merged in time order,
optionally gzipped and corrupted on purpose, with ground truth and a manifest beside it."""

from __future__ import annotations

import gzip
import hashlib
import heapq
import json
import multiprocessing
import os
import random
import shutil
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO

from tqdm import tqdm

from sparkify.generator.corrupt import FAULT_KINDS, corrupt_line, manifest_entry
from sparkify.generator.population import MAX_EXTRA_HAZARD
from sparkify.generator.simulate import ShardJob, init_worker, run_shard
from sparkify.generator.truth import write_ground_truth

USERS_PER_SHARD = 1_500


@dataclass(frozen=True)
class GenerateRequest:
    """Everything that determines a generated log."""

    out: Path
    seed: int
    users: int
    population_start: date
    population_days: int
    write_from: date
    write_until: date
    songs: int
    artists: int
    gzip: bool = False
    corrupt_rate: float = 0.0
    workers: int = 0


@dataclass
class GenerateSummary:
    """What was written."""

    files: list[Path] = field(default_factory=list)
    rows: int = 0
    corrupted: int = 0
    seconds: float = 0.0


def _shards(users: int) -> list[tuple[int, ...]]:
    count = max(1, -(-users // USERS_PER_SHARD))
    return [tuple(range(shard, users, count)) for shard in range(count)]


def generate(request: GenerateRequest, show_progress: bool = True) -> GenerateSummary:
    """Simulate the population, then merge, corrupt and write the requested days."""
    started = time.monotonic()
    out = request.out
    events_dir = out / "events"
    parts_dir = out / ".parts"
    shutil.rmtree(parts_dir, ignore_errors=True)
    parts_dir.mkdir(parents=True)
    events_dir.mkdir(parents=True, exist_ok=True)
    simulated_days = (request.write_until - request.population_start).days
    shards = _shards(request.users)
    jobs = [
        ShardJob(
            seed=request.seed,
            users=request.users,
            indices=indices,
            population_start=request.population_start,
            population_days=request.population_days,
            write_from=request.write_from,
            write_until=request.write_until,
            songs=request.songs,
            artists=request.artists,
            parts_dir=str(parts_dir),
            shard=number,
        )
        for number, indices in enumerate(shards)
    ]
    workers = request.workers or min(len(jobs), os.cpu_count() or 1)
    truth_rows: list[str] = []
    propensity_rows: list[str] = []
    emission_rows: list[str] = []
    bar = tqdm(
        total=len(jobs) * simulated_days,
        desc="simulate",
        unit="shard-day",
        disable=not show_progress,
        leave=False,
    )
    context = multiprocessing.get_context("fork")
    counter = context.Value("i", 0)
    with context.Pool(workers, initializer=init_worker, initargs=(counter,)) as pool:
        pending = pool.map_async(run_shard, jobs)
        while not pending.ready():
            pending.wait(0.5)
            bar.n = counter.value
            bar.refresh()
        for users, propensity, emissions in pending.get():
            truth_rows += users
            propensity_rows += propensity
            emission_rows += emissions
    bar.close()
    summary = _merge_days(request, parts_dir, events_dir, show_progress)
    shutil.rmtree(parts_dir, ignore_errors=True)
    write_ground_truth(
        out, request.population_start, MAX_EXTRA_HAZARD, truth_rows, propensity_rows, emission_rows
    )
    _write_manifest(request, summary)
    summary.seconds = time.monotonic() - started
    return summary


def _open_output(path: Path, use_gzip: bool) -> BinaryIO:
    if use_gzip:
        return gzip.GzipFile(filename="", mode="wb", fileobj=open(path, "wb"), mtime=0)
    return open(path, "wb")


def _merge_days(
    request: GenerateRequest, parts_dir: Path, events_dir: Path, show_progress: bool
) -> GenerateSummary:
    """Merge each day's sorted parts; inject faults; carry late events to a later day's file."""
    summary = GenerateSummary()
    names = sorted({p.name.split(".")[0] for p in parts_dir.iterdir()})
    names = [n for n in names if date.fromisoformat(n) >= request.write_from]
    manifest_path = request.out / "_corruptions.jsonl"
    late: dict[str, list[tuple[bytes, bytes]]] = {}
    suffix = ".json.gz" if request.gzip else ".json"
    with ExitStack() as stack:
        manifest = stack.enter_context(open(manifest_path, "a")) if request.corrupt_rate > 0 else None
        for position, name in enumerate(
            tqdm(names, desc="write", unit="day", disable=not show_progress, leave=False)
        ):
            path = events_dir / f"{name}{suffix}"
            rng = random.Random(f"{request.seed}:corrupt:{name}")
            later = names[position + 1 : position + 4]
            with ExitStack() as day_stack:
                sources = [
                    day_stack.enter_context(open(p, "rb")) for p in sorted(parts_dir.glob(f"{name}.*"))
                ]
                sink = day_stack.enter_context(_open_output(path, request.gzip))
                written = 0
                placeholders_due = 0  # drawn for lines with a user; applied to the next logged-out lines
                for line in _merged(sources):
                    kind = _draw_fault(rng, request.corrupt_rate, has_later=bool(later))
                    if kind is None and placeholders_due and b'"userId":""' in line:
                        kind, placeholders_due = "placeholder_user_id", placeholders_due - 1
                    if kind is None:
                        sink.write(line)
                        written += 1
                        continue
                    summary.corrupted += 1
                    if kind == "late_event":
                        late.setdefault(rng.choice(later), []).append((line, line))
                        continue
                    if kind == "duplicate_event":
                        sink.write(line)
                        written += 1
                        bad = line
                    elif kind == "placeholder_user_id" and b'"userId":""' not in line:
                        sink.write(line)
                        written += 1
                        summary.corrupted -= 1
                        placeholders_due += 1
                        continue
                    else:
                        bad = corrupt_line(kind, line, rng)
                    sink.write(bad)
                    written += 1
                    if manifest:
                        manifest.write(manifest_entry(path.name, written, kind, line))
                for original, line in late.pop(name, []):
                    sink.write(line)
                    written += 1
                    if manifest:
                        manifest.write(manifest_entry(path.name, written, "late_event", original))
            summary.rows += written
            summary.files.append(path)
    if request.corrupt_rate <= 0 and manifest_path.exists() and manifest_path.stat().st_size == 0:
        manifest_path.unlink()
    return summary


def _merged(sources: list[BinaryIO]) -> Iterator[bytes]:
    # Every clean line starts with {"ts":<13 digits>, so byte order is time order.
    return heapq.merge(*sources) if len(sources) > 1 else iter(sources[0])


def _draw_fault(rng: random.Random, rate: float, *, has_later: bool) -> str | None:
    if rate <= 0 or rng.random() >= rate:
        return None
    kinds = FAULT_KINDS if has_later else tuple(k for k in FAULT_KINDS if k != "late_event")
    return rng.choice(kinds)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_manifest(request: GenerateRequest, summary: GenerateSummary) -> None:
    manifest = {
        "seed": request.seed,
        "users": request.users,
        "population_start": request.population_start.isoformat(),
        "population_days": request.population_days,
        "written_from": request.write_from.isoformat(),
        "written_until_exclusive": request.write_until.isoformat(),
        "corrupt_rate": request.corrupt_rate,
        "rows": summary.rows,
        "corrupted": summary.corrupted,
        "files": {p.name: _sha256(p) for p in summary.files},
    }
    (request.out / f"_manifest-{request.write_from.isoformat()}.json").write_text(
        json.dumps(manifest, indent=1) + "\n"
    )
