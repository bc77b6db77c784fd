"""Real logs in every dialect: numeric spellings, BOM, CRLF, gzip, the quarantine replay, cold starts.

Each file is written by the test from real rows of the Sparkify mini log, in the ways published
eventsim-derived logs write them, and goes through the real ingestion (Spark, Delta) and staging (dbt).
"""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from sparkify.app.cli import main
from sparkify.ingest.command import run_ingest
from sparkify.ingest.replay import replay_rejected
from sparkify.ingest.tables import EVENTS_TABLE, LEDGER_TABLE, REJECTED_TABLE, ensure_tables
from sparkify.runtime.dbt import run_dbt
from tests.conftest import drop_schemas

ROWS = 40  # real rows per dialect file


def _real_lines(real_rows: Path, count: int = ROWS) -> list[str]:
    """The first ``count`` logged-in rows of the real log, as the canonical lines."""
    lines = [line for line in real_rows.read_text(encoding="utf-8").splitlines() if '"userId":""' not in line]
    return lines[:count]


def _spell(line: str, dialect: str) -> str:
    """The same event, written the way another producer writes it."""
    event = json.loads(line)
    if dialect == "float_integers":  # 1540919166796.0, as several eventsim-derived logs write them
        text = json.dumps(event)
        for name in ("ts", "registration", "sessionId", "itemInSession", "status"):
            text = re.sub(rf'"{name}": (\d+)', rf'"{name}": \1.0', text)
        return text
    if dialect == "exponent_integers":  # 1.538352117E12
        text = json.dumps(event)
        for name in ("ts", "registration"):
            text = re.sub(rf'"{name}": (\d+)', lambda m, n=name: f'"{n}": {float(m.group(1)):.12E}', text)
        return text
    if dialect == "string_numbers":  # "200", "277.89016"
        for name in ("ts", "registration", "sessionId", "itemInSession", "status", "length"):
            if event.get(name) is not None:
                event[name] = str(event[name])
        return json.dumps(event)
    if dialect == "float_user_id":  # only userId differs: 30.0, through the canonical parse
        return json.dumps(event).replace(f'"userId": "{event["userId"]}"', f'"userId": {event["userId"]}.0')
    if dialect == "numeric_user_id":  # 30 instead of "30", and a field a newer release added
        event["userId"] = int(event["userId"])
        event["upstreamField"] = "new in this release"
        return json.dumps(event)
    raise ValueError(dialect)


DIALECTS = ("float_integers", "exponent_integers", "string_numbers", "float_user_id", "numeric_user_id")


@pytest.fixture
def empty_layers(spark):
    drop_schemas(spark)
    return spark


def test_every_dialect_is_kept_and_staged_as_its_canonical_event(empty_layers, real_rows: Path, test_home):
    spark = empty_layers
    landing = test_home / "dialects"
    landing.mkdir(exist_ok=True)
    canonical = _real_lines(real_rows)
    (landing / "canonical.json").write_text("\n".join(canonical) + "\n", encoding="utf-8")
    for dialect in DIALECTS:
        (landing / f"{dialect}.json").write_text(
            "\n".join(_spell(line, dialect) for line in canonical) + "\n", encoding="utf-8"
        )
    # A byte-order mark at the start of the file and at the start of a line mid-file; CRLF line ends.
    bom = ["\ufeff" + canonical[0], *canonical[1:20], "\ufeff" + canonical[20], *canonical[21:]]
    (landing / "bom_crlf.json").write_bytes("\r\n".join(bom).encode("utf-8") + b"\r\n")
    with gzip.open(landing / "float_integers_gzip.json.gz", "wt", encoding="utf-8") as handle:
        handle.write("\n".join(_spell(line, "float_integers") for line in canonical) + "\n")

    result = run_ingest(landing)
    assert result.files_new == 8 and result.rows_rejected == 0, result.rejected_by_reason
    assert result.rows_kept == 8 * ROWS
    assert result.unknown_fields == {"upstreamField": ROWS}  # ignored, and counted

    raw = spark.table(EVENTS_TABLE)
    fields = [c for c in raw.columns if not c.startswith("_")]
    reference = raw.where(F.col("_source_file").like("%/canonical.json")).select(*fields)
    for name in (*DIALECTS, "bom_crlf", "float_integers_gzip"):
        variant = raw.where(F.col("_source_file").like(f"%/{name}.json%")).select(*fields)
        assert variant.exceptAll(reference).isEmpty() and reference.exceptAll(variant).isEmpty(), name

    assert run_dbt(["build", "--select", "stg_sparkify__events"]) == 0
    staged = spark.table("analytics.stg_sparkify__events")
    # 8 files x 40 lines are 40 events: every spelling got its canonical line's event_id and was deduplicated.
    assert staged.count() == staged.select("event_id").distinct().count() == ROWS
    keys = {(str(e["userId"]), e["sessionId"], e["itemInSession"]) for e in map(json.loads, canonical)}
    assert {(r.user_id, r.session_id, r.item_in_session) for r in staged.collect()} == keys


