"""Where the runtime finds the project: an explicit setting or the working directory, never its own file."""

from __future__ import annotations

from pathlib import Path

import pytest

from sparkify.runtime.settings import SettingsError, project_dir
from tests.conftest import PROJECT_ROOT


def test_the_project_is_found_from_any_folder_inside_it(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SPARKIFY_PROJECT_DIR", raising=False)
    monkeypatch.chdir(PROJECT_ROOT / "models" / "staging")
    assert project_dir() == PROJECT_ROOT


def test_an_explicit_setting_wins_and_must_name_a_project(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SPARKIFY_PROJECT_DIR", str(PROJECT_ROOT))
    assert project_dir() == PROJECT_ROOT
    monkeypatch.setenv("SPARKIFY_PROJECT_DIR", str(tmp_path))
    with pytest.raises(SettingsError, match=r"holds no dbt_project\.yml"):
        project_dir()


def test_outside_any_project_the_error_says_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("SPARKIFY_PROJECT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError, match="SPARKIFY_PROJECT_DIR"):
        project_dir()
