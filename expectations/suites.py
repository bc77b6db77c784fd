"""The suites, one per validated table, as code: what each checks, how hard, and why.

Each expectation carries a stable name (``meta.name``, the ``expectation`` column of
``analytics.validation_results``) and its reason (``meta.why``). Thresholds come from
``expectations.thresholds``. Checks that compare with the previous validated run receive that
run's observed values; on the first run they only require a non-empty table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import great_expectations.expectations as gxe
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from sparkify.expectations import thresholds as T
from sparkify.runtime.settings import ANALYTICS_SCHEMA

CRITICAL, WARNING = "critical", "warning"


@dataclass(frozen=True)
class SuiteSpec:
    """A suite and the DataFrame it validates."""

    name: str
    table: str  # the Delta table whose version the suite validated
    frame: Callable[[SparkSession], DataFrame]
    expectations: Callable[[dict[str, float]], list[gxe.Expectation]]
    gates_scoring: bool
    skip_when_empty: bool = False  # churn_scores is empty until the first scoring run


def _meta(name: str, why: str) -> dict[str, str]:
    return {"name": name, "why": why}


def _at_least_previous(previous: dict[str, float], name: str) -> int:
    """Lower bound for a count: a share of the previous validated run's, or 1 on the first run."""
    if name in previous:
        return max(1, math.floor(previous[name] * T.MIN_RATIO_TO_PREVIOUS))
    return 1


def _rows_not_fewer_than_previous(previous: dict[str, float], name: str, why: str) -> gxe.Expectation:
    """Critical: the table's row count has not dropped below a share of the previous validated run's."""
    return gxe.ExpectTableRowCountToBeBetween(
        min_value=_at_least_previous(previous, name), severity=CRITICAL, meta=_meta(name, why)
    )


def _users_not_fewer_than_previous(previous: dict[str, float], why: str) -> gxe.Expectation:
    """Critical: distinct users have not dropped below a share of the previous validated run's."""
    name = "users_vs_previous_run"
    return gxe.ExpectColumnUniqueValueCountToBeBetween(
        column="user_id",
        min_value=_at_least_previous(previous, name),
        severity=CRITICAL,
        meta=_meta(name, why),
    )


def _events_frame(spark: SparkSession) -> DataFrame:
    return spark.table(f"{ANALYTICS_SCHEMA}.stg_sparkify__events")


def _events_expectations(previous: dict[str, float]) -> list[gxe.Expectation]:
    return [
        _rows_not_fewer_than_previous(
            previous, "rows_vs_previous_run", "events only grow; losing > 20% at once is lost input"
        ),
        _users_not_fewer_than_previous(previous, "users only accumulate; losing > 20% is lost input"),
        gxe.ExpectColumnValuesToNotBeNull(
            column="user_id",
            mostly=T.MIN_SHARE_WITH_USER,
            severity=CRITICAL,
            meta=_meta(
                "share_of_events_with_user", "logged-out events are ~3%; more means user ids are lost"
            ),
        ),
        gxe.ExpectColumnMostCommonValueToBeInSet(
            column="page",
            value_set=["NextSong"],
            severity=CRITICAL,
            meta=_meta("nextsong_is_the_most_common_page", "a streaming log is mostly songs played"),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="song_length_s",
            min_value=T.SONG_LENGTH_S[0],
            max_value=T.SONG_LENGTH_S[1],
            mostly=T.SONG_LENGTH_MOSTLY,
            severity=CRITICAL,
            meta=_meta("song_length_in_seconds_range", "songs last seconds to minutes, never hours"),
        ),
        gxe.ExpectColumnMeanToBeBetween(
            column="song_length_s",
            min_value=T.MEAN_SONG_LENGTH_S[0],
            max_value=T.MEAN_SONG_LENGTH_S[1],
            severity=WARNING,
            meta=_meta("mean_song_length", "249 s in the real logs; a shift means a unit or parsing change"),
        ),
    ]


def _daily_frame(spark: SparkSession) -> DataFrame:
    """One row per event date: its size and page mix (shares null for days too small to judge)."""
    events = _events_frame(spark)
    daily = events.groupBy(F.col("event_date").alias("event_date")).agg(
        F.count(F.lit(1)).alias("events"),
        F.count_if(F.col("page") == "NextSong").alias("songs"),
        F.count_if(F.col("page") == "Thumbs Up").alias("thumbs_up"),
        F.count_if(F.col("page") == "Thumbs Down").alias("thumbs_down"),
    )
    thumbs = F.col("thumbs_up") + F.col("thumbs_down")
    return daily.select(
        F.col("event_date"),
        F.col("events"),
        F.when(F.col("events") >= T.MIN_EVENTS_PER_DAY_FOR_SHARES, F.col("songs") / F.col("events")).alias(
            "song_share"
        ),
        F.when(thumbs >= T.MIN_THUMBS_PER_DAY, F.col("thumbs_down") / thumbs).alias("thumbs_down_share"),
    )


