"""Versioned churn models under the lakehouse, and the champion pointer the scoring job follows.

Layout: ``<models root>/<version>/pipeline/`` (the fitted PipelineModel) and
``<version>/metadata.json`` (features, parameters, metrics, the Delta version and as-of range of
the training data, code version, time); ``<models root>/champion.json`` names the champion. The
pointer is replaced atomically and durably (write, fsync, rename, fsync of the folder), so neither
a reader nor a power cut ever sees half of it. A version read from it must look like a version
(``sql_values.checked``) before it goes anywhere near SQL or a path.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyspark.ml import PipelineModel

from sparkify.runtime.errors import UsageError
from sparkify.runtime.settings import lakehouse_dir, project_dir
from sparkify.runtime.sql_values import checked
from sparkify.runtime.version import __version__


def models_root() -> Path:
    """``SPARKIFY_MODEL_DIR`` or ``<lakehouse>/models/churn``."""
    override = os.environ.get("SPARKIFY_MODEL_DIR")
    return Path(override).absolute() if override else lakehouse_dir() / "models" / "churn"


def new_version() -> str:
    """Sortable, unique enough for one team: UTC time to the second."""
    return datetime.now(UTC).strftime("v%Y%m%dT%H%M%SZ")


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project_dir(), capture_output=True, text=True, check=True
    ).stdout.strip()


def code_version() -> str:
    """The git commit of the code that trained the model (with ``.dirty`` for local changes)."""
    try:
        commit = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
        return f"{__version__}+{commit}{'.dirty' if dirty else ''}"
    except (OSError, subprocess.CalledProcessError):
        return __version__


@dataclass(frozen=True)
class RegisteredModel:
    """A saved model version."""

    version: str
    path: Path
    metadata: dict[str, Any]

    def load(self) -> PipelineModel:
        return PipelineModel.load(str(self.path / "pipeline"))


def save_model(model: PipelineModel, version: str, metadata: dict[str, Any]) -> RegisteredModel:
    folder = models_root() / version
    model.write().overwrite().save(str(folder / "pipeline"))
    _write_json(folder / "metadata.json", {"version": version, **metadata})
    return RegisteredModel(version, folder, metadata)


def load_version(version: str) -> RegisteredModel:
    folder = models_root() / checked(version, "model version")
    if not (folder / "metadata.json").exists():
        raise UsageError(f"no model version {version} under {models_root()}")
    return RegisteredModel(version, folder, json.loads((folder / "metadata.json").read_text()))


def champion() -> RegisteredModel | None:
    pointer = models_root() / "champion.json"
    if not pointer.exists():
        return None
    return load_version(json.loads(pointer.read_text())["version"])


def promote(version: str, reason: str) -> None:
    _write_json(
        models_root() / "champion.json",
        {
            "version": version,
            "promoted_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "reason": reason,
        },
    )


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    with open(partial, "w") as handle:
        handle.write(json.dumps(payload, indent=2, default=str) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # the rename itself is durable only once the folder is on disk
    finally:
        os.close(folder)
