"""Turn a benchmark summary into its BENCHMARKS.md section: per-stage table, ratios, targets."""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

# Targets of the full-scale run (issue 15), checked against whatever scale was measured.
TARGET_END_TO_END_S = 10 * 60
TARGET_INGEST_BUILD_S = 6 * 60
TARGET_INGEST_RATIO = 1.5
TARGET_INCREMENT_FRACTION = 0.10
TARGET_DRIVER_RSS_MB = 8 * 1024
PIPELINE = ("ingest", "build", "validate", "train", "score", "report")
INCREMENT = ("ingest", "build", "validate", "score")


def _stats(runs: list[dict[str, Any]]) -> dict[str, float]:
    walls = [r["wall_s"] for r in runs]
    return {
        "n": len(runs),
        "median": statistics.median(walls),
        "min": min(walls),
        "max": max(walls),
        "cpu": statistics.median(r["cpu_s"] for r in runs),
        "rss": max(r["peak_rss_mb"] for r in runs),
        "failed": sum(1 for r in runs if r["exit_code"] != 0),
    }


def _failed(stats: dict[str, float]) -> str:
    """`` (**N failed**)`` after a stage whose runs did not all exit 0, else nothing."""
    return f" (**{stats['failed']} failed**)" if stats["failed"] else ""


def _machine() -> str:
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    java = subprocess.run(
        ["java", "-version"], capture_output=True, text=True, check=False
    ).stderr.splitlines()
    versions = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("pyspark", "delta-spark", "dbt-core", "dbt-spark", "great-expectations")
    )
    return (
        f"{os.cpu_count()} cores (`nproc`), {memory_gib:.0f} GiB RAM, {java[0] if java else 'java ?'}, "
        f"Python {platform.python_version()}; {versions}"
    )


def render_section(summary: dict[str, Any]) -> str:
    """Markdown for one scale, between markers so that the next run replaces it."""
    scale = summary["scale"]
    target = summary.get("target", "local")
    on = "" if target == "local" else " on the project's cluster (Thrift server, master, 2 workers)"
    switch = "" if target == "local" else " TARGET=cluster"
    flag = "" if target == "local" else " --target cluster"
    results = {stage: _stats(runs) for stage, runs in summary["results"].items()}
    increment = {stage: _stats(runs) for stage, runs in summary["incremental"].items()}
    gib = summary["extra"]["log_bytes"] / 2**30
    lines = [
        f"### {scale}{on} (seed {summary['seed']}, {gib:.2f} GiB of log, {summary['repeats']} run(s) per stage, "
        f"measured {summary['measured_on']})",
        "",
        f"Command: `make bench SCALE={scale}{switch} REPEATS={summary['repeats']}` "
        f"(`python -m bench.run --scale {scale}{flag} --repeats {summary['repeats']}`). Machine: {_machine()}.",
        "",
        "| stage | runs | median wall | min | max | median CPU | peak RSS |",
        "|---|---|---|---|---|---|---|",
    ]
    for stage, s in results.items():
        lines.append(
            f"| {stage}{_failed(s)} | {s['n']} | {s['median']:.1f} s | {s['min']:.1f} s | {s['max']:.1f} s | "
            f"{s['cpu']:.1f} s | {s['rss']:,.0f} MB |"
        )
    lines.append("")
    stages_run = [stage for stage in PIPELINE if stage in results]
    end_to_end = sum(results[stage]["median"] for stage in stages_run)
    scan = results["bare_scan"]["median"]
    in_jvm = statistics.median(summary["extra"]["bare_scan_in_jvm_s"])
    peak = max(results[stage]["rss"] for stage in stages_run)
    if "ingest" in results and "build" in results:
        ingest_build = results["ingest"]["median"] + results["build"]["median"]
        lines.append(
            f"- Ingest + build: **{ingest_build:.0f} s** ({ingest_build / 60:.1f} min); "
            f"target <= {TARGET_INGEST_BUILD_S / 60:.0f} min."
        )
    lines += [
        f"- End to end ({' + '.join(stages_run)}, sum of medians): **{end_to_end:.0f} s** "
        f"({end_to_end / 60:.1f} min); target at full scale <= {TARGET_END_TO_END_S / 60:.0f} min.",
        f"- Bare Spark scan (parse every line once, count), as its own process: {scan:.1f} s, of which "
        f"{in_jvm:.1f} s is the scan itself; plain copy `cat > /dev/null`: {results['cat']['median']:.1f} s.",
        f"- Ingest / bare scan: **{results['ingest']['median'] / scan:.2f}x** (target <= {TARGET_INGEST_RATIO}x); "
        f"whole pipeline / bare scan: {end_to_end / scan:.2f}x.",
        f"- Peak RSS of any stage (its process and the JVM it starts): **{peak:,.0f} MB** "
        f"(target <= {TARGET_DRIVER_RSS_MB:,} MB).",
    ]
    if increment:
        timed = [stage for stage in INCREMENT if stage in increment and stage in results]
        one_day = sum(increment[stage]["median"] for stage in timed)
        full = sum(results[stage]["median"] for stage in timed)
        detail = ", ".join(
            f"{stage} {increment[stage]['median']:.1f} s{_failed(increment[stage])}" for stage in timed
        )
        failed_runs = sum(increment[stage]["failed"] for stage in timed)
        failure_note = (
            f" (**{failed_runs} failed**: the sum holds their time to the failure)" if failed_runs else ""
        )
        lines.append(
            f"- One more day ({' + '.join(timed)}, median of {increment[timed[0]]['n']} day(s)){failure_note}: "
            f"**{one_day:.0f} s = {one_day / full:.1%}** of the same stages on the full log ({full:.0f} s); "
            f"target <= {TARGET_INCREMENT_FRACTION:.0%}. Per stage: {detail}."
        )
        if "daily" in increment:
            daily = increment["daily"]
            failed = f" (**{daily['failed']} failed**: see the bench log)" if daily["failed"] else ""
            lines.append(
                f"- The day after as the scheduler runs it, one command (`sparkify daily`: ingest, build, "
                f"validate, score, OPTIMIZE and VACUUM LITE, one process){failed}: **{daily['median']:.0f} s = {daily['median'] / full:.1%}** "
                f"of the same stages on the full log."
            )
    return "\n".join(lines)


def replace_section(path: Path, scale: str, section: str) -> None:
    """Replace the text between this scale's markers in ``path`` (appending the markers if absent)."""
    start, end = f"<!-- bench:{scale}:start -->", f"<!-- bench:{scale}:end -->"
    text = path.read_text()
    block = f"{start}\n{section}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)
