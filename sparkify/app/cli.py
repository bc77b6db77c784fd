"""The ``sparkify`` command: one entry point for every step of the warehouse.

Exit codes: 0 ok; 1 a check failed (dbt test, expectation, validation gate); 2 usage or input
error; 3 the embedded metastore is busy (another command is running).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

from sparkify.runtime.errors import EXIT_CHECK_FAILED, EXIT_UNAVAILABLE, EXIT_USAGE, CheckFailed, UsageError
from sparkify.runtime.lock import MetastoreBusyError, command_line, metastore_lock
from sparkify.runtime.settings import SettingsError, active_target
from sparkify.runtime.version import __version__


def _absolute(text: str) -> Path:
    """Paths given on the command line are relative to where the user stands, not the project."""
    return Path(text).expanduser().absolute()


def _location(text: str) -> str:
    """A landing on the command line: a URI as it is, a path made absolute from where the user stands."""
    return text if urlparse(text).scheme else str(_absolute(text))


def _cmd_generate(args: argparse.Namespace) -> int:
    from sparkify.generator.cli import generate_command

    return generate_command(args)


def _cmd_ingest(args: argparse.Namespace) -> int:
    from sparkify.ingest.command import ingest_command

    return ingest_command(
        args.source, replay=args.replay_rejected, reason=args.reason, retry=args.retry, reingest=args.reingest
    )


def _cmd_build(args: argparse.Namespace) -> int:
    from sparkify.app.jobs import build_warehouse

    return build_warehouse(args.dbt_args, full_checks=args.full_checks, unit_tests=args.unit_tests)


def _cmd_maintain(args: argparse.Namespace) -> int:
    from sparkify.app.maintain import maintain_command

    return maintain_command(args.vacuum)


def _cmd_sql(args: argparse.Namespace) -> int:
    from sparkify.app.sql_shell import run_queries

    return run_queries(args.query, fmt=args.format, limit=args.limit)


def _cmd_run(args: argparse.Namespace) -> int:
    from sparkify.app.pipeline import run_pipeline
    from sparkify.ml.training.pipelines import requested_families

    families = requested_families(args.families)  # a misspelt family fails now, not after the build
    return run_pipeline(scale=args.scale, seed=args.seed, families=families)


def _cmd_daily(args: argparse.Namespace) -> int:
    from sparkify.app.daily import run_daily

    return run_daily(maintain=not args.no_maintain, full_checks=args.full_checks)


def _cmd_validate(args: argparse.Namespace) -> int:
    from sparkify.expectations.validate import validate_command

    return validate_command(tuple(args.suite) if args.suite else None)


def _cmd_train(args: argparse.Namespace) -> int:
    from sparkify.app.jobs import train_job

    train_job(promote_new=args.promote, families=args.families)
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    from sparkify.app.jobs import score_job

    score_job(args.as_of, skip_validation=args.skip_validation)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from sparkify.ml.reporting.report import report_command

    return report_command()


def _cmd_cluster(args: argparse.Namespace) -> int:
    from sparkify.cluster.command import cluster_command

    try:
        return cluster_command(args.action)
    except (RuntimeError, OSError) as exc:  # a part did not start or answer: what, and its log's tail
        print(f"cluster: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE


def _family_names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _add_families_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--families",
        type=_family_names,
        default=None,
        metavar="NAME,...",
        help="train only these model families (default: all of logistic_regression, random_forest, "
        "gradient_boosted_trees, xgboost, signal_logistic); calibrated_rule, the baseline a model "
        "must beat to be published, is always trained",
    )


FULL_CHECKS_HELP = (
    "run the raw and staging event tests on every row, not only on the rows no passing build has checked "
    "(weekly, or after a change to the tests)"
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with ``--help`` on every subcommand."""
    parser = argparse.ArgumentParser(
        prog="sparkify",
        description="Sparkify churn feature warehouse: dbt + Spark SQL on Delta Lake.",
        epilog="Exit codes: 0 ok, 1 a check failed, 2 usage or input error, 3 metastore busy or cluster unavailable.",
    )
    parser.add_argument("--version", action="version", version=f"sparkify {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    gen = sub.add_parser("generate", help="write a synthetic Sparkify event log with ground truth")
    from sparkify.generator.cli import add_generate_arguments

    add_generate_arguments(gen, _absolute)
    gen.set_defaults(handler=_cmd_generate, needs_spark=False)

    ing = sub.add_parser("ingest", help="append new raw log files to the bronze Delta table")
    ing.add_argument(
        "--from",
        dest="source",
        type=_location,
        default=None,
        metavar="PATH|URI",
        help="a file, folder or glob of .json/.json.gz logs (default: the landing folder, $SPARKIFY_RAW_DIR)",
    )
    ing.add_argument(
        "--replay-rejected",
        action="store_true",
        help="re-parse the quarantine with the current parser and move the lines that now parse into the "
        "raw table, with their original lineage (no new files are read)",
    )
    ing.add_argument(
        "--reason", default=None, metavar="R", help="with --replay-rejected: only lines rejected for R"
    )
    ing.add_argument(
        "--retry",
        type=_location,
        action="append",
        default=[],
        metavar="PATH|URI",
        help="read a file recorded as failed again, although its content did not change (repeatable)",
    )
    ing.add_argument(
        "--reingest",
        type=_location,
        action="append",
        default=[],
        metavar="PATH|URI",
        help="a file rewritten since it was ingested: replace its rows with its current lines, in one Delta "
        "commit per table (repeatable); the next build refreshes the warehouse in full",
    )
    ing.set_defaults(handler=_cmd_ingest, needs_spark=True)

    bld = sub.add_parser(
        "build",
        help="dbt build with the project's profile (extra arguments go to dbt)",
        description="Run `dbt build` in-process; any further arguments (e.g. --select, --full-refresh) go to dbt.",
        usage="sparkify build [-h] [--full-checks] [--unit-tests] [DBT_ARGS ...]",
    )
    bld.add_argument("--full-checks", action="store_true", help=FULL_CHECKS_HELP)
    bld.add_argument(
        "--unit-tests",
        action="store_true",
        help="run dbt's unit tests too (left out by default: they check the SQL, not the data; "
        "a plain `dbt build` and `make test` run them)",
    )
    bld.set_defaults(handler=_cmd_build, needs_spark=True, dbt_args=[])

    val = sub.add_parser(
        "validate",
        help="run the Great Expectations suites and record the results",
        description="Validate events, features, training set and scores; exit 1 when a critical expectation fails.",
    )
    val.add_argument(
        "--suite", action="append", metavar="NAME", help="validate only this suite (repeatable; default: all)"
    )
    val.set_defaults(handler=_cmd_validate, needs_spark=True)

    trn = sub.add_parser(
        "train",
        help="train churn models on the point-in-time training set",
        description="Fit logistic regression, random forest, GBT, XGBoost and the five-column signal logistic on a purged time split; track the run in MLflow and register the model as sparkify_churn.",
    )
    trn.add_argument(
        "--promote", action="store_true", help="make the new model the champion whatever its held-out score"
    )
    _add_families_option(trn)
    trn.set_defaults(handler=_cmd_train, needs_spark=True)

    scr = sub.add_parser(
        "score",
        help="score active users with the champion model into analytics.churn_scores",
        description="The scheduled job: score every active user at an as-of date and MERGE into analytics.churn_scores.",
    )
    scr.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=None,
        metavar="DATE",
        help="as-of date to score (default: the latest in analytics.fct_user_features)",
    )
    scr.add_argument(
        "--skip-validation",
        action="store_true",
        help="emergencies only: score even when validation failed or is stale (recorded in the scores table)",
    )
    scr.set_defaults(handler=_cmd_score, needs_spark=True)

    rep = sub.add_parser(
        "report",
        help="write the HTML churn report",
        description="Write the self-contained HTML churn report.",
    )
    rep.set_defaults(handler=_cmd_report, needs_spark=True)

    mnt = sub.add_parser(
        "maintain",
        help="OPTIMIZE and VACUUM every Delta table (retention: dbt var vacuum_retention_hours)",
        description="Compact every Delta table of the warehouse, then VACUUM it. --vacuum full (the default, "
        "weekly) lists the table folders and also removes files no commit references (left by a killed "
        "writer); --vacuum lite (what sparkify daily runs) reads only the transaction log.",
    )
    mnt.add_argument("--vacuum", choices=("full", "lite"), default="full", help="VACUUM depth (default full)")
    mnt.set_defaults(handler=_cmd_maintain, needs_spark=True)

    sql = sub.add_parser(
        "sql",
        help="run Spark SQL queries against the warehouse and print the results",
        description="Run each statement in order in one session and print its result; with --format json "
        "and several statements, one array holds each statement's rows.",
    )
    sql.add_argument(
        "query", nargs="+", help='the SQL, e.g. "show tables in analytics"; several run in order'
    )
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format")
    sql.add_argument("--limit", type=int, default=1000, help="print at most this many rows (default 1000)")
    sql.set_defaults(handler=_cmd_sql, needs_spark=True)

    clu = sub.add_parser(
        "cluster",
        help="start, stop or show the project's own Spark cluster (PostgreSQL metastore, master, 2 workers, Thrift)",
        description="up: start what is not running and wait until each part answers; status: what runs "
        "(exit 0 all, 1 some, 3 none); down: stop exactly what up started, keeping the data. "
        "Then use the cluster target: DBT_TARGET=cluster sparkify build (docs/cluster.md).",
    )
    clu.add_argument("action", choices=("up", "down", "status"))
    clu.set_defaults(handler=_cmd_cluster, needs_spark=False)

    run = sub.add_parser(
        "run",
        help="the whole pipeline end to end",
        description="Generate a log if the landing folder is empty, then ingest and build; prints a summary.",
    )
    run.add_argument(
        "--scale", default="mini", help="scale of the log generated when none has landed (default mini)"
    )
    run.add_argument(
        "--seed", type=int, default=1, help="seed of the generated log (default 1, the calibration reference)"
    )
    _add_families_option(run)
    run.set_defaults(handler=_cmd_run, needs_spark=True)

    day = sub.add_parser(
        "daily",
        help="the scheduled run: ingest, build, validate, score the newest date, maintain",
        description="Ingest what landed, build what it changes, validate the scoring inputs, score the newest "
        "as-of date with the champion (audited, then published), then compact and vacuum the Delta tables "
        "(VACUUM LITE; sparkify maintain lists the folders weekly); one summary line. The cron line and the spark-submit entry point. Exit 1 when a check failed or a landed "
        "file was refused.",
    )
    day.add_argument(
        "--no-maintain",
        action="store_true",
        help="skip the closing OPTIMIZE and VACUUM LITE (sparkify maintain --vacuum lite)",
    )
    day.add_argument("--full-checks", action="store_true", help=FULL_CHECKS_HELP)
    day.set_defaults(handler=_cmd_daily, needs_spark=True)
    return parser


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line; ``build`` hands every option it does not know to dbt."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        if args.command != "build":
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        args.dbt_args = unknown
    return args


