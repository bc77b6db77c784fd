"""Matplotlib figures of the churn report, returned as embeddable PNG data URIs."""

from __future__ import annotations

import base64
import io
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: the report is written by jobs, not people at a screen
import matplotlib.pyplot as plt
import pandas as pd

from sparkify.ml.model_card import ModelCard

CHURN_COLOUR = "#c0392b"
STAY_COLOUR = "#2e86c1"
CEILINGS = ("observable_ceiling", "oracle")  # references drawn dashed, like the baselines


def _data_uri(figure: plt.Figure) -> str:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=96)
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def churn_rate_bars(frame: pd.DataFrame, title: str) -> str:
    figure, axis = plt.subplots(figsize=(5.2, 3.2))
    ordered = frame.sort_values("churn_rate")
    axis.barh(ordered["value"].astype(str), ordered["churn_rate"], color=CHURN_COLOUR)
    for y, (rate, users) in enumerate(zip(ordered["churn_rate"], ordered["users"], strict=True)):
        axis.text(rate, y, f" {rate:.0%} of {users:,}", va="center", fontsize=7)
    axis.set_xlabel("share of users who cancelled")
    axis.set_title(title)
    axis.set_xlim(0, max(0.05, float(ordered["churn_rate"].max()) * 1.35))
    return _data_uri(figure)


def weekly_activity(frame: pd.DataFrame, measures: list[str]) -> str:
    figure, axes = plt.subplots(2, 3, figsize=(10, 5.4), sharex=True)
    for axis, measure in zip(axes.flat, measures, strict=False):
        for cohort, colour in (("churners", CHURN_COLOUR), ("stayers", STAY_COLOUR)):
            part = frame[frame["cohort"] == cohort].sort_values("week_before")
            axis.plot(part["week_before"], part[measure], marker="o", color=colour, label=cohort)
        axis.set_title(measure.replace("_", " ") + " per user-week")
        axis.invert_xaxis()
    for axis in axes[-1]:
        axis.set_xlabel("weeks before the end (1 = the last week)")
    axes.flat[0].legend()
    return _data_uri(figure)


def curves(curve_sets: dict[str, Any], kind: str, champion: str) -> str:
    """PR or ROC curves of every scorer on the held-out dates."""
    figure, axis = plt.subplots(figsize=(5.2, 4.2))
    for name, data in curve_sets.items():
        xs, ys = data[kind]
        width = 2.4 if name == champion else 1.2
        style = "--" if name in ("base_rate", *CEILINGS) or name.startswith("rule_") else "-"
        axis.step(xs, ys, where="post", linewidth=width, linestyle=style, label=name)
    if kind == "pr":
        axis.set_xlabel("recall (churners found)")
        axis.set_ylabel("precision (flagged who churn)")
        axis.set_title("Precision-recall, held-out dates")
    else:
        axis.plot([0, 1], [0, 1], color="grey", linewidth=0.8)
        axis.set_xlabel("false positive rate")
        axis.set_ylabel("true positive rate")
        axis.set_title("ROC, held-out dates")
    axis.legend(fontsize=7)
    return _data_uri(figure)


def calibration(table: list[dict[str, Any]]) -> str:
    figure, axis = plt.subplots(figsize=(5.2, 4.2))
    axis.plot([0, 1], [0, 1], color="grey", linewidth=0.8, label="perfect calibration")
    axis.plot(
        [row["mean_predicted"] for row in table],
        [row["observed_rate"] for row in table],
        marker="o",
        color=CHURN_COLOUR,
        label="champion",
    )
    for row in table:
        axis.annotate(str(row["rows"]), (row["mean_predicted"], row["observed_rate"]), fontsize=7)
    axis.set_xlabel("mean predicted churn probability (bin)")
    axis.set_ylabel("observed churn rate")
    axis.set_title("Calibration (numbers: user-dates per bin)")
    axis.legend(fontsize=7)
    return _data_uri(figure)


def lift(curve_sets: dict[str, Any], champion: str) -> str:
    figure, axis = plt.subplots(figsize=(5.2, 4.2))
    for name in (champion, *(n for n in curve_sets if n.startswith("rule_") or n in CEILINGS)):
        xs, ys = curve_sets[name]["lift"]
        axis.plot(xs, ys, marker="o", label=name)
    axis.axhline(1.0, color="grey", linewidth=0.8)
    axis.set_xlabel("share of users contacted, highest risk first")
    axis.set_ylabel("cumulative lift over the base rate")
    axis.set_title("Lift, held-out dates")
    axis.legend(fontsize=7)
    return _data_uri(figure)


def importances(pairs: list[tuple[str, float]], top: int = 15) -> str:
    shown = list(reversed(pairs[:top]))
    figure, axis = plt.subplots(figsize=(5.2, 4.6))
    axis.barh([name for name, _ in shown], [value for _, value in shown], color=STAY_COLOUR)
    axis.set_xlabel("share of importance")
    axis.set_title("Champion's feature importances")
    return _data_uri(figure)


def score_distribution(scores: pd.Series) -> str:
    figure, axis = plt.subplots(figsize=(5.2, 3.4))
    axis.hist(scores, bins=30, color=CHURN_COLOUR)
    axis.set_xlabel("churn probability")
    axis.set_ylabel("active users")
    axis.set_title("Scores of the latest run")
    return _data_uri(figure)


def model_figures(card: ModelCard) -> dict[str, str]:
    """The champion's figures from its model card: drawn into the report, logged with its MLflow run."""
    return {
        "pr_curve": curves(card.curves, "pr", card.family),
        "roc_curve": curves(card.curves, "roc", card.family),
        "calibration": calibration(card.published["calibration"]),
        "lift": lift(card.curves, card.family),
        "importances": importances(card.feature_importances),
    }
