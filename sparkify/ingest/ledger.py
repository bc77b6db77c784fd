"""What to do with each landed file, decided from the ledger's history of it and one pass over its bytes.

A file is known by its content, not only its path:
* new content: read whole;
* the bytes already ingested, unchanged, plus more lines after them (a log still being written):
  only the new lines are read;
* the same bytes as an ingested file elsewhere (a renamed copy): recorded as a duplicate, not read;
* other bytes at an ingested path (a rewrite): recorded as changed and reported; its rows are only
  replaced when asked (``--reingest PATH``);
* bytes that cannot be read as text (truncated or corrupt gzip, binary, unreadable): recorded as
  failed with the reason; tried again when the content changes or when asked (``--retry PATH``).
A decision already recorded for the same bytes is not recorded again, so a rerun adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sparkify.ingest.files import LandedFile
from sparkify.ingest.survey import Survey


class Status(StrEnum):
    INGESTED = "ingested"
    FAILED = "failed"
    DUPLICATE = "duplicate"
    CHANGED = "changed"
    SUPERSEDED = "superseded"  # an ingested row whose lines a --reingest replaced


@dataclass(frozen=True)
class LedgerEntry:
    """One ledger row, as the planner needs it."""

    uri: str
    status: Status
    batch_id: str
    size_bytes: int
    sha256: str | None
    first_line: int
    lines_read: int
    reason: str | None = None

    @property
    def last_line(self) -> int:
        return self.first_line + self.lines_read - 1


@dataclass(frozen=True)
class PathHistory:
    """The newest ledger row of a path, and its newest ingested row (the content the tables hold)."""

    latest: LedgerEntry
    ingested: LedgerEntry | None


@dataclass(frozen=True)
class Decision:
    """What this run does with one file: ``read`` lines from ``first_line``, or only ``record`` it."""

    file: LandedFile
    survey: Survey | None
    action: str  # read | record | skip | held
    status: Status | None = None
    first_line: int = 1
    replace: bool = False  # --reingest: the file's rows are replaced in one transaction
    reason: str | None = None
    duplicate_of: str | None = None

    @property
    def lines_to_read(self) -> int:
        return 0 if self.survey is None else max(0, self.survey.lines - self.first_line + 1)


def histories(entries: list[LedgerEntry]) -> dict[str, PathHistory]:
    """Per path: the newest row and the newest ingested row (batch ids sort in commit order)."""
    by_path: dict[str, list[LedgerEntry]] = {}
    for entry in entries:
        by_path.setdefault(entry.uri, []).append(entry)
    result = {}
    for uri, rows in by_path.items():
        rows.sort(key=lambda e: e.batch_id)
        ingested = [e for e in rows if e.status is Status.INGESTED]
        result[uri] = PathHistory(rows[-1], ingested[-1] if ingested else None)
    return result


def prefix_to_check(file: LandedFile, history: PathHistory | None) -> int | None:
    """Bytes whose hash tells whether ``file`` grew from what was ingested (plain files only)."""
    base = history.ingested if history else None
    if base is None or file.compressed or file.size_bytes <= base.size_bytes or base.size_bytes == 0:
        return None
    return base.size_bytes


def decide(
    survey: Survey,
    history: PathHistory | None,
    known_content: dict[str, str],
    *,
    retry: bool = False,
    reingest: bool = False,
) -> Decision:
    """The decision for one surveyed file. ``known_content``: SHA-256 -> URI of every ingested file."""
    file = survey.file
    if survey.problem:
        failed = Decision(file, survey, "record", Status.FAILED, reason=survey.problem)
        memo = history.latest if history else None
        same_as_recorded = memo is not None and memo.status is Status.FAILED and memo.sha256 == survey.sha256
        return (
            Decision(file, survey, "held", Status.FAILED, reason=memo.reason)
            if (same_as_recorded and not retry)
            else failed
        )
    if reingest:
        return Decision(file, survey, "read", Status.INGESTED, replace=True, reason="reingested")
    base = history.ingested if history else None
    memo = history.latest if history else None
    if memo is not None and memo is not base and memo.sha256 == survey.sha256 and not retry:
        # The same bytes were already judged: a duplicate stays quiet, a rewrite is reported again.
        quiet = memo.status is Status.DUPLICATE
        return Decision(file, survey, "skip" if quiet else "held", memo.status, reason=memo.reason)
    if base is None:
        original = known_content.get(survey.sha256)
        if original is not None and original != file.uri and survey.lines > 0:
            return Decision(file, survey, "record", Status.DUPLICATE, duplicate_of=original)
        return Decision(file, survey, "read", Status.INGESTED)
    if base.sha256 is None and file.size_bytes == base.size_bytes:
        return Decision(file, survey, "skip")  # recorded before content hashing: trusted by size
    if survey.sha256 == base.sha256:
        return Decision(file, survey, "skip")
    if survey.prefix_sha256 is not None and survey.prefix_sha256 == base.sha256 and survey.prefix_ends_line:
        return Decision(file, survey, "read", Status.INGESTED, first_line=base.last_line + 1, reason="grew")
    reason = (
        f"rewritten: {file.size_bytes:,} bytes, SHA-256 {survey.sha256[:12]}, where {base.size_bytes:,} bytes "
        f"with SHA-256 {(base.sha256 or '?')[:12]} were ingested in {base.batch_id}; "
        "`sparkify ingest --reingest PATH` replaces its rows"
    )
    return Decision(file, survey, "record", Status.CHANGED, reason=reason)


def plan(
    surveys: list[Survey],
    history_by_uri: dict[str, PathHistory],
    *,
    retry: frozenset[str] = frozenset(),
    reingest: frozenset[str] = frozenset(),
) -> list[Decision]:
    """Decisions for every surveyed file, in path order; a copy within the same run is a duplicate too."""
    known = {
        h.ingested.sha256: uri
        for uri, h in sorted(history_by_uri.items())
        if h.ingested is not None and h.ingested.sha256 and h.ingested.lines_read > 0
    }
    decisions = []
    for survey in sorted(surveys, key=lambda s: s.file.uri):
        uri = survey.file.uri
        decision = decide(
            survey, history_by_uri.get(uri), known, retry=uri in retry, reingest=uri in reingest
        )
        if decision.action == "read" and survey.lines > 0:
            known.setdefault(survey.sha256, uri)
        decisions.append(decision)
    return decisions
