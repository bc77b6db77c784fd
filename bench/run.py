"""``make bench SCALE=mini|medium|full``: time every stage of the pipeline, each as its own process.

On a log generated with a fixed seed, per repeat and on an empty lakehouse: ingest, dbt build,
validate, train, score, report. Beside them, in the same run, the machine's own limits: a plain
copy of the files (``cat > /dev/null``) and a bare Spark scan that parses every line once. Then the
incremental cost: the next day of the same population is generated and ingest + build + validate
+ score are timed for that day alone, and the day after that through ``sparkify daily``, the one
scheduled command (its closing maintenance included). Results go to ``lakehouse/bench/<scale>/results.json`` and
replace this scale's section of BENCHMARKS.md.

``--target cluster`` (``make bench TARGET=cluster``) runs the same stages on the project's own
cluster (``sparkify cluster up`` on ports of the benchmark's own, a fresh one per repeat, its start
timed as the stage ``cluster_up``): every Python stage is then a Spark application on the master
and the build goes through the Thrift server. Its section is ``<scale>-cluster``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench.measure import Measurement, measure
from bench.render import render_section, replace_section
from sparkify.generator.scales import SCALES
from sparkify.runtime.settings import project_dir

PIPELINE_STAGES = ("ingest", "build", "validate", "train", "score", "report")
INCREMENTAL_STAGES = ("ingest", "build", "validate", "score")
DEFAULT_REPEATS = {"mini": 2, "medium": 2, "full": 1}
# The benchmark's cluster listens apart from a user's (default ports) and the test suite's.
BENCH_CLUSTER_PORTS = {
    "SPARKIFY_PG_PORT": "35433",
    "SPARKIFY_MASTER_PORT": "37077",
    "SPARKIFY_MASTER_UI_PORT": "38080",
    "SPARKIFY_THRIFT_PORT": "30000",
}


def _sparkify(*args: str) -> list[str]:
    return [sys.executable, "-m", "sparkify.app", *args]


STAGE_COMMANDS: dict[str, list[str]] = {
    "ingest": _sparkify("ingest"),
    "build": _sparkify("build"),
    "validate": _sparkify("validate"),
    "train": _sparkify("train"),
    "score": _sparkify("score"),
    "report": _sparkify("report"),
    "daily": _sparkify("daily"),
}


class Bench:
    """One benchmark run at one scale; every stage's measurements, by stage name."""

    def __init__(
        self, scale: str, seed: int, repeats: int, stages: tuple[str, ...], work: Path, target: str = "local"
    ) -> None:
        self.scale = SCALES[scale]
        self.target = target
        self.seed = seed
        self.repeats = repeats
        self.stages = stages
        self.work = work
        self.raw = work / "raw"
        self.lakehouse = work / "lakehouse"
        self.log = work / "bench.log"
        self.results: dict[str, list[Measurement]] = {}
        self.incremental: dict[str, list[Measurement]] = {}
        self.extra: dict[str, object] = {}
        self.env = {
            **os.environ,
            "SPARKIFY_LAKEHOUSE": str(self.lakehouse),
            "SPARKIFY_RAW_DIR": str(self.raw),
            # dbt's target/ and logs/ per benchmark, so a benchmark never shares them with a developer's run.
            "DBT_TARGET_PATH": str(work / "dbt-target"),
            "DBT_LOG_PATH": str(work / "dbt-logs"),
            "PYTHONPATH": str(project_dir()),
        }
        if target == "cluster":
            self.env.update(BENCH_CLUSTER_PORTS, DBT_TARGET="cluster")

    def _record(self, into: dict[str, list[Measurement]], stage: str, command: list[str]) -> Measurement:
        print(f"[bench] {stage} ...", flush=True)
        result = measure(stage, command, self.env, self.log)
        into.setdefault(stage, []).append(result)
        status = "" if result.exit_code == 0 else f", EXIT {result.exit_code} (see {self.log})"
        print(
            f"[bench] {stage}: {result.wall_s:.1f} s wall, {result.peak_rss_mb:,.0f} MB peak{status}",
            flush=True,
        )
        return result

    def generate(self, start: date | None = None, end: date | None = None) -> list[str]:
        command = _sparkify(
            "generate",
            "--scale",
            self.scale.name,
            "--seed",
            str(self.seed),
            "--out",
            str(self.raw),
            "--quiet",
        )
        if start and end:
            command += ["--start", start.isoformat(), "--end", end.isoformat()]
        return command

    def run(self) -> None:
        for _ in range(self.repeats):
            shutil.rmtree(self.raw, ignore_errors=True)
            self._record(self.results, "generate", self.generate())
        log_files = sorted(str(p) for p in (self.raw / "events").iterdir())
        self.extra["log_bytes"] = sum(Path(p).stat().st_size for p in log_files)
        for _ in range(self.repeats):
            self._record(self.results, "cat", ["sh", "-c", 'cat "$@" > /dev/null', "cat", *log_files])
            self._record(self.results, "bare_scan", [sys.executable, "-m", "bench.bare_scan", str(self.raw)])
            self.extra.setdefault("bare_scan_in_jvm_s", []).append(_last_json(self.log)["scan_s"])
        try:
            self._pipeline()
        finally:
            if self.target == "cluster":
                measure("cluster_down", _sparkify("cluster", "down"), self.env, self.log)

    def _pipeline(self) -> None:
        for _ in range(self.repeats):
            if self.target == "cluster":
                measure("cluster_down", _sparkify("cluster", "down"), self.env, self.log)
            shutil.rmtree(self.lakehouse, ignore_errors=True)
            if self.target == "cluster":
                self._record(self.results, "cluster_up", _sparkify("cluster", "up"))
            for stage in self.stages:
                self._record(self.results, stage, STAGE_COMMANDS[stage])
        first_day = self.scale.start + timedelta(days=self.scale.days)
        for offset in range(self.repeats):
            day = first_day + timedelta(days=offset)
            self._record(self.incremental, "generate", self.generate(day, day + timedelta(days=1)))
            for stage in INCREMENTAL_STAGES:
                if stage in self.stages:
                    self._record(self.incremental, stage, STAGE_COMMANDS[stage])
        if set(INCREMENTAL_STAGES) <= set(self.stages):
            # The day after, as the scheduler runs it: one command, one process.
            day = first_day + timedelta(days=self.repeats)
            self._record(self.incremental, "generate", self.generate(day, day + timedelta(days=1)))
            self._record(self.incremental, "daily", STAGE_COMMANDS["daily"])

    def summary(self) -> dict[str, object]:
        return {
            "scale": self.scale.name,
            "target": self.target,
            "seed": self.seed,
            "repeats": self.repeats,
            "stages": list(self.stages),
            "measured_on": datetime.now(UTC).date().isoformat(),
            "results": {k: [m.as_dict() for m in v] for k, v in self.results.items()},
            "incremental": {k: [m.as_dict() for m in v] for k, v in self.incremental.items()},
            "extra": self.extra,
        }