def _daily_expectations(previous: dict[str, float]) -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnValuesToBeBetween(
            column="thumbs_down_share",
            min_value=T.THUMBS_DOWN_SHARE_PER_DAY[0],
            max_value=T.THUMBS_DOWN_SHARE_PER_DAY[1],
            severity=CRITICAL,
            meta=_meta(
                "thumbs_down_share_per_day", "17-20% of ratings are down; a day outside 5-45% is corrupt"
            ),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="song_share",
            min_value=T.SONG_SHARE_PER_DAY[0],
            max_value=T.SONG_SHARE_PER_DAY[1],
            severity=CRITICAL,
            meta=_meta("song_share_per_day", "NextSong is ~80% of a day's events"),
        ),
        _rows_not_fewer_than_previous(previous, "days_vs_previous_run", "days of log only accumulate"),
    ]


def _features_frame(spark: SparkSession) -> DataFrame:
    """The features, plus the names of any feature that is negative on a row (null when none)."""
    features = spark.table(f"{ANALYTICS_SCHEMA}.fct_user_features")
    negative = F.concat_ws(",", *[F.when(F.col(name) < 0, F.lit(name)) for name in T.NON_NEGATIVE_FEATURES])
    return features.select(
        "*",
        F.when(F.col("songs_28d") >= 20, F.col("listening_hours_28d") * 60 / F.col("songs_28d")).alias(
            "minutes_per_song_28d"
        ),
        F.nullif(negative, F.lit("")).alias("negative_features"),
    )


def _features_expectations(previous: dict[str, float]) -> list[gxe.Expectation]:
    checks: list[gxe.Expectation] = [
        _rows_not_fewer_than_previous(previous, "rows_vs_previous_run", "user-dates only accumulate"),
        _users_not_fewer_than_previous(previous, "a build that lost many users must not be scored"),
        gxe.ExpectColumnValuesToBeBetween(
            column="minutes_per_song_28d",
            min_value=T.MINUTES_PER_SONG_28D[0],
            max_value=T.MINUTES_PER_SONG_28D[1],
            mostly=T.MINUTES_PER_SONG_MOSTLY,
            severity=CRITICAL,
            meta=_meta("listening_time_consistent_with_songs", "about 4 minutes per song"),
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="days_since_last_activity",
            mostly=T.MIN_SHARE_WITH_RECENCY,
            severity=CRITICAL,
            meta=_meta("recency_always_known", "every user-date has an event before it"),
        ),
        gxe.ExpectColumnMedianToBeBetween(
            column="songs_28d",
            min_value=T.SONGS_28D_MEDIAN[0],
            max_value=T.SONGS_28D_MEDIAN[1],
            severity=WARNING,
            meta=_meta("songs_28d_median", "a 28-day window holds hundreds of songs for the median user"),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="active_days_7d",
            min_value=0,
            max_value=7,
            severity=CRITICAL,
            meta=_meta("active_days_7d_within_window", "a 7-day window has at most 7 active days"),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="active_days_28d",
            min_value=0,
            max_value=28,
            severity=CRITICAL,
            meta=_meta("active_days_28d_within_window", "a 28-day window has at most 28 active days"),
        ),
    ]
    for column in T.SHARE_FEATURES:
        checks.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=column,
                min_value=0,
                max_value=1,
                severity=CRITICAL,
                meta=_meta(f"{column}_is_a_share", "a share lies in [0, 1]"),
            )
        )
    checks.append(
        gxe.ExpectColumnValuesToBeNull(
            column="negative_features",
            severity=CRITICAL,
            meta=_meta(
                "activity_features_not_negative",
                "counts, durations, rates and trends of activity are never negative; the unexpected "
                "values name the columns that are",
            ),
        )
    )
    checks.append(
        gxe.ExpectColumnValuesToBeBetween(
            column="days_since_last_activity",
            min_value=1,
            severity=CRITICAL,
            meta=_meta("recency_at_least_a_day", "features read days strictly before the as-of date"),
        )
    )
    return checks


def _training_frame(spark: SparkSession) -> DataFrame:
    training = spark.table(f"{ANALYTICS_SCHEMA}.fct_training_set")
    return training.select("*", F.col("churned_within_horizon").cast("int").alias("churn_label"))


