"""``sparkify build``: dbt in this process, so it shares the command's SparkSession and lock."""

from __future__ import annotations

from collections.abc import Sequence

from sparkify.runtime.errors import EXIT_CHECK_FAILED, EXIT_OK, EXIT_USAGE
from sparkify.runtime.settings import pin_environment, project_dir


def run_dbt(args: Sequence[str]) -> int:
    """Run a dbt command (``["build", ...]``) with the project's profile; return an exit code.

    0 when dbt succeeded, 1 when models or tests failed, 2 when dbt could not run the command
    at all (bad arguments, a compilation error, an unreachable target).
    """
    from dbt.cli.main import dbtRunner

    pin_environment()
    command = [*args]
    if "--project-dir" not in command:
        command += ["--project-dir", str(project_dir())]
    if "--profiles-dir" not in command:
        command += ["--profiles-dir", str(project_dir())]
    result = dbtRunner().invoke(command)
    if result.success:
        return EXIT_OK
    return EXIT_USAGE if result.exception is not None else EXIT_CHECK_FAILED
