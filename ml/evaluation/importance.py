"""Which features a fitted pipeline relies on, named as the mart names them."""

from __future__ import annotations

from pyspark.ml import PipelineModel
from pyspark.ml.classification import LogisticRegressionModel
from pyspark.sql import DataFrame


def assembled_names(transformed: DataFrame, column: str = "features") -> list[str]:
    """Slot names of the assembled vector, from the metadata Spark ML attaches to it."""
    attrs = transformed.schema[column].metadata["ml_attr"]["attrs"]
    slots: dict[int, str] = {}
    for group in attrs.values():
        for attr in group:
            slots[attr["idx"]] = attr["name"]
    return [slots[i] for i in range(len(slots))]


def mart_column(slot: str) -> str:
    """``songs_7d__imputed`` -> ``songs_7d``; ``level__onehot_paid`` -> ``level``."""
    return slot.split("__", 1)[0]


def feature_importances(model: PipelineModel, transformed: DataFrame) -> list[tuple[str, float]]:
    """Importances summed per mart column, largest first, normalised to sum to 1.

    Trees: Spark's impurity-based importances, summed over a category's one-hot slots.
    XGBoost: each slot's total gain over every split on it (slots never split on have none).
    Logistic regression: absolute coefficients on standardised inputs (a one-standard-deviation
    change's effect on the log-odds); a category counts its largest slot, since its slots never
    move together.
    """
    classifier = model.stages[-1]
    names = assembled_names(transformed)
    linear = isinstance(classifier, LogisticRegressionModel)
    if linear:
        weights = [abs(w) for w in classifier.coefficients.toArray()]
    elif hasattr(classifier, "get_booster"):  # XGBoost's model: gains keyed f0, f1, ... by slot
        gains = classifier.get_booster().get_score(importance_type="total_gain")
        weights = [gains.get(f"f{slot}", 0.0) for slot in range(len(names))]
    else:
        weights = list(classifier.featureImportances.toArray())
    totals: dict[str, float] = {}
    for slot, weight in zip(names, weights, strict=True):
        column = mart_column(slot)
        previous = totals.get(column, 0.0)
        totals[column] = max(previous, float(weight)) if linear else previous + float(weight)
    grand = sum(totals.values()) or 1.0
    return sorted(((name, value / grand) for name, value in totals.items()), key=lambda item: -item[1])
