"""The gate in front of ``sparkify score``: publish only what the latest validation passed.

Scores may be written when, for every suite that guards the scoring inputs, the latest
validation passed every critical expectation and validated the table's current Delta version
(so nothing was rebuilt after it). ``--skip-validation`` bypasses the gate; the scores then
carry ``validation_skipped = true``.
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import SparkSession

from sparkify.expectations.history import RESULTS_TABLE, latest_run_per_suite
from sparkify.expectations.suites import CRITICAL, SUITES
from sparkify.expectations.validate import data_docs_index, delta_table_version
from sparkify.runtime.errors import CheckFailed
from sparkify.runtime.progress import say


def check_gate(spark: SparkSession, as_of: date, skip: bool) -> str | None:
    """Return the validation run id the scores rely on, or raise CheckFailed saying why not."""
    if skip:
        say(
            f"WARNING: scoring {as_of} without the validation gate (--skip-validation); recorded in the scores"
        )
        return None
    guarded = [spec for spec in SUITES if spec.gates_scoring]
    latest = latest_run_per_suite(spark, [spec.name for spec in guarded])
    run_ids = set()
    for spec in guarded:
        rows = latest.get(spec.name)
        if not rows:
            raise CheckFailed(f"suite {spec.name} has never been validated: run `sparkify validate` first")
        run_id = rows[0]["run_id"]
        run_ids.add(run_id)
        failed = [r["expectation"] for r in rows if not r["success"] and r["severity"] == CRITICAL]
        if failed:
            raise CheckFailed(
                f"the latest validation (run {run_id}) of suite {spec.name} failed: {', '.join(failed)}; "
                f'nothing was scored. See why: sparkify sql "select expectation, observed_value, details from '
                f"{RESULTS_TABLE} where run_id = '{run_id}' and not success\" or {data_docs_index()}"
            )
        validated = rows[0]["table_version"]
        current = delta_table_version(spark, spec.table)
        if validated is not None and current is not None and current != validated:
            raise CheckFailed(
                f"suite {spec.name} validated version {validated} of {spec.table}, which is now at version "
                f"{current}: the data changed after validation. Run `sparkify validate` before scoring."
            )
    return sorted(run_ids)[-1]
