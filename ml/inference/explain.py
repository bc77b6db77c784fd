"""The three features pushing each user's risk up, by occlusion against the scored population's median.

For each of the model's most important numeric features, every user's value is replaced by the
median of everyone scored at that date and the user is scored again; the drop in churn
probability is that feature's push. It works for any model family (no SHAP in Spark ML) and
answers the analyst's question directly: "which of this user's values make the model worried".
"""

from __future__ import annotations

from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkify.ml.calibration import Calibration
from sparkify.ml.inference.predict import with_churn_probability

TOP_FEATURES_TRIED = 8
FACTORS_KEPT = 3


def risk_factors(
    model: PipelineModel,
    positive_weight: float,
    calibration: Calibration,
    rows: DataFrame,
    importances: list[list],
    numeric: list[str],
) -> DataFrame:
    """``user_id``, ``churn_probability`` and ``risk_factors`` (up to three feature names, strongest first)."""
    tried = [name for name, _ in importances if name in numeric][:TOP_FEATURES_TRIED]
    medians = dict(zip(tried, rows.approxQuantile(tried, [0.5], 0.01), strict=True)) if tried else {}
    variants = [rows.select("*", F.lit(None).cast("string").alias("_occluded"))]
    for name in tried:
        median = medians[name][0] if medians[name] else None
        variants.append(
            rows.withColumn(name, F.lit(median).cast(rows.schema[name].dataType)).select(
                "*", F.lit(name).alias("_occluded")
            )
        )
    stacked = variants[0]
    for variant in variants[1:]:
        stacked = stacked.unionByName(variant)
    scored = with_churn_probability(model, stacked, positive_weight, calibration).select(
        "user_id", "_occluded", F.col("churn_probability").alias("p")
    )
    base = scored.where(F.col("_occluded").isNull()).select("user_id", F.col("p").alias("churn_probability"))
    pushes = (
        scored.where(F.col("_occluded").isNotNull())
        .join(base, on="user_id", how="inner")
        .select("user_id", (F.col("churn_probability") - F.col("p")).alias("push"), F.col("_occluded"))
        .where(F.col("push") > 0)
        .groupBy("user_id")
        .agg(F.sort_array(F.collect_list(F.struct("push", "_occluded")), asc=False).alias("ranked"))
        .select("user_id", F.slice(F.col("ranked._occluded"), 1, FACTORS_KEPT).alias("risk_factors"))
    )
    return base.join(pushes, on="user_id", how="left").select(
        "user_id",
        "churn_probability",
        F.coalesce(F.col("risk_factors"), F.array().cast("array<string>")).alias("risk_factors"),
    )
