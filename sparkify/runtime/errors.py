"""Exit codes and the errors that map to them, shared by every subcommand."""

from __future__ import annotations

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3


class UsageError(Exception):
    """Bad arguments or unusable input: exit code 2."""


class CheckFailed(Exception):
    """A data check (dbt test, expectation, gate) failed: exit code 1."""


def one_line(exc: BaseException) -> str:
    """Spark's error message reduced to its first meaningful line, without a JVM stack trace."""
    text = str(exc).strip()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("JVM stacktrace", "at ", "==")):
            return line
    return type(exc).__name__


class NotEnoughData(UsageError):
    """The data cannot support the step yet (a cold start, a log too short): exit code 2, one line."""
