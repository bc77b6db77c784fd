"""The options a build hands dbt for batch-scoped staging tests (no Spark: the pure parts)."""

from __future__ import annotations

import pytest
import yaml

from sparkify.app.build_checks import CheckScope, runs_every_test, with_scope, with_unit_tests_or_not
from sparkify.runtime.errors import UsageError


def _vars_of(args: list[str]) -> dict:
    assert args.count("--vars") == 1, args
    return yaml.safe_load(args[args.index("--vars") + 1])


SCOPE = CheckScope(checked_through="b000000000007", events_from="2018-11-30")
SCOPE_VARS = {"check_batches_after": "b000000000007", "check_events_from": "2018-11-30"}


def test_the_scope_joins_the_users_own_vars_in_one_option() -> None:
    args = with_scope(["--vars", "{min_history_days: 7, label_horizon_days: 3}", "--fail-fast"], SCOPE)
    assert _vars_of(args) == {"min_history_days": 7, "label_horizon_days": 3, **SCOPE_VARS}
    assert "--fail-fast" in args


def test_the_scope_joins_vars_given_with_an_equals_sign() -> None:
    args = with_scope(["--vars={min_history_days: 7}"], SCOPE)
    assert _vars_of(args) == {"min_history_days": 7, **SCOPE_VARS}
    assert not any(arg.startswith("--vars=") for arg in args)


def test_the_scope_alone_is_one_vars_option() -> None:
    assert _vars_of(with_scope([], SCOPE)) == SCOPE_VARS


@pytest.mark.parametrize(
    "scope",
    [
        CheckScope(checked_through="b000000000007", events_from="2018-12-01' or true --"),
        CheckScope(checked_through="b1' or '1'='1", events_from="2018-12-01"),
    ],
)
def test_a_scope_that_is_not_a_batch_and_a_date_never_reaches_dbt(scope: CheckScope) -> None:
    with pytest.raises(UsageError):
        with_scope([], scope)


@pytest.mark.parametrize(
    ("args", "every_test"),
    [
        ([], True),
        (["--full-refresh", "--vars", "{a: 1}"], True),
        (["--select", "stg_sparkify__events"], False),
        (["-s", "int_users+"], False),
        (["--exclude", "resource_type:test"], False),
        (["--selector=nightly"], False),
        (["--exclude-resource-type", "unit_test"], False),
    ],
)
def test_only_a_build_of_the_whole_project_counts_as_checked(args: list[str], every_test: bool) -> None:
    assert runs_every_test(args) is every_test


@pytest.mark.parametrize(
    ("args", "unit_tests", "expected"),
    [
        ([], False, ["--exclude-resource-type", "unit_test"]),
        (["--select", "dim_users"], False, ["--select", "dim_users", "--exclude-resource-type", "unit_test"]),
        ([], True, []),
        (["--resource-type", "unit_test"], False, ["--resource-type", "unit_test"]),
        (["--exclude-resource-type=test"], False, ["--exclude-resource-type=test"]),
    ],
)
def test_a_scheduled_build_leaves_unit_tests_to_development(
    args: list[str], unit_tests: bool, expected: list[str]
) -> None:
    assert with_unit_tests_or_not(args, unit_tests) == expected
