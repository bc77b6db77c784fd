"""``sparkify ingest``: find new files, ingest them as one batch, print what happened."""

from __future__ import annotations

from pathlib import Path

from sparkify.ingest.files import discover
from sparkify.ingest.loader import IngestResult, ensure_tables, ingest_files, new_files
from sparkify.runtime.errors import UsageError
from sparkify.runtime.progress import say, step
from sparkify.runtime.settings import raw_landing_dir
from sparkify.runtime.spark import get_spark


def run_ingest(source: Path | None = None) -> IngestResult:
    """Ingest every not-yet-ingested log file under ``source`` (default: the landing folder)."""
    where = source or raw_landing_dir()
    landed = discover(where)
    if source is not None and not landed:
        raise UsageError(f"no .json or .json.gz log files at {where}")
    spark = get_spark()
    ensure_tables(spark)
    todo = new_files(spark, landed)
    if not landed:
        say(f"ingest: nothing has landed in {where} yet")
    with step(f"ingest {len(todo)} new of {len(landed)} files from {where}"):
        result = ingest_files(spark, todo, len(landed))
    reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(result.rejected_by_reason.items())) or "none"
    say(
        f"ingest: {result.files_new} new files, {result.lines_read:,} lines read = {result.rows_kept:,} kept "
        f"+ {result.rows_rejected:,} rejected (rejected by reason: {reasons})"
    )
    if result.unknown_fields:
        fields = ", ".join(f"{name} {count:,}" for name, count in sorted(result.unknown_fields.items()))
        say(
            f"ingest: fields outside the log format, ignored (lines, among each file's first lines): {fields}"
        )
    return result


def ingest_command(source: Path | None, replay: bool = False, reason: str | None = None) -> int:
    """CLI wrapper: ingest new files, or (``--replay-rejected``) take back what the parser now accepts."""
    if replay:
        from sparkify.ingest.replay import replay_command

        if source is not None:
            raise UsageError("--replay-rejected reads the quarantine, not files: drop --from")
        replay_command(get_spark(), reason)
        return 0
    if reason is not None:
        raise UsageError("--reason goes with --replay-rejected")
    run_ingest(source)
    return 0