def _training_expectations(previous: dict[str, float]) -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnMeanToBeBetween(
            column="churn_label",
            min_value=T.CHURN_RATE[0],
            max_value=T.CHURN_RATE[1],
            severity=CRITICAL,
            meta=_meta("churn_rate_in_plausible_band", "3-5% of user-dates cancel within the 7-day horizon"),
        ),
        gxe.ExpectColumnSumToBeBetween(
            column="churn_label",
            min_value=T.MIN_CHURNED_ROWS,
            severity=CRITICAL,
            meta=_meta("enough_churners_to_learn", "a model needs churners to rank"),
        ),
        gxe.ExpectColumnUniqueValueCountToBeBetween(
            column="as_of_date",
            min_value=T.MIN_LABELLED_DATES,
            severity=CRITICAL,
            meta=_meta("enough_dates_for_a_time_split", "train, validation and test need a date each"),
        ),
        _rows_not_fewer_than_previous(
            previous, "rows_vs_previous_run", "labelled user-dates only accumulate"
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="churned_within_horizon",
            severity=CRITICAL,
            meta=_meta("every_row_labelled", "a training row without a label is useless"),
        ),
    ]


def _scores_frame(spark: SparkSession) -> DataFrame:
    """The latest scoring run, as staged for its audit (write-audit-publish: nothing is published unchecked).

    With each score over the run's mean score: the spread that says whether the model still ranks
    anyone. Churn in a week is rare, so an honest model's scores are small numbers whose absolute
    spread is small too; only their spread relative to their mean tells a ranking from a constant.
    """
    staged = spark.table(f"{ANALYTICS_SCHEMA}.churn_scores_staged")
    mean = F.avg(F.col("churn_probability")).over(Window.partitionBy())
    return staged.withColumn(
        "churn_probability_over_mean", F.coalesce(F.col("churn_probability") / mean, F.lit(0.0))
    )


def _scores_expectations(previous: dict[str, float]) -> list[gxe.Expectation]:
    return [
        gxe.ExpectTableRowCountToBeBetween(
            min_value=1,
            severity=CRITICAL,
            meta=_meta("scores_present", "a scoring run scores at least one user"),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="churn_probability",
            min_value=0,
            max_value=1,
            severity=CRITICAL,
            meta=_meta("probability_in_0_1", "a probability"),
        ),
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["user_id", "as_of_date", "model_version"],
            severity=CRITICAL,
            meta=_meta("one_row_per_user_date_model", "a rerun replaces, never duplicates"),
        ),
        gxe.ExpectColumnStdevToBeBetween(
            column="churn_probability_over_mean",
            min_value=T.MIN_SCORE_RELATIVE_STDEV,
            severity=CRITICAL,
            meta=_meta("scores_not_collapsed", "a model that gives everyone the same score ranks nobody"),
        ),
        gxe.ExpectColumnUniqueValueCountToBeBetween(
            column="churn_probability",
            min_value=T.MIN_DISTINCT_SCORES,
            severity=CRITICAL,
            meta=_meta("scores_distinct", "a handful of distinct scores cannot fill ten deciles"),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="risk_decile",
            min_value=1,
            max_value=10,
            severity=CRITICAL,
            meta=_meta("decile_in_1_10", "deciles are 1..10"),
        ),
        gxe.ExpectColumnMeanToBeBetween(
            column="churn_probability",
            min_value=T.MEAN_SCORE[0],
            max_value=T.MEAN_SCORE[1],
            severity=WARNING,
            meta=_meta("mean_score_plausible", "mean predicted churn near the observed base rate"),
        ),
    ]


SUITES: tuple[SuiteSpec, ...] = (
    SuiteSpec(
        "stg_sparkify__events",
        f"{ANALYTICS_SCHEMA}.stg_sparkify__events",
        _events_frame,
        _events_expectations,
        True,
    ),
    SuiteSpec(
        "stg_sparkify__events_daily",
        f"{ANALYTICS_SCHEMA}.stg_sparkify__events",
        _daily_frame,
        _daily_expectations,
        True,
    ),
    SuiteSpec(
        "fct_user_features",
        f"{ANALYTICS_SCHEMA}.fct_user_features",
        _features_frame,
        _features_expectations,
        True,
    ),
    SuiteSpec(
        "fct_training_set",
        f"{ANALYTICS_SCHEMA}.fct_training_set",
        _training_frame,
        _training_expectations,
        False,
    ),
    SuiteSpec(
        "churn_scores",
        f"{ANALYTICS_SCHEMA}.churn_scores_staged",
        _scores_frame,
        _scores_expectations,
        gates_scoring=False,
        skip_when_empty=True,
    ),
)

# The suites whose latest validation must have passed before scores are written.
SCORING_INPUT_SUITES: tuple[str, ...] = tuple(spec.name for spec in SUITES if spec.gates_scoring)