def _last_json(log: Path) -> dict[str, float]:
    """The JSON line the bare scan prints last."""
    for line in reversed(log.read_text().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON result in {log}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="mini")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeats",
        type=int,
        help="runs per stage (default: "
        + ", ".join(f"{scale} {n}" for scale, n in DEFAULT_REPEATS.items())
        + ")",
    )
    parser.add_argument(
        "--stages",
        default=",".join(PIPELINE_STAGES),
        help="comma-separated pipeline stages to time (default: all)",
    )
    parser.add_argument(
        "--target",
        choices=("local", "cluster"),
        default="local",
        help="local: the embedded default; cluster: the project's own cluster (default local)",
    )
    parser.add_argument(
        "--work", type=Path, help="working folder (default lakehouse/bench/<scale>[-cluster])"
    )
    parser.add_argument("--no-write", action="store_true", help="do not rewrite BENCHMARKS.md")
    args = parser.parse_args(argv)
    stages = tuple(s for s in args.stages.split(",") if s)
    unknown = set(stages) - set(PIPELINE_STAGES)
    if unknown:
        parser.error(f"unknown stages: {', '.join(sorted(unknown))}")
    section_name = args.scale if args.target == "local" else f"{args.scale}-cluster"
    work = (args.work or project_dir() / "lakehouse" / "bench" / section_name).absolute()
    shutil.rmtree(work, ignore_errors=True)
    bench = Bench(
        args.scale, args.seed, args.repeats or DEFAULT_REPEATS[args.scale], stages, work, args.target
    )
    bench.run()
    summary = bench.summary()
    (work / "results.json").write_text(json.dumps(summary, indent=2))
    section = render_section(summary)
    print(section)
    if not args.no_write:
        replace_section(project_dir() / "BENCHMARKS.md", section_name, section)
        print(
            f"[bench] BENCHMARKS.md: {section_name} section rewritten; raw figures in {work / 'results.json'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
