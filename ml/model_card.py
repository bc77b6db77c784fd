"""The model card: what a trained churn model is, how it was chosen and judged, and how to apply it.

Training writes one per run (``model_card.json`` in the MLflow run); scoring, the report and the
pipeline's summary read it back. It is typed so that those readers name fields the type checker and
the tests can see, instead of reaching into a dict whose keys only training knew.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sparkify.ml.calibration import Calibration


@dataclass(frozen=True)
class Selection:
    """Which family is published and the evidence: the validation winner and its bootstrap win share."""

    published: str
    best_on_validation: str
    # Share of bootstrap resamples of the validation users in which the winner beat the calibrated
    # rule; None when the winner is the rule itself.
    win_share: float | None
    reason: str


@dataclass(frozen=True)
class ModelCard:
    """One trained model. ``held_out`` has every scorer's metrics on the test dates, baselines and ceilings too."""

    family: str
    params: dict[str, Any]
    threshold: float
    # Stayers per churner in the fit rows: undoes the class weights (``inference.predict``).
    positive_weight: float
    calibration: Calibration
    validation_calibration: dict[str, Calibration]
    numeric_features: tuple[str, ...]
    categorical_features: tuple[str, ...]
    label: str
    horizon_days: int
    split: dict[str, list[str]]
    training_table: str
    training_table_delta_version: int
    as_of_range: tuple[str, str]
    validation_auc_pr: dict[str, float]
    selection: Selection
    held_out: dict[str, dict[str, Any]]
    curves: dict[str, dict[str, Any]]
    # (mart column, share of importance), largest first.
    feature_importances: list[tuple[str, float]]
    code_version: str
    trained_at: str
    # Filled once registered and judged against the champion.
    version: str = ""
    run_id: str = ""
    promotion: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def published(self) -> dict[str, Any]:
        """The published family's held-out metrics."""
        return self.held_out[self.family]

    @property
    def promoted(self) -> bool:
        return self.promotion.startswith("promoted")

    def registered(self, version: str, run_id: str) -> ModelCard:
        return replace(self, version=version, run_id=run_id)

    def judged(self, promotion: str) -> ModelCard:
        return replace(self, promotion=promotion)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: tuples as lists, the calibrations as their parameters."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelCard:
        """A card read back from JSON."""
        return cls(
            **{
                **data,
                "calibration": Calibration(**data["calibration"]),
                "validation_calibration": {
                    family: Calibration(**values) for family, values in data["validation_calibration"].items()
                },
                "numeric_features": tuple(data["numeric_features"]),
                "categorical_features": tuple(data["categorical_features"]),
                "as_of_range": tuple(data["as_of_range"]),
                "selection": Selection(**data["selection"]),
                "feature_importances": [(name, float(value)) for name, value in data["feature_importances"]],
            }
        )
