"""Versioned churn models in storage, and the champion pointer the scoring job follows.

The registry is addressed by URI through Hadoop's FileSystem API (``sparkify.runtime.storage``): the
lakehouse folder by default, ``SPARKIFY_MODEL_DIR`` or ``SPARKIFY_STORAGE`` (``hdfs://``, ``s3a://``)
on a cluster, where the driver that trains and the one that scores need not share a disk.

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
from typing import Any

from pyspark.ml import PipelineModel

from sparkify.runtime import storage
from sparkify.runtime.errors import UsageError
from sparkify.runtime.settings import project_dir
from sparkify.runtime.spark import get_spark
from sparkify.runtime.sql_values import checked
from sparkify.runtime.version import __version__


def models_root() -> str:
    """``SPARKIFY_MODEL_DIR`` (a URI or a path) or ``<storage root>/models/churn``, as a URI."""
    override = os.environ.get("SPARKIFY_MODEL_DIR")
    return storage.as_uri(override) if override else storage.join(storage.storage_root(), "models", "churn")


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
    uri: str
    metadata: dict[str, Any]

    def load(self) -> PipelineModel:
        return PipelineModel.load(storage.join(self.uri, "pipeline"))


def save_model(model: PipelineModel, version: str, metadata: dict[str, Any]) -> RegisteredModel:
    folder = storage.join(models_root(), version)
    model.write().overwrite().save(storage.join(folder, "pipeline"))
    _write_json(storage.join(folder, "metadata.json"), {"version": version, **metadata})
    return RegisteredModel(version, folder, metadata)


def load_version(version: str) -> RegisteredModel:
    folder = storage.join(models_root(), checked(version, "model version"))
    metadata = storage.join(folder, "metadata.json")
    if not storage.exists(get_spark(), metadata):
        raise UsageError(f"no model version {version} under {models_root()}")
    return RegisteredModel(version, folder, json.loads(storage.read_bytes(get_spark(), metadata)))


def champion() -> RegisteredModel | None:
    pointer = storage.join(models_root(), "champion.json")
    if not storage.exists(get_spark(), pointer):
        return None
    return load_version(json.loads(storage.read_bytes(get_spark(), pointer))["version"])


def promote(version: str, reason: str) -> None:
    _write_json(
        storage.join(models_root(), "champion.json"),
        {
            "version": version,
            "promoted_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "reason": reason,
        },
    )


def _write_json(uri: str, payload: dict[str, Any]) -> None:
    text = json.dumps(payload, indent=2, default=str) + "\n"
    storage.write_bytes(get_spark(), uri, text.encode())
