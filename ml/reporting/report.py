"""``sparkify report``: one self-contained HTML file (plots embedded as PNG) an analyst can open anywhere."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import jinja2

from sparkify.ml import tracking
from sparkify.ml.reporting import plots, report_data
from sparkify.runtime import storage
from sparkify.runtime.progress import say, step
from sparkify.runtime.settings import lakehouse_dir
from sparkify.runtime.spark import get_spark

TOP_USERS = 20


def report_uri() -> str:
    """Where the report goes: ``<storage root>/reports/churn_report.html`` (the lakehouse by default)."""
    return storage.join(storage.storage_root(), "reports", "churn_report.html")


def render_report() -> str:
    """Query the marts, draw the figures, write the HTML (whole or not at all); return its URI."""
    spark = get_spark()
    with step("query the marts for the report"):
        overview = report_data.overview(spark)
        rates = {
            a: report_data.churn_rate_by(spark, a) for a in ("current_level", "gender", "platform", "state")
        }
        weekly = report_data.weekly_activity_before_end(spark)
        scores = report_data.latest_scores(spark)
    champion = tracking.champion()
    model = champion.card if champion else None
    context = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "lakehouse": lakehouse_dir(),
        "overview": overview,
        "rate_plots": [
            (f"churn rate by {name}", plots.churn_rate_bars(frame, f"Churn rate by {name.replace('_', ' ')}"))
            for name, frame in rates.items()
        ],
        "weekly_plot": plots.weekly_activity(weekly, report_data.activity_measures(weekly)),
        "model": model,
        "scores_summary": None,
    }
    if model:
        figures = plots.model_figures(model)
        context["pr_plot"] = figures["pr_curve"]
        context["roc_plot"] = figures["roc_curve"]
        context["calibration_plot"] = figures["calibration"]
        context["lift_plot"] = figures["lift"]
        context["calibration"] = model.calibration.describe()
        context["importance_plot"] = figures["importances"]
    if len(scores):
        context["scores_summary"] = {"users": len(scores), "as_of_date": scores["as_of_date"].max()}
        context["score_plot"] = plots.score_distribution(scores["churn_probability"])
        context["top_users"] = (
            scores.sort_values("churn_probability", ascending=False).head(TOP_USERS).to_dict("records")
        )
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    html = environment.get_template("report.html.j2").render(**context)
    uri = report_uri()
    data = html.encode()
    storage.write_bytes(spark, uri, data)
    say(f"report: {storage.local_path(uri) or uri} ({len(data) / 1024:.0f} KB)")
    return uri


def report_command() -> int:
    """CLI wrapper: the report says where it went."""
    render_report()
    return 0
