"""Which raw and staged events a build's data tests read: those no passing build has checked yet.

The event-level tests of ``stg_sparkify__events`` (keys unique and present, known pages and
levels, no event after a cancellation) and of the raw layer scanned all 27 M rows on every build
at full scale, about two minutes of a one-day build. A build now tests the rows loaded after the
last build that ran every test and passed: the raw tests by batch (var ``check_batches_after``,
``_sparkify__sources.yml``), the staging tests by the event dates those rows fall on, from the
first one on (var ``check_events_from``, ``dbt_project.yml``). That is complete, not a sample: two
copies of an event share its timestamp, so a duplicate involving a new row lies in those dates; an
event after a cancellation lies on or after the cancellation's date, so a new row on either side
is found.

The newest batch a passing build checked is a property of the staging table, so it travels with
the table to any target. A build whose tests failed records nothing, and its rows are tested again
by the next build. ``--full-checks`` and a full refresh test every row, then record anew; a build
of a selection (``--select``, ``--exclude``) records nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import yaml

from sparkify.ingest.tables import EVENTS_TABLE, newest_staged_batch, rows_loaded_after_sql
from sparkify.runtime import target_sql
from sparkify.runtime.sql_values import checked

CHECKED_PROPERTY = "sparkify.checked_through_batch"
NOTHING_NEW = "9999-12-31"  # no unchecked row: the event-level tests read no partition
# dbt options that choose resource types, and all that build less than the whole project (such a
# build did not run every test).
RESOURCE_TYPE_OPTIONS = (
    "--resource-type",
    "--resource-types",
    "--exclude-resource-type",
    "--exclude-resource-types",
)
SELECTION_OPTIONS = ("--select", "-s", "--models", "-m", "--exclude", "--selector", *RESOURCE_TYPE_OPTIONS)
WITHOUT_UNIT_TESTS = ("--exclude-resource-type", "unit_test")


@dataclass(frozen=True)
class CheckScope:
    """What the tests of the raw and staged events read: the rows after ``checked_through``."""

    checked_through: str  # the newest batch a passing build checked
    events_from: str  # the first event date of a row loaded after it (NOTHING_NEW if none)

    def dbt_vars(self) -> dict[str, str]:
        """The vars the source and staging tests filter by (dbt_project.yml, _sparkify__sources.yml)."""
        return {
            "check_batches_after": checked(self.checked_through, "batch id"),
            "check_events_from": checked(self.events_from, "date"),
        }


def check_scope(staging_table: str) -> CheckScope | None:
    """The rows the event-level tests must read, or None for every row."""
    if not target_sql.table_exists(staging_table):
        return None
    recorded = target_sql.table_properties(staging_table).get(CHECKED_PROPERTY)
    if recorded is None:
        return None
    first = target_sql.rows(
        "select date_format(to_date(timestamp_millis(min(ts))), 'yyyy-MM-dd') "
        f"from {EVENTS_TABLE} where {rows_loaded_after_sql(checked(recorded, 'batch id'))}"
    )[0][0]
    return CheckScope(recorded, first or NOTHING_NEW)


def record_checked(staging_table: str) -> None:
    """After a build that ran every test and passed: every staged row so far is checked."""
    newest = newest_staged_batch(staging_table)
    if newest is not None:
        target_sql.set_table_property(staging_table, CHECKED_PROPERTY, checked(newest, "batch id"))


def _uses_any(dbt_args: Sequence[str], options: Sequence[str]) -> bool:
    """Whether one of ``options`` is among the dbt options (``--option value`` or ``--option=value``)."""
    return any(arg.split("=", 1)[0] in options for arg in dbt_args)


def runs_every_test(dbt_args: Sequence[str]) -> bool:
    """Whether a ``dbt build`` with these options builds and tests the whole project."""
    return not _uses_any(dbt_args, SELECTION_OPTIONS)


def with_unit_tests_or_not(dbt_args: Sequence[str], unit_tests: bool) -> list[str]:
    """The dbt options, leaving dbt's unit tests out unless asked or the options name resource types.

    Unit tests check the models' SQL on fixed inputs: they can fail only when the code changes, so
    they belong to development and CI (a plain ``dbt build``, ``make test``), not to every scheduled
    build, where they cost about 11 s of a mini build whatever the data (dbt advises the same).
    """
    if unit_tests or _uses_any(dbt_args, RESOURCE_TYPE_OPTIONS):
        return list(dbt_args)
    return [*dbt_args, *WITHOUT_UNIT_TESTS]


def with_scope(dbt_args: Sequence[str], scope: CheckScope) -> list[str]:
    """The dbt options with the scope's vars added to their ``--vars`` (dbt takes one ``--vars``)."""
    args = list(dbt_args)
    variables: dict = {}
    while "--vars" in args:  # ``--vars YAML``
        at = args.index("--vars")
        variables.update(yaml.safe_load(args[at + 1]) or {})
        del args[at : at + 2]
    for arg in [a for a in args if a.startswith("--vars=")]:  # ``--vars=YAML``
        variables.update(yaml.safe_load(arg.removeprefix("--vars=")) or {})
        args.remove(arg)
    variables.update(scope.dbt_vars())
    return [*args, "--vars", yaml.safe_dump(variables, default_flow_style=True).strip()]
