"""The one way a value from data or configuration reaches SQL text.

Most values never do: the Python steps pass them as Column literals (DataFrame and DeltaTable
APIs) or as named parameters of ``spark.sql``. Where SQL text is unavoidable (Delta's
``replaceWhere`` option, a dbt var rendered into a model), the value is first checked against a
strict pattern for its kind and then quoted by :func:`string_literal`, the only quoting function.
"""

from __future__ import annotations

import re

from sparkify.runtime.errors import UsageError

# What each kind of identifier-like value may look like. Anything else is refused with exit 2.
PATTERNS: dict[str, re.Pattern[str]] = {
    "user id": re.compile(r"[A-Za-z0-9_.-]{1,64}"),
    "date": re.compile(r"\d{4}-\d{2}-\d{2}"),
    "batch id": re.compile(r"b\d{12}|\d{8}T\d{6}-[0-9a-f]{8}"),
    "table name": re.compile(r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*"),
    "schema name": re.compile(r"[a-z_][a-z0-9_]*"),
}


def checked(value: str, kind: str) -> str:
    """``value`` when it matches the strict pattern of ``kind``; otherwise a UsageError (exit 2)."""
    pattern = PATTERNS[kind]
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise UsageError(f"not a valid {kind}: {value!r} (expected the pattern {pattern.pattern})")
    return value


def string_literal(value: str) -> str:
    """``value`` as a Spark SQL string literal that reads back as exactly ``value``.

    Spark's parser unescapes backslash sequences inside quotes, so backslashes are doubled and
    both quote characters are escaped; a line break is written as its escape so the literal stays
    on one line. Comment markers (``--``, ``/*``) and ``;`` are inert inside a literal.
    """
    escaped = (
        value.replace("\\", "\\\\")
        .replace("'", "\\'")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )
    return f"'{escaped}'"
