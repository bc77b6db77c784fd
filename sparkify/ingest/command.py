"""``sparkify ingest``: survey the landed files, read what is new as one batch, say what happened."""

from __future__ import annotations

from pathlib import Path

from sparkify.ingest.files import discover, needs_spark
from sparkify.ingest.loader import IngestResult, ingest
from sparkify.ingest.tables import ensure_tables
from sparkify.runtime.errors import EXIT_CHECK_FAILED, EXIT_OK, UsageError
from sparkify.runtime.progress import say, step
from sparkify.runtime.settings import raw_landing
from sparkify.runtime.spark import get_spark


def run_ingest(
    source: str | Path | None = None, *, retry: list[str] = (), reingest: list[str] = ()
) -> IngestResult:
    """Ingest what is new under ``source`` (default: the landing); print one summary.

    ``source`` and the files named are local paths or URIs (``hdfs://``, ``s3a://``: listed and
    read through Hadoop's FileSystem). ``retry``: damaged files to read again although their
    content did not change; ``reingest``: rewritten files whose rows are replaced by their current
    content.
    """
    where = source or raw_landing()
    # Spark starts first only when listing needs it: a local typo still fails fast, without a JVM.
    spark = get_spark() if any(needs_spark(x) for x in [where, *retry, *reingest]) else None
    landed = discover(where, spark)
    if source is not None and not landed:
        raise UsageError(f"no .json or .json.gz log files at {where}")
    landed_uris = {f.uri for f in landed}
    named = {item: [f.uri for f in discover(item, spark)] for item in [*retry, *reingest]}
    missing = [item for item, uris in named.items() if len(uris) != 1 or uris[0] not in landed_uris]
    if missing:
        raise UsageError(f"not a landed log file under {where}: {', '.join(missing)}")
    retry_uris = frozenset(named[item][0] for item in retry)
    reingest_uris = frozenset(named[item][0] for item in reingest)
    spark = spark or get_spark()
    ensure_tables(spark)
    if not landed:
        say(f"ingest: nothing has landed in {where} yet")
    with step(f"ingest: survey {len(landed)} files from {where} and read what is new"):
        result = ingest(spark, landed, retry=retry_uris, reingest=reingest_uris)
    _report(result)
    return result


def _report(result: IngestResult) -> None:
    reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(result.rejected_by_reason.items())) or "none"
    grown = f" ({result.grown} of them grown: only their new lines)" if result.grown else ""
    say(
        f"ingest: {result.files_new} files read{grown}, {result.lines_read:,} lines = {result.rows_kept:,} kept "
        f"+ {result.rows_rejected:,} rejected (rejected by reason: {reasons})"
        + (f"; batch {result.batch_id}" if result.batch_id else "; nothing new")
    )
    if result.unknown_fields:
        fields = ", ".join(f"{name} {count:,}" for name, count in sorted(result.unknown_fields.items()))
        say(
            f"ingest: fields outside the log format, ignored (lines, among each file's first lines): {fields}"
        )
    for path, original in result.duplicates:
        say(f"ingest: duplicate, not read: {path} has the same bytes as {original}")
    for path, status, reason in result.problems:
        say(f"ingest: {status.upper()}: {path}: {reason}")
    for path, status, reason in result.held_back:
        say(f"ingest: still held back ({status}, unchanged since recorded): {path}: {reason}")


def ingest_command(
    source: str | None,
    replay: bool = False,
    reason: str | None = None,
    retry: list[str] = (),
    reingest: list[str] = (),
) -> int:
    """CLI wrapper: exit 1 when a file was refused this run (damaged or rewritten), after the rest landed."""
    if replay:
        from sparkify.ingest.replay import replay_command

        if source is not None or retry or reingest:
            raise UsageError(
                "--replay-rejected reads the quarantine, not files: drop --from, --retry, --reingest"
            )
        replay_command(get_spark(), reason)
        return EXIT_OK
    if reason is not None:
        raise UsageError("--reason goes with --replay-rejected")
    result = run_ingest(source, retry=list(retry), reingest=list(reingest))
    return EXIT_CHECK_FAILED if result.problems else EXIT_OK
