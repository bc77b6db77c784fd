"""The figures of the churn report, queried from the marts and the champion's metadata."""

from __future__ import annotations

from typing import Any

import pandas as pd
from pyspark.sql import SparkSession

from sparkify.runtime.settings import ANALYTICS_SCHEMA


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
    """Churners' and stayers' mean activity per week before their end (the mart computes it)."""
    return (
        spark.table(f"{ANALYTICS_SCHEMA}.fct_cohort_weekly_activity")
        .orderBy("cohort", "week_before")
        .toPandas()
    )


def activity_measures(weekly: pd.DataFrame) -> list[str]:
    """The measures the mart carries: every column but the keys and the cohort size."""
    return [name for name in weekly.columns if name not in {"cohort", "week_before", "users"}]


def latest_scores(spark: SparkSession) -> pd.DataFrame:
    """The latest score of each active user (the analysts' mart)."""
    return spark.table(f"{ANALYTICS_SCHEMA}.fct_churn_risk").toPandas()


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