def test_real_damage_stays_in_quarantine_with_its_reason(empty_layers, real_rows: Path, test_home):
    spark = empty_layers
    landing = test_home / "dialects-damaged"
    landing.mkdir(exist_ok=True)
    good = _real_lines(real_rows, 1)[0]
    damaged = {
        good.replace('"sessionId":29', '"sessionId":29.5'): "type_mismatch",  # a non-integral id
        good.replace('"registration":1538173362000', '"registration":"soon"'): "type_mismatch",
        good.replace('"length":277.89016', '"length":"long"'): "type_mismatch",
        good.replace('"status":200', '"status":true'): "type_mismatch",
        good.replace('"ts":1538352117000', '"ts":1538352117000.5'): "type_mismatch",
        good[:40]: "malformed_json",
        "\ufeff": "empty_line",
        good + " " + good: "trailing_content",  # two events, whatever space lies between them
        good + "\t" + good: "trailing_content",
        good + "}{": "trailing_content",
    }
    # Braces inside a value are the value's: the line is kept.
    braced = good.replace('"song":"Rockpools"', '"song":"Rockpools {live} }"')
    assert all(line != good for line in damaged) and braced != good
    (landing / "damaged.json").write_text("\n".join([good, braced, *damaged]) + "\n", encoding="utf-8")
    result = run_ingest(landing)
    assert result.rows_kept == 2 and result.rows_rejected == len(damaged)
    got = {
        r._raw_line: r._reject_reason
        for r in spark.table(REJECTED_TABLE).select("_raw_line", "_reject_reason").collect()
    }
    assert got == {_masked(line): reason for line, reason in damaged.items()}


def _masked(line: str) -> str:
    """The line as the quarantine keeps it: the values of the name fields replaced by "*"."""
    return re.sub(r'("(?:firstName|lastName)"\s*:\s*)"(?:[^"\\]|\\.)*"', r'\1"*"', line)


