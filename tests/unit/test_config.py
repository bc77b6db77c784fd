"""Configuration that is written twice must say the same thing in both places."""

from __future__ import annotations

import configparser

import yaml

from sparkify.expectations import thresholds
from tests.conftest import PROJECT_ROOT


def _dbt_project() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())


def test_sqlfluff_renders_the_models_with_the_vars_dbt_uses():
    sqlfluff = configparser.ConfigParser()
    sqlfluff.read(PROJECT_ROOT / ".sqlfluff")
    context = dict(sqlfluff["sqlfluff:templater:jinja:context"])
    scalar_vars = {k: str(v) for k, v in _dbt_project()["vars"].items() if not isinstance(v, list)}
    assert context == scalar_vars


def test_every_feature_the_range_checks_name_is_a_column_of_the_feature_mart():
    churn = yaml.safe_load((PROJECT_ROOT / "models/marts/churn/_churn__models.yml").read_text())
    features = next(m for m in churn["models"] if m["name"] == "fct_user_features")
    columns = {column["name"] for column in features["columns"]}
    named = set(thresholds.NON_NEGATIVE_FEATURES) | set(thresholds.SHARE_FEATURES)
    assert named <= columns, named - columns
