"""``sparkify validate``: run every suite on the current tables, record and print the results.

GX 1.x with the Spark data source: each table's DataFrame is handed to its checkpoint at run
time (catalog tables cannot be GX assets). The GX project, with its Data Docs, lives under the
lakehouse (``<lakehouse>/gx``), generated and git-ignored; the suites themselves are code in
``expectations/suites.py``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import great_expectations as gx
from great_expectations import expectations as gxe
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

from sparkify.expectations.history import (
    ResultRow,
    append_results,
    ensure_results_table,
    previous_observations,
)
from sparkify.expectations.suites import CRITICAL, SUITES, SuiteSpec
from sparkify.runtime import storage
from sparkify.runtime.errors import EXIT_CHECK_FAILED, EXIT_OK, UsageError
from sparkify.runtime.progress import say
from sparkify.runtime.settings import lakehouse_dir
from sparkify.runtime.spark import delta_version, get_spark

DATA_SOURCE = "warehouse"


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    evaluated: int
    critical_failures: list[str]
    warnings: list[str]
    skipped_reason: str | None = None

    @property
    def passed(self) -> bool:
        return not self.critical_failures and self.skipped_reason is None


def gx_root() -> Path:
    return lakehouse_dir() / "gx"


def data_docs_index() -> Path:
    return gx_root() / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def publish_data_docs(spark: Any) -> str:
    """Where readers find the Data Docs: the GX project's own site when storage is the lakehouse,
    else a copy of the site under ``<storage root>/gx/data_docs`` (through Hadoop's FileSystem).

    Great Expectations renders its site on the driver's disk; on a cluster whose storage is
    ``hdfs://`` or ``s3a://`` the copy is what other people can open.
    """
    root = storage.storage_root()
    site = data_docs_index().parent
    if storage.local_path(root) == lakehouse_dir():
        return str(data_docs_index())
    target = storage.join(root, "gx", "data_docs")
    storage.copy_folder_from_local(spark, site, target)
    return storage.join(target, "index.html")


def _context() -> Any:
    gx_root().mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(gx_root()))
    context.variables.progress_bars = {"globally": False}
    context.variables.save()
    return context


def _data_source(context: Any) -> Any:
    try:
        return context.data_sources.get(DATA_SOURCE)
    except (KeyError, ValueError):
        return context.data_sources.add_spark(name=DATA_SOURCE)


def delta_table_version(spark: SparkSession, table: str) -> int | None:
    """The table's Delta version, or None for a table that has none to pin (a view, a missing table)."""
    try:
        return delta_version(spark, table)
    except Exception:
        return None


def _observed(result: Any) -> str | None:
    """The observed value as text: a metric's value, or the share of rows outside the expectation."""
    value = result.result.get("observed_value")
    if value is None and result.result.get("unexpected_percent") is not None:
        value = f"{result.result['unexpected_percent']:.4g}% unexpected"
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, default=str)


def columns_read(expectations: list[gxe.Expectation]) -> list[str]:
    """The columns a suite's expectations read, in first-use order."""
    names: list[str] = []
    for expectation in expectations:
        for field in ("column", "column_A", "column_B"):
            value = getattr(expectation, field, None)
            if isinstance(value, str):
                names.append(value)
        names.extend(getattr(expectation, "column_list", None) or [])
    return list(dict.fromkeys(names))


def _cached_for(frame: DataFrame, expectations: list[gxe.Expectation]) -> DataFrame:
    """The columns the suite reads, computed once and cached for all its expectations.

    GX runs a Spark job per metric: without the cache every expectation rescans the table, and on
    the 27 M-row staging table that made validation the third-slowest stage. Table-level checks
    (row counts) need rows but no column: the first column stands in.
    """
    columns = columns_read(expectations) or frame.columns[:1]
    return frame.select(*columns).persist(StorageLevel.MEMORY_AND_DISK)


def run_suite(
    context: Any, spark: SparkSession, spec: SuiteSpec, run_id: str, at: datetime
) -> tuple[SuiteOutcome, list[ResultRow]]:
    """Validate one table with its suite; return the outcome and the rows for the results table."""
    if not spark.catalog.tableExists(spec.table):
        return SuiteOutcome(spec.name, 0, [], [], f"{spec.table} does not exist yet"), []
    previous = previous_observations(spark, spec.name)
    # A table that has never held rows (a cold start, a log too short for labels, nothing scored
    # yet) has nothing to check; one that held rows at the last passing run and is empty now has
    # lost them, and the suite runs (its row-count checks fail).
    if (spec.skip_when_empty or not previous) and spark.table(spec.table).isEmpty():
        return SuiteOutcome(spec.name, 0, [], [], f"nothing to check yet: {spec.table} is empty"), []
    frame = spec.frame(spark)
    expectations = spec.expectations(previous)
    frame = _cached_for(frame, expectations)
    try:
        result = _run_checkpoint(context, spec, expectations, frame)
    finally:
        frame.unpersist()
    return _outcome(result, spec, run_id, at, delta_table_version(spark, spec.table))