def test_replay_recovers_what_an_older_parser_quarantined_and_is_idempotent(
    empty_layers, real_rows: Path, test_home
):
    """The quarantine and ledger an older, strict parser left for a float-integer log, replayed today."""
    spark = empty_layers
    ensure_tables(spark)
    lines = [_spell(line, "float_integers") for line in _real_lines(real_rows, 25)]
    lines.append('{"ts": "not a time", "userId": "1"}')  # real damage: stays
    uri = "file:/landing/older-parser/2018-10-01.json"
    at = datetime(2018, 12, 1, tzinfo=UTC).replace(tzinfo=None)
    spark.createDataFrame(
        [
            (line, "type_mismatch", uri, number, at, "20181201T000000-old")
            for number, line in enumerate(lines, 1)
        ],
        "_raw_line string, _reject_reason string, _source_file string, _source_line bigint, "
        "_ingested_at timestamp, _batch_id string",
    ).write.format("delta").mode("append").saveAsTable(REJECTED_TABLE)
    spark.createDataFrame(
        [(uri, 1, at, len(lines), 0, len(lines), "20181201T000000-old", at)],
        "source_file string, size_bytes bigint, modified_at timestamp, lines_read bigint, rows_kept bigint, "
        "rows_rejected bigint, batch_id string, ingested_at timestamp",
    ).write.format("delta").mode("append").saveAsTable(LEDGER_TABLE)

    first = replay_rejected(spark, reason="type_mismatch")
    assert (
        first.reparsed == 26
        and first.recovered == 25
        and first.still_rejected_by_reason == {"type_mismatch": 1}
    )
    recovered = spark.table(EVENTS_TABLE).where(F.col("_source_file") == uri)
    assert recovered.count() == 25
    lineage = {(r._source_line, r._batch_id) for r in recovered.select("_source_line", "_batch_id").collect()}
    assert lineage == {(n, "20181201T000000-old") for n in range(1, 26)}  # the original lineage
    ledger = spark.table(LEDGER_TABLE).where(F.col("source_file") == uri).first()
    assert (ledger.lines_read, ledger.rows_kept, ledger.rows_rejected) == (26, 25, 1)

    again = replay_rejected(spark)
    assert again.recovered == 0 and again.reparsed == 1
    assert spark.table(EVENTS_TABLE).where(F.col("_source_file") == uri).count() == 25
    assert spark.table(REJECTED_TABLE).count() == 1

    # Staging sees the recovered rows although their ingestion batch is old: they were loaded by the replay.
    assert run_dbt(["build", "--select", "stg_sparkify__events"]) == 0
    assert spark.table("analytics.stg_sparkify__events").where(F.col("source_file") == uri).count() == 25
    assert main(["ingest", "--replay-rejected", "--reason", "type_mismatch"]) == 0


def _only_logged_out(real_rows: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    lines = [line for line in real_rows.read_text(encoding="utf-8").splitlines() if '"userId":""' in line]
    (out / "logged_out.json").write_text("\n".join(lines) + "\n", encoding="utf-8")


# The two extremes in the default run; a log of ten days, past one but short of the history the
# spine needs, in the slow suite (`make test-all`): the same message from the same check.
@pytest.mark.parametrize(
    "case",
    ["one_day", pytest.param("shorter_than_min_history", marks=pytest.mark.slow), "no_identified_user"],
)
def test_small_logs_stop_after_the_build_with_what_training_needs(
    case: str, empty_layers, real_rows: Path, test_home, monkeypatch, capsys
):
    landing = test_home / f"cold-{case}"
    if case == "no_identified_user":
        _only_logged_out(real_rows, landing)
    else:
        days = "1" if case == "one_day" else "10"
        assert (
            main(
                ["generate", "--users", "15", "--days", days, "--seed", "4", "--out", str(landing), "--quiet"]
            )
            == 0
        )
    monkeypatch.setenv("SPARKIFY_RAW_DIR", str(landing))
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "✔ dbt build" in err, err[-2000:]
    assert "sparkify train needs at least 22 daily labelled as-of dates" in err
    assert "min_history_days" in err and "Traceback" not in err
    assert main(["train"]) == 2
    assert "labelled as-of dates" in capsys.readouterr().err


def test_an_empty_landing_folder_ingests_builds_and_says_what_is_missing(
    empty_layers, test_home, monkeypatch, capsys
):
    landing = test_home / "cold-empty"
    landing.mkdir(exist_ok=True)
    monkeypatch.setenv("SPARKIFY_RAW_DIR", str(landing))
    assert main(["ingest"]) == 0
    assert "nothing has landed" in capsys.readouterr().err
    assert main(["build"]) == 0
    assert main(["validate"]) == 0
    out = capsys.readouterr()
    assert out.err.count("nothing to check yet") >= 4, out.err
    assert main(["train"]) == 2
    assert "the training set has 0 labelled as-of dates and 0 churners" in capsys.readouterr().err
