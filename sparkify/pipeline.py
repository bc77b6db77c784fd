"""``sparkify run``: every step that exists, in order, in one process (one JVM, one lock)."""

from __future__ import annotations

import time
from argparse import Namespace

from sparkify.dbt_runner import run_dbt
from sparkify.errors import CheckFailed
from sparkify.generator.cli import generate_command
from sparkify.ingest.command import run_ingest
from sparkify.ingest.files import discover
from sparkify.progress import say, step
from sparkify.runtime.settings import ANALYTICS_SCHEMA, RAW_SCHEMA, lakehouse_dir, raw_landing_dir
from sparkify.runtime.spark import get_spark


def run_pipeline(scale: str = "mini", seed: int = 1) -> int:
    """Generate (only when nothing has landed), ingest, build; then print what was built."""
    started = time.monotonic()
    landing = raw_landing_dir()
    if not discover(landing):
        with step(f"generate a {scale}-scale log (seed {seed}) into {landing}"):
            generate_command(
                Namespace(
                    scale=scale,
                    users=None,
                    days=None,
                    seed=seed,
                    out=landing,
                    start=None,
                    end=None,
                    gzip=False,
                    corrupt_rate=0.0,
                    workers=0,
                    quiet=True,
                )
            )
    run_ingest(None)
    with step("dbt build"):
        code = run_dbt(["build"])
    if code != 0:
        raise CheckFailed("dbt build failed; see the dbt output above (and target/run_results.json)")
    _summary(time.monotonic() - started)
    return 0


def _summary(seconds: float) -> None:
    spark = get_spark()
    lines = [f"sparkify run finished in {seconds:.0f} s; lakehouse: {lakehouse_dir()}"]
    for schema in (RAW_SCHEMA, ANALYTICS_SCHEMA):
        for row in spark.sql(f"show tables in {schema}").collect():
            if row.isTemporary:
                continue
            name = f"{schema}.{row.tableName}"
            count = spark.table(name).count()
            lines.append(f"  {name:<45} {count:>12,} rows")
    say("\n".join(lines))
