"""The benchmark's BENCHMARKS.md section states the targets of issue 15 and never hides a failed step."""

from __future__ import annotations

from bench.render import render_section


def _run(stage: str, wall_s: float, exit_code: int = 0) -> dict:
    return {"stage": stage, "wall_s": wall_s, "cpu_s": wall_s, "peak_rss_mb": 1000.0, "exit_code": exit_code}


def _summary(score_exit: int) -> dict:
    walls = {"cat": 2, "bare_scan": 80, "ingest": 280, "build": 660, "validate": 60, "score": 90}
    return {
        "scale": "full",
        "target": "local",
        "seed": 1,
        "repeats": 1,
        "measured_on": "2026-12-06",
        "extra": {"log_bytes": 12 * 2**30, "bare_scan_in_jvm_s": [77.0]},
        "results": {stage: [_run(stage, wall)] for stage, wall in walls.items()},
        "incremental": {
            "ingest": [_run("ingest", 57)],
            "build": [_run("build", 172)],
            "validate": [_run("validate", 60)],
            "score": [_run("score", 19, score_exit)],
        },
    }


def test_the_section_states_issue_15s_targets():
    section = render_section(_summary(score_exit=0))
    assert "- Ingest / bare scan: **3.50x** (target <= 1.5x)" in section
    assert "- Ingest + build: **940 s** (15.7 min); target <= 6 min." in section
    assert "target at full scale <= 10 min" in section
    assert "One more day (ingest + build + validate + score, median of 1 day(s)): **308 s" in section
    assert "failed" not in section


def test_a_failed_step_of_the_day_after_is_named_in_its_line():
    section = render_section(_summary(score_exit=2))
    day_after = next(line for line in section.splitlines() if line.startswith("- One more day"))
    assert "(**1 failed**: the sum holds their time to the failure)" in day_after
    assert "score 19.0 s (**1 failed**)" in day_after
