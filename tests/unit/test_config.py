"""Configuration that is written twice must say the same thing in both places."""

from __future__ import annotations

import configparser

import yaml

from sparkify.expectations import thresholds
from sparkify.ml.training.dataset import FeatureSet
from sparkify.ml.training.pipelines import CALIBRATED_RULE, SIGNAL_LOGISTIC, features_used
from tests.conftest import PROJECT_ROOT


def _dbt_project() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())


def test_sqlfluff_renders_the_models_with_the_vars_dbt_uses():
    sqlfluff = configparser.ConfigParser()
    sqlfluff.read(PROJECT_ROOT / ".sqlfluff")
    context = dict(sqlfluff["sqlfluff:templater:jinja:context"])
    scalar_vars = {k: str(v) for k, v in _dbt_project()["vars"].items() if not isinstance(v, list)}
    assert context == scalar_vars


def test_the_staging_tests_default_scope_is_the_var_default():
    """dbt_project.yml renders its configs before its vars exist, so the +where repeats the default."""
    project = _dbt_project()
    where = project["data_tests"]["sparkify"]["staging"]["sparkify"]["+where"]
    assert f"var('check_events_from', '{project['vars']['check_events_from']}')" in where


def _churn_mart_columns(model: str) -> dict[str, str]:
    """Column name -> contract data type of one model of the churn marts' yml."""
    churn = yaml.safe_load((PROJECT_ROOT / "models/marts/churn/_churn__models.yml").read_text())
    found = next(m for m in churn["models"] if m["name"] == model)
    return {column["name"]: column["data_type"] for column in found["columns"]}


def test_every_feature_the_range_checks_name_is_a_column_of_the_feature_mart():
    columns = set(_churn_mart_columns("fct_user_features"))
    named = set(thresholds.NON_NEGATIVE_FEATURES) | set(thresholds.SHARE_FEATURES)
    assert named <= columns, named - columns


def test_the_narrow_model_families_read_numeric_columns_of_the_training_set():
    columns = _churn_mart_columns("fct_training_set")
    for family in (CALIBRATED_RULE, SIGNAL_LOGISTIC):
        used = features_used(family, FeatureSet(numeric=(), categorical=()))
        assert used.numeric and all(
            columns.get(name) in {"bigint", "int", "double"} for name in used.numeric
        ), used