def _run_checkpoint(
    context: Any, spec: SuiteSpec, expectations: list[gxe.Expectation], frame: DataFrame
) -> Any:
    """Register the suite, its batch and its checkpoint (idempotently) and run it on ``frame``."""
    source = _data_source(context)
    try:
        asset = source.get_asset(spec.name)
    except LookupError:
        asset = source.add_dataframe_asset(name=spec.name)
    try:
        batch = asset.get_batch_definition("whole")
    except KeyError:
        batch = asset.add_batch_definition_whole_dataframe("whole")
    suite = context.suites.add_or_update(gx.ExpectationSuite(name=spec.name, expectations=expectations))
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=spec.name, data=batch, suite=suite)
    )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=spec.name,
            validation_definitions=[definition],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs")],
        )
    )
    return checkpoint.run(batch_parameters={"dataframe": frame})


def _outcome(
    result: Any, spec: SuiteSpec, run_id: str, at: datetime, version: int | None
) -> tuple[SuiteOutcome, list[ResultRow]]:
    """The suite's outcome and one results-table row per expectation."""
    rows: list[ResultRow] = []
    critical, warnings = [], []
    for validation in result.run_results.values():
        for item in validation.results:
            config = item.expectation_config
            name = (config.meta or {}).get("name", config.type)
            severity = getattr(config.severity, "value", str(config.severity)).lower()
            observed = _observed(item)
            if not item.success:
                (critical if severity == CRITICAL else warnings).append(f"{name} (observed {observed})")
            rows.append(
                ResultRow(
                    run_id,
                    spec.name,
                    name,
                    severity,
                    bool(item.success),
                    observed,
                    json.dumps(config.kwargs, default=str),
                    spec.table,
                    version,
                    at,
                )
            )
    return SuiteOutcome(spec.name, len(rows), critical, warnings), rows


def validate(suites: tuple[str, ...] | None = None) -> list[SuiteOutcome]:
    """Run the suites (all by default), append their results, build Data Docs, print a table."""
    known = [spec.name for spec in SUITES]
    unknown = sorted(set(suites or ()) - set(known))
    if unknown:
        raise UsageError(f"unknown suite {', '.join(unknown)}; the suites are {', '.join(known)}")
    spark = get_spark()
    ensure_results_table(spark)
    context = _context()
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    at = datetime.now(UTC).replace(tzinfo=None)
    outcomes: list[SuiteOutcome] = []
    all_rows: list[ResultRow] = []
    for spec in SUITES:
        if suites and spec.name not in suites:
            continue
        outcome, rows = run_suite(context, spark, spec, run_id, at)
        outcomes.append(outcome)
        all_rows.extend(rows)
    if all_rows:
        append_results(spark, all_rows)
    context.build_data_docs()
    _print(outcomes, run_id, publish_data_docs(spark))
    return outcomes


def _print(outcomes: list[SuiteOutcome], run_id: str, docs: str) -> None:
    lines = [f"validation run {run_id}", f"{'suite':<28} {'result':<8} {'checked':>7}  notes"]
    for outcome in outcomes:
        if outcome.skipped_reason:
            lines.append(f"{outcome.suite:<28} {'skipped':<8} {0:>7}  {outcome.skipped_reason}")
            continue
        status = "PASS" if outcome.passed else "FAIL"
        notes = "; ".join(
            [*(f"FAILED {c}" for c in outcome.critical_failures), *(f"warn {w}" for w in outcome.warnings)]
        )
        lines.append(f"{outcome.suite:<28} {status:<8} {outcome.evaluated:>7}  {notes}")
    lines.append(f"Data Docs: {docs}")
    say("\n".join(lines))


def validate_command(suites: tuple[str, ...] | None = None) -> int:
    """CLI wrapper: exit 1 when a critical expectation failed (a skipped suite is not a failure)."""
    outcomes = validate(suites)
    failed = [o for o in outcomes if o.critical_failures]
    return EXIT_CHECK_FAILED if failed else EXIT_OK
