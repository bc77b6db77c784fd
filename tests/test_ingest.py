"""Bronze ingestion: one parse per line, lineage, quarantine with reasons, read = kept + rejected."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from sparkify.app.cli import main
from sparkify.ingest.command import run_ingest
from sparkify.ingest.tables import EVENTS_TABLE, LEDGER_TABLE, REJECTED_TABLE
from tests.conftest import drop_schemas

# What ingestion must do with each injected fault (the rest is the warehouse's job: duplicates
# are removed in staging, late events are kept, the placeholder userId is "no user" in staging).
EXPECTED_REASON = {
    "malformed_json": {"malformed_json"},
    "truncated_line": {"malformed_json"},
    "wrong_type": {"type_mismatch"},
    "missing_field": {"missing_page"},
    "null_ts": {"missing_ts"},
    "future_ts": {"ts_out_of_range"},
    "invalid_utf8": {"invalid_utf8"},
}
KEPT_KINDS = {"duplicate_event", "late_event", "placeholder_user_id"}


@pytest.fixture(scope="module", autouse=True)
def empty_raw_schema(test_home: Path) -> None:
    """Start the module from an empty raw layer: its tests read the ledger, which other modules fill."""
    from sparkify.runtime.spark import get_spark

    drop_schemas(get_spark(), ("raw",))


def _batch_rows(spark, table: str, source_glob: str):
    return spark.table(table).where(F.col("_source_file").like(source_glob))


def test_real_rows_and_generated_rows_share_one_code_path(spark, real_rows: Path, test_home: Path):
    result = run_ingest(real_rows)
    assert result.lines_read == 2_600 and result.rows_kept == 2_600 and result.rows_rejected == 0
    real = _batch_rows(spark, EVENTS_TABLE, f"%{real_rows.name}")
    churners = {r.userId for r in real.where("page = 'Cancellation Confirmation'").select("userId").collect()}
    assert churners == {"18", "32", "12", "125", "100001"}
    # The mojibake of the real log survives byte for byte.
    assert real.where(F.col("artist").contains("Ã")).count() > 0
    out = test_home / "gen-for-ingest"
    assert (
        main(["generate", "--users", "30", "--days", "5", "--seed", "2", "--out", str(out), "--quiet"]) == 0
    )
    generated = run_ingest(out)
    assert generated.rows_rejected == 0 and generated.rows_kept == generated.lines_read > 0
    # Line numbers are real line numbers of the file.
    first_file = sorted((out / "events").iterdir())[0]
    lines = first_file.read_text(encoding="utf-8").splitlines()
    sample = (
        _batch_rows(spark, EVENTS_TABLE, f"%{first_file.name}").where("_source_line in (1, 17)").collect()
    )
    for row in sample:
        assert json.loads(lines[row._source_line - 1])["ts"] == row.ts


def test_reingesting_the_same_files_adds_nothing(spark, real_rows: Path):
    before = spark.table(EVENTS_TABLE).count()
    again = run_ingest(real_rows)
    assert again.files_new == 0 and again.lines_read == 0
    assert spark.table(EVENTS_TABLE).count() == before


def test_corrupt_log_every_fault_is_rejected_with_its_reason_or_kept(spark, test_home: Path):
    out = test_home / "gen-corrupt-ingest"
    args = ["generate", "--users", "60", "--days", "8", "--seed", "11", "--corrupt-rate", "0.01", "--gzip"]
    assert main([*args, "--out", str(out), "--quiet"]) == 0
    result = run_ingest(out)
    assert result.lines_read == result.rows_kept + result.rows_rejected
    ledger = spark.table(LEDGER_TABLE).where(F.col("source_file").like(f"%{out.name}/events/%")).collect()
    assert len(ledger) == 8 and all(r.lines_read == r.rows_kept + r.rows_rejected for r in ledger)
    rejected = {
        (Path(r._source_file).name, r._source_line): r._reject_reason
        for r in _batch_rows(spark, REJECTED_TABLE, f"%{out.name}/events/%").collect()
    }
    manifest = [json.loads(x) for x in (out / "_corruptions.jsonl").read_text().splitlines()]
    seen = Counter()
    for entry in manifest:
        key = (entry["file"], entry["line"])
        if entry["kind"] in KEPT_KINDS:
            assert key not in rejected, entry
        else:
            assert rejected.get(key) in EXPECTED_REASON[entry["kind"]], (entry, rejected.get(key))
        seen[entry["kind"]] += 1
    # Nothing else was rejected: every rejection is an injected fault.
    injected = {(e["file"], e["line"]) for e in manifest}
    assert set(rejected) <= injected
    assert len(seen) >= 8, seen


@pytest.mark.parametrize("missing", ["does-not-exist", "empty-folder"])
def test_ingest_from_a_path_without_logs_is_a_usage_error(missing: str, test_home: Path, capsys):
    path = test_home / missing
    if missing == "empty-folder":
        path.mkdir(exist_ok=True)
    assert main(["ingest", "--from", str(path)]) == 2
    assert "no .json or .json.gz log files" in capsys.readouterr().err


def test_each_reject_reason_on_handmade_lines(spark, real_rows: Path):
    """One line per reason, derived from a real row, through the same parse as ingestion."""
    from sparkify.ingest.parse import parse_lines

    good = real_rows.read_text(encoding="utf-8").splitlines()[0]
    ts = str(json.loads(good)["ts"])
    cases = {
        good: None,
        "   ": "empty_line",
        good[: len(good) // 2]: "malformed_json",
        "not json at all": "malformed_json",
        good.replace(f'"ts":{ts}', '"ts":"yesterday"'): "type_mismatch",
        good.replace('"sessionId":', '"sessionId":"x", "unused":'): "type_mismatch",
        good.replace(f'"ts":{ts}', '"ts":null'): "missing_ts",
        good.replace(f'"ts":{ts}', '"ts":4102444800000'): "ts_out_of_range",
        good.replace(f'"ts":{ts}', '"ts":1000'): "ts_out_of_range",
        good.replace('"page":"NextSong",', ""): "missing_page",
        good.replace('"userId":"30",', ""): "missing_userId",
    }
    lines = spark.createDataFrame([(text,) for text in cases], "value string")
    got = {r.value: r._reject_reason for r in parse_lines(lines).select("value", "_reject_reason").collect()}
    assert got == cases
