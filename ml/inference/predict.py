"""Churn probabilities from a fitted pipeline, corrected for the class weights it was trained with and calibrated."""

from __future__ import annotations

from pyspark.ml import PipelineModel
from pyspark.ml.functions import vector_to_array
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sparkify.ml.calibration import IDENTITY, Calibration


def prior_corrected(probability: Column, positive_weight: float) -> Column:
    """Undo the class weights' shift of the odds, so that a score is a churn probability again.

    Weighting churners by w multiplies the odds the model learns by w; dividing them by w
    restores the base rate (exact for logistic regression, a close approximation for trees).
    """
    return probability / (probability + (1 - probability) * F.lit(positive_weight))


def with_churn_probability(
    model: PipelineModel, rows: DataFrame, positive_weight: float, calibration: Calibration = IDENTITY
) -> DataFrame:
    """``rows`` transformed by ``model`` plus ``churn_probability`` (prior-corrected, then calibrated)."""
    raw = vector_to_array(F.col("probability"))[1]
    corrected = prior_corrected(raw, positive_weight)
    return model.transform(rows).withColumn("churn_probability", calibration.column(corrected))
