"""The figures of the churn report, queried from the marts and the champion's metadata."""

from __future__ import annotations

from typing import Any

import pandas as pd
from pyspark.sql import SparkSession

from sparkify.runtime.settings import ANALYTICS_SCHEMA

WEEKS_BEFORE = 6
ACTIVITY_MEASURES = ("songs", "thumbs_up", "thumbs_down", "roll_advert", "help", "errors")


def churn_rate_by(spark: SparkSession, attribute: str, top: int = 15) -> pd.DataFrame:
    """Users, churners and churn rate per value of a dim_users attribute (the ``top`` largest groups)."""
    return spark.sql(
        f"""
        select
            coalesce({attribute}, '(unknown)') as value,
            count(*) as users,
            count_if(has_churned) as churners,
            avg(cast(has_churned as double)) as churn_rate
        from {ANALYTICS_SCHEMA}.dim_users
        group by 1
        order by users desc
        limit {top}
        """
    ).toPandas()


def weekly_activity_before_end(spark: SparkSession) -> pd.DataFrame:
    """Per user-week, activity in each of the weeks before a churner cancels (or a stayer's last day).

    Week 1 is the 7 days before the cancellation (or the last active day), week 2 the 7 before
    that, and so on; the mean is over users, counting a week without activity as zero.
    """
    measures = ", ".join(f"sum(activity.{m}) as {m}" for m in ACTIVITY_MEASURES)
    means = ", ".join(f"avg(coalesce(weeks.{m}, 0)) as {m}" for m in ACTIVITY_MEASURES)
    return spark.sql(
        f"""
        with ends as (
            select
                user_id,
                has_churned,
                to_date(coalesce(churn_ts, last_activity_ts)) as end_date
            from {ANALYTICS_SCHEMA}.dim_users
        ),
        weeks as (
            select
                ends.user_id,
                floor(datediff(ends.end_date, activity.activity_date) / 7) + 1 as week_before,
                {measures}
            from ends
            inner join {ANALYTICS_SCHEMA}.int_user_daily_activity as activity
                on ends.user_id = activity.user_id
                and activity.activity_date < ends.end_date
                and activity.activity_date >= date_sub(ends.end_date, {7 * WEEKS_BEFORE})
            group by 1, 2
        ),
        grid as (
            select ends.user_id, ends.has_churned, week_before
            from ends
            lateral view explode(sequence(1, {WEEKS_BEFORE})) as week_before
        )
        select
            case when grid.has_churned then 'churners' else 'stayers' end as cohort,
            grid.week_before,
            {means}
        from grid
        left join weeks
            on grid.user_id = weeks.user_id and grid.week_before = weeks.week_before
        group by 1, 2
        order by 1, 2
        """
    ).toPandas()


def latest_scores(spark: SparkSession) -> pd.DataFrame:
    """The latest score of each active user (the analysts' mart)."""
    return spark.table(f"{ANALYTICS_SCHEMA}.mart_churn_risk").toPandas()


def overview(spark: SparkSession) -> dict[str, Any]:
    row = spark.sql(
        f"""
        select
            count(*) as users,
            count_if(has_churned) as churners,
            min(first_activity_ts) as first_event,
            max(last_activity_ts) as last_event
        from {ANALYTICS_SCHEMA}.dim_users
        """
    ).first()
    return row.asDict()