# Commands that write the warehouse, and how they share the cluster's writer lock (writer_lock.py):
# ingest and build rewrite what everyone reads; score, validate and train append their own records.
CLUSTER_WRITERS = {
    "ingest": "exclusive",
    "build": "exclusive",
    "run": "exclusive",
    "daily": "exclusive",
    "maintain": "exclusive",
    "score": "shared",
    "validate": "shared",
    "train": "shared",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, take the metastore lock when the command starts Spark, map errors to exit codes."""
    args = parse_arguments(argv)
    try:
        if args.needs_spark and active_target().is_embedded:
            from pyspark.sql import SparkSession

            own_jvm = SparkSession.getActiveSession() is not None
            with metastore_lock(command_line(), own_jvm_running=own_jvm):
                try:
                    return args.handler(args)
                finally:
                    if not own_jvm:
                        from sparkify.runtime.spark import stop_spark

                        stop_spark()
        if args.command in CLUSTER_WRITERS and not active_target().is_embedded:
            from sparkify.runtime.writer_lock import cluster_writer_lock

            with cluster_writer_lock(args.command, shared=CLUSTER_WRITERS[args.command] == "shared"):
                return args.handler(args)
        return args.handler(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CheckFailed as exc:
        print(f"check failed: {exc}", file=sys.stderr)
        return EXIT_CHECK_FAILED
    except MetastoreBusyError as exc:
        print(f"busy: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
