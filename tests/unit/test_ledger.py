"""The ledger's decisions per file, from its history and one pass over the bytes (no Spark)."""

from __future__ import annotations

import gzip
from pathlib import Path

from sparkify.ingest.files import discover, file_uri
from sparkify.ingest.ledger import LedgerEntry, Status, histories, plan, prefix_to_check
from sparkify.ingest.survey import survey

LINES = b"".join(b'{"n":%d}\n' % i for i in range(20))


def _entry(
    path: Path, content: bytes, lines: int, status: Status = Status.INGESTED, batch: str = "b000000000001"
):
    import hashlib

    return LedgerEntry(
        file_uri(path), status, batch, len(content), hashlib.sha256(content).hexdigest(), 1, lines
    )


def _decide(folder: Path, entries: list[LedgerEntry], **kwargs):
    history = histories(entries)
    landed = discover(folder)
    surveys = [survey(f, prefix_to_check(f, history.get(f.uri))) for f in landed]
    return {d.file.name: d for d in plan(surveys, history, **kwargs)}


def test_lines_are_newline_terminated_and_a_lone_carriage_return_is_inside_a_line(tmp_path: Path) -> None:
    (tmp_path / "crlf.json").write_bytes(b"a\r\nb\r\nc")
    (tmp_path / "cr.json").write_bytes(b"a\rb\rc\r")
    (tmp_path / "empty.json").write_bytes(b"")
    counts = {f.name: survey(f).lines for f in discover(tmp_path)}
    assert counts == {"crlf.json": 3, "cr.json": 1, "empty.json": 0}


def test_damage_is_found_before_spark_reads(tmp_path: Path) -> None:
    whole = gzip.compress(LINES)
    (tmp_path / "truncated.json.gz").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "notgzip.json.gz").write_bytes(b"plain text\n")
    (tmp_path / "binary.json").write_bytes(b"\x00\x01\x02")
    (tmp_path / "two-members.json.gz").write_bytes(gzip.compress(b"a\n") + gzip.compress(b"b\nc\n"))
    found = {f.name: survey(f) for f in discover(tmp_path)}
    assert found["truncated.json.gz"].problem.startswith("truncated_gzip")
    assert found["notgzip.json.gz"].problem.startswith("corrupt_gzip")
    assert found["binary.json"].problem.startswith("not_text")
    assert found["two-members.json.gz"].problem is None and found["two-members.json.gz"].lines == 3


def test_new_grown_copied_rewritten_and_failed_files(tmp_path: Path) -> None:
    grown = tmp_path / "grown.json"
    grown.write_bytes(LINES + b'{"n":20}\n{"n":21}\n')
    (tmp_path / "copy.json").write_bytes(LINES)
    rewritten = tmp_path / "rewritten.json"
    rewritten.write_bytes(b'{"other":1}\n')
    (tmp_path / "same.json").write_bytes(b'{"same":1}\n')
    (tmp_path / "new.json").write_bytes(b'{"new":1}\n')
    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(gzip.compress(LINES)[:30])
    entries = [
        _entry(grown, LINES, 20),
        _entry(rewritten, b'{"was":1}\n', 1),
        _entry(tmp_path / "same.json", b'{"same":1}\n', 1),
    ]
    decided = _decide(tmp_path, entries)
    assert (
        decided["grown.json"].action,
        decided["grown.json"].first_line,
        decided["grown.json"].lines_to_read,
    ) == (
        "read",
        21,
        2,
    )
    assert decided["copy.json"].status is Status.DUPLICATE and decided["copy.json"].duplicate_of == file_uri(
        grown
    )
    assert (
        decided["rewritten.json"].status is Status.CHANGED
        and "--reingest" in decided["rewritten.json"].reason
    )
    assert decided["same.json"].action == "skip"
    assert decided["new.json"].action == "read" and decided["new.json"].first_line == 1
    assert decided["broken.json.gz"].status is Status.FAILED and decided["broken.json.gz"].action == "record"


def test_a_recorded_failure_is_held_until_the_content_changes_or_a_retry(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json.gz"
    content = gzip.compress(LINES)[:30]
    broken.write_bytes(content)
    failed = [_entry(broken, content, 0, Status.FAILED)]
    assert _decide(tmp_path, failed)["broken.json.gz"].action == "held"
    assert _decide(tmp_path, failed, retry=frozenset({file_uri(broken)}))["broken.json.gz"].action == "record"
    broken.write_bytes(gzip.compress(LINES))
    fixed = _decide(tmp_path, failed)["broken.json.gz"]
    assert fixed.action == "read" and fixed.lines_to_read == 20


def test_uris_are_quoted_as_spark_names_files() -> None:
    assert file_uri(Path("/land/a b%c#d?e+f.json")) == "file:/land/a%20b%25c%23d%3Fe+f.json"
    assert file_uri(Path("/land/ü é.json")) == "file:/land/ü%20é.json"
