"""What the models learn from: feature columns of the marts and the time split of the training set.

The split is by as-of date and purged: models are judged on the latest labelled dates and fitted
only on dates whose label horizon had closed by the first judged date. So no label a model learns
from covers the period it is judged on (a user who cancels during the test period cannot teach
the model their own outcome through an earlier row), and no (user, as-of date) is in two sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparkify.runtime.errors import CheckFailed, NotEnoughData
from sparkify.runtime.settings import ANALYTICS_SCHEMA, project_var

TRAINING_TABLE = f"{ANALYTICS_SCHEMA}.fct_training_set"
SPINE_TABLE = f"{ANALYTICS_SCHEMA}.int_as_of_dates"
LABEL = "churned_within_horizon"
KEYS = ("user_id", "as_of_date")
NOT_FEATURES = {*KEYS, "is_labelled", "horizon_end_date", LABEL, "churn_ts", "downgraded_within_horizon"}
# Left out of the models, though analysts keep them in the mart:
# - state: too many values for a few hundred churners; a model would learn each state's noise
#   (the report shows churn by state instead);
# - counts "to date": they count from the first day of the log, not of the user, so they grow
#   with the calendar; a model fitted on early as-of dates would extrapolate on later ones.
EXCLUDED_FEATURES = {
    "state",
    "songs_to_date",
    "sessions_to_date",
    "active_days_to_date",
    "level_changes_to_date",
    "downgrades_to_date",
}


@dataclass(frozen=True)
class FeatureSet:
    """Numeric and categorical feature columns, in the order the pipeline assembles them."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]


def feature_set(frame: DataFrame) -> FeatureSet:
    """Every column of the mart that is not a key, a date or a label; strings are categories."""
    numeric: list[str] = []
    categorical: list[str] = []
    for field in frame.schema.fields:
        if field.name in NOT_FEATURES or field.name in EXCLUDED_FEATURES:
            continue
        if isinstance(field.dataType, T.StringType):
            categorical.append(field.name)
        elif isinstance(field.dataType, T.NumericType):
            numeric.append(field.name)
    return FeatureSet(tuple(numeric), tuple(categorical))


TEST_DAYS = 7  # held-out as-of dates judged
VALIDATION_DAYS = 7  # as-of dates the grids and thresholds are chosen on


@dataclass(frozen=True)
class TimeSplit:
    """As-of dates of each part of the split; a fit's labels are those known at the date after it."""

    tune_fit: tuple[date, ...]
    validation: tuple[date, ...]
    final_fit: tuple[date, ...]
    test: tuple[date, ...]

    def describe(self) -> dict[str, list[str]]:
        return {name: [d.isoformat() for d in getattr(self, name)] for name in self.__dataclass_fields__}


def plan_split(
    dates: list[date], horizon_days: int, test_days: int = TEST_DAYS, validation_days: int = VALIDATION_DAYS
) -> TimeSplit:
    """Test on the labelled dates of the last ``test_days``, tune on the ``validation_days`` before them.

    Hyper-parameters and the decision threshold are chosen by fitting on the dates whose horizon
    closed by the first validation date and scoring the validation dates; the chosen model is
    then refitted on every date whose horizon closed by the first test date. Spans of dates
    rather than single dates give each evaluation enough churners to be stable.
    """
    ordered = sorted(set(dates))
    if not ordered:
        raise CheckFailed("the training set is empty: run `sparkify build` on a log of at least 6 weeks")
    horizon = timedelta(days=horizon_days)
    test_start = ordered[-1] - timedelta(days=test_days - 1)
    validation_start = test_start - timedelta(days=validation_days)
    test = tuple(d for d in ordered if d >= test_start)
    validation = tuple(d for d in ordered if validation_start <= d < test_start)
    tune_fit = tuple(d for d in ordered if d + horizon <= validation_start)
    final_fit = tuple(d for d in ordered if d + horizon <= test_start)
    if not tune_fit or not validation:
        raise CheckFailed(
            f"the training set's labelled as-of dates ({ordered[0]} .. {ordered[-1]}) are too few for a "
            f"purged split: {test_days} test days, {validation_days} validation days, and fit dates whose "
            f"{horizon_days}-day horizon closes before them (more days of log, or smaller min_history_days)"
        )
    return TimeSplit(tune_fit, validation, final_fit, test)


def label_horizon_days(spark: SparkSession) -> int:
    """The horizon the marts were built with: from the as-of spine, else the project's default var."""
    row = (
        spark.table(SPINE_TABLE)
        .select(F.datediff("horizon_end_date", "as_of_date").alias("days"))
        .limit(1)
        .collect()
    )
    return int(row[0]["days"]) if row else int(project_var("label_horizon_days"))


def labelled_dates_needed(horizon_days: int) -> int:
    """Daily as-of dates the purged split needs: test, validation, the fit's closing horizon, one fit date."""
    return TEST_DAYS + VALIDATION_DAYS + horizon_days + 1


def trainable_split(spark: SparkSession) -> TimeSplit:
    """The split of the training set as built, or NotEnoughData: what train and ``sparkify run`` check."""
    return check_trainable(spark.table(TRAINING_TABLE), label_horizon_days(spark))


def check_trainable(table: DataFrame, horizon_days: int) -> TimeSplit:
    """The split of ``table``, or NotEnoughData (exit 2) in one line saying what is needed and what is there.

    Every part of the split must hold a churner: a fit needs both classes, and a test or
    validation period without one measures nothing.
    """
    per_date = {
        row["as_of_date"]: int(row["churners"])
        for row in table.groupBy("as_of_date").agg(F.count_if(F.col(LABEL)).alias("churners")).collect()
    }
    churners = sum(per_date.values())
    needed = labelled_dates_needed(horizon_days)
    advice = (
        "labelled as-of dates start min_history_days after the log's first day and end "
        "label_horizon_days before its last: land more days of log, or rebuild with a shorter history "
        "(sparkify build --vars '{min_history_days: 7}')"
    )
    try:
        split = plan_split(list(per_date), horizon_days)
    except CheckFailed:
        raise NotEnoughData(
            f"sparkify train needs at least {needed} daily labelled as-of dates and a churner in each part "
            f"of the split; the training set has {len(per_date)} labelled as-of dates and {churners} "
            f"churners; {advice}"
        ) from None
    empty = [
        name
        for name in ("tune_fit", "validation", "test")
        if sum(per_date[d] for d in getattr(split, name)) == 0
    ]
    if empty:
        raise NotEnoughData(
            f"sparkify train needs a churner in each part of the split; the training set has "
            f"{len(per_date)} labelled as-of dates and {churners} churners, none in {', '.join(empty)}; {advice}"
        )
    return split


def rows_at(frame: DataFrame, dates: tuple[date, ...]) -> DataFrame:
    """The rows of ``frame`` at the given as-of dates."""
    return frame.where(F.col("as_of_date").isin(list(dates)))


def with_label_and_weight(frame: DataFrame, positive_weight: float) -> DataFrame:
    """``label`` as 0/1 double and ``class_weight`` so that both classes weigh the same in total."""
    label = F.col(LABEL).cast("double")
    return frame.select(
        "*",
        label.alias("label"),
        F.when(label == 1.0, F.lit(positive_weight)).otherwise(F.lit(1.0)).alias("class_weight"),
    )
