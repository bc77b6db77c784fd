"""The one quoting function and the strict patterns: hostile values never change a statement."""

from __future__ import annotations

import pytest

from sparkify.runtime.errors import UsageError
from sparkify.runtime.sql_values import checked, string_literal

HOSTILE = [
    "it's",
    "back\\slash",
    "trailing\\",
    "x' or '1'='1",
    "a -- comment",
    "a; drop table raw.sparkify_events; --",
    'double "quotes"',
    "line\nbreak\r",
    "/* block */",
    "",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_literal_is_one_token_and_has_no_bare_quote(value: str) -> None:
    literal = string_literal(value)
    assert literal.startswith("'") and literal.endswith("'")
    inner = literal[1:-1]
    # every quote inside is escaped, and no escape is left dangling before the closing quote
    index = 0
    while index < len(inner):
        if inner[index] == "\\":
            index += 2
            continue
        assert inner[index] not in "'\"\n\r", (value, literal)
        index += 1
    assert index == len(inner)


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        ("user id", "1261737", "1' or '1'='1"),
        ("date", "2018-10-01", "2018-10-01' --"),
        ("batch id", "b000000000042", "b1;"),
        ("table name", "analytics.fct_user_features", "analytics.x lite; drop table y"),
    ],
)
def test_checked_values_match_their_pattern_or_exit_2(kind: str, good: str, bad: str) -> None:
    assert checked(good, kind) == good
    with pytest.raises(UsageError, match=f"not a valid {kind}"):
        checked(bad, kind)
