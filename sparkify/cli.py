"""The ``sparkify`` command: one entry point for every step of the warehouse.

Exit codes: 0 ok; 1 a check failed (dbt test, expectation, validation gate); 2 usage or input
error; 3 the embedded metastore is busy (another command is running).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sparkify import __version__
from sparkify.errors import EXIT_CHECK_FAILED, EXIT_UNAVAILABLE, EXIT_USAGE, CheckFailed, UsageError
from sparkify.runtime.lock import MetastoreBusyError, command_line, metastore_lock
from sparkify.runtime.settings import SettingsError, active_target

Handler = Callable[[argparse.Namespace], int]


def _absolute(text: str) -> Path:
    """Paths given on the command line are relative to where the user stands, not the project."""
    return Path(text).expanduser().absolute()


def _cmd_generate(args: argparse.Namespace) -> int:
    from sparkify.generator.cli import generate_command

    return generate_command(args)


def _cmd_ingest(args: argparse.Namespace) -> int:
    from sparkify.ingest.command import ingest_command

    return ingest_command(args.source)


def _cmd_build(args: argparse.Namespace) -> int:
    from sparkify.dbt_runner import run_dbt

    return run_dbt(["build", *args.dbt_args])


def _cmd_sql(args: argparse.Namespace) -> int:
    from sparkify.sql_shell import run_query

    return run_query(args.query, fmt=args.format, limit=args.limit)


def _cmd_run(args: argparse.Namespace) -> int:
    from sparkify.pipeline import run_pipeline

    return run_pipeline(scale=args.scale, seed=args.seed)


def _not_yet(issue: int) -> Handler:
    def handler(args: argparse.Namespace) -> int:
        print(f"sparkify {args.command}: not available in this version yet (issue {issue}).", file=sys.stderr)
        return EXIT_USAGE

    return handler


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with ``--help`` on every subcommand."""
    parser = argparse.ArgumentParser(
        prog="sparkify",
        description="Sparkify churn feature warehouse: dbt + Spark SQL on Delta Lake.",
        epilog="Exit codes: 0 ok, 1 a check failed, 2 usage or input error, 3 metastore busy.",
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
        type=_absolute,
        default=None,
        metavar="PATH",
        help="a file, folder or glob of .json/.json.gz logs (default: the landing folder, $SPARKIFY_RAW_DIR)",
    )
    ing.set_defaults(handler=_cmd_ingest, needs_spark=True)

    bld = sub.add_parser(
        "build",
        help="dbt build with the project's profile (extra arguments go to dbt)",
        description="Run `dbt build` in-process; any further arguments (e.g. --select, --full-refresh) go to dbt.",
        usage="sparkify build [-h] [DBT_ARGS ...]",
    )
    bld.set_defaults(handler=_cmd_build, needs_spark=True, dbt_args=[])

    for name, issue, text in (
        ("validate", 5, "run the Great Expectations suites and record the results"),
        ("train", 6, "train churn models on the point-in-time training set"),
        ("score", 6, "score active users with the champion model into analytics.churn_scores"),
        ("report", 6, "write the HTML churn report"),
    ):
        cmd = sub.add_parser(name, help=text, description=text)
        cmd.set_defaults(handler=_not_yet(issue), needs_spark=False)

    sql = sub.add_parser("sql", help="run a Spark SQL query against the warehouse and print the result")
    sql.add_argument("query", help='the SQL, e.g. "show tables in analytics"')
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format")
    sql.add_argument("--limit", type=int, default=1000, help="print at most this many rows (default 1000)")
    sql.set_defaults(handler=_cmd_sql, needs_spark=True)

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
    run.set_defaults(handler=_cmd_run, needs_spark=True)
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
