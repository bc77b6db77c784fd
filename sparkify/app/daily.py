"""``sparkify daily``: the one scheduled command, in one process (one JVM, one lock).

ingest what landed since the last run -> dbt build (incremental: the new batch and the as-of
dates it can change; the staging tests read the new rows' dates, or all with ``--full-checks``)
-> validate the scoring inputs -> score the newest as-of date (written, audited, then published)
-> compact and vacuum the Delta tables (OPTIMIZE and VACUUM LITE, ``sparkify maintain --vacuum
lite``; ``--no-maintain`` skips it). Training is not part of it: a model is retrained on its own
schedule (``sparkify train``), and the day's scores come from the champion. It ends with one summary line for the scheduler's log, and the exit codes of every
command: 0 done, 1 a check failed or a landed file was refused (the rest still landed and was
scored), 2 usage, 3 another writer holds the lock.
"""

from __future__ import annotations

import time

from sparkify.app.jobs import build_warehouse, score_job
from sparkify.app.maintain import maintain_tables
from sparkify.app.pipeline import stop_on_failure
from sparkify.expectations.suites import SCORING_INPUT_SUITES
from sparkify.expectations.validate import validate
from sparkify.ingest.command import run_ingest
from sparkify.runtime.errors import EXIT_CHECK_FAILED, CheckFailed
from sparkify.runtime.progress import say, step


def run_daily(maintain: bool = True, full_checks: bool = False) -> int:
    """Run the day's steps in order; stop before publishing when the build or validation fails."""
    started = time.monotonic()
    ingested = run_ingest(None)
    with step("dbt build"):
        if build_warehouse(full_checks=full_checks) != 0:
            raise CheckFailed("dbt build failed; see the dbt output above; nothing was scored")
    with step("validate the scoring inputs"):
        outcomes = validate(SCORING_INPUT_SUITES)
    stop_on_failure(outcomes)
    scored = score_job()
    maintained = maintain_tables("lite") if maintain else 0
    refused = len(ingested.problems)
    say(
        f"daily: {ingested.files_new} new files, {ingested.rows_kept:,} rows kept, "
        f"{ingested.rows_rejected:,} quarantined, {refused} refused; build passed; "
        f"{len(outcomes)} suites passed; {scored.users:,} users scored at {scored.as_of_date} "
        f"by {scored.model_version}; {maintained} tables maintained; {time.monotonic() - started:.0f} s"
    )
    return EXIT_CHECK_FAILED if refused else 0
