"""MLflow tracking and model registry: every training is a run, the published model is ``sparkify_churn@champion``.

Where: ``MLFLOW_TRACKING_URI`` when it is set (a tracking server or a shared database on a
cluster), otherwise a SQLite store and an artifact folder under the storage root
(``<lakehouse>/mlflow/mlflow.db`` and ``<lakehouse>/mlflow/artifacts``), so the embedded default
needs no server and a fresh lakehouse starts a fresh registry. A storage root that is not a local
folder (``hdfs://``, ``s3a://``) has no default: a SQLite file cannot live there, so the job asks
for a tracking URI instead of writing one somewhere the next driver cannot see.

A training run records its parameters, metrics (each family on validation and on the held-out
dates, the baselines and both ceilings), the report's plots, the model card and, as tags, the git
commit and the Delta version of the training table. Its model is logged with MLflow's Spark flavour
(the fitted PipelineModel, written through a temporary folder on the cluster's file system when the
artifact store is local to the driver) and registered as a new version of ``sparkify_churn``; the
alias ``champion`` is the pointer the scoring job follows (``models:/sparkify_churn@champion``).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

from pyspark.ml import PipelineModel

from sparkify.ml.model_card import ModelCard
from sparkify.runtime import storage
from sparkify.runtime.errors import UsageError
from sparkify.runtime.settings import project_dir
from sparkify.runtime.version import __version__

MODEL_NAME = "sparkify_churn"
CHAMPION_ALIAS = "champion"
CHAMPION_URI = f"models:/{MODEL_NAME}@{CHAMPION_ALIAS}"
EXPERIMENT = "sparkify_churn"
MODEL_ARTIFACT = "model"
CARD_ARTIFACT = "model_card.json"
# What a model needs to be loaded again, written into its MLmodel environment at the versions
# installed here (pyproject.toml pins them) instead of letting MLflow infer it, which reloads the
# model in a new Python process (and a new JVM) for seconds.
MODEL_DISTRIBUTIONS = ("pyspark", "xgboost-cpu", "scikit-learn")


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI``, else the SQLite store under a local storage root."""
    configured = os.environ.get("MLFLOW_TRACKING_URI")
    if configured:
        return configured
    folder = _local_mlflow_folder()
    return f"sqlite:///{folder / 'mlflow.db'}"


def _local_mlflow_folder() -> Path:
    root = storage.local_path(storage.storage_root())
    if root is None:
        raise UsageError(
            f"the storage root {storage.storage_root()} is not a local folder: set MLFLOW_TRACKING_URI "
            "to the team's tracking server or database (docs/ml.md, 'MLflow')"
        )
    folder = root / "mlflow"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def registry_uri() -> str:
    """``MLFLOW_REGISTRY_URI`` when the registry lives apart from the runs, else the tracking URI."""
    return os.environ.get("MLFLOW_REGISTRY_URI") or tracking_uri()


@cache
def _client_for(tracking: str, registry: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=tracking, registry_uri=registry)


def client():
    """The MLflow client of this environment's stores, with MLflow's fluent API pointed at them too.

    MLflow exports the URIs it is given to the environment (for its subprocesses); they are put back,
    so the next job in this process, with another lakehouse, finds its own store.
    """
    import mlflow

    _quiet_mlflow()  # after the import: importing MLflow sets its loggers to INFO
    tracking, registry = tracking_uri(), registry_uri()
    exported = {name: os.environ.get(name) for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    mlflow.set_tracking_uri(tracking)
    mlflow.set_registry_uri(registry)
    for name, value in exported.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    return _client_for(tracking, registry)


def _quiet_mlflow() -> None:
    """MLflow's and its schema migrations' logs at warning level; no download progress bars in job logs."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


def experiment_id() -> str:
    """The ``sparkify_churn`` experiment, created on first use with its artifacts beside the store."""
    current = client()
    found = current.get_experiment_by_name(EXPERIMENT)
    if found is not None:
        return found.experiment_id
    location = None
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        location = (_local_mlflow_folder() / "artifacts").as_uri()
    return current.create_experiment(EXPERIMENT, artifact_location=location)


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project_dir(), capture_output=True, text=True, check=True
    ).stdout.strip()


def git_commit() -> str:
    """The full git commit of the checkout (what MLflow's UI shows and links); empty outside one."""
    try:
        return _git("rev-parse", "HEAD")
    except (OSError, subprocess.CalledProcessError):
        return ""


def code_version() -> str:
    """The release and short commit of the code that trained the model (``.dirty`` for local changes)."""
    try:
        commit = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
        return f"{__version__}+{commit}{'.dirty' if dirty else ''}"
    except (OSError, subprocess.CalledProcessError):
        return __version__


@dataclass(frozen=True)
class ModelVersion:
    """A registered version of ``sparkify_churn`` and the card its training run wrote.

    ``version`` is what the scores table records (``sparkify_churn/3``): the name and number an
    analyst can look up in the MLflow UI or load as ``models:/sparkify_churn/3``.
    """

    number: int
    run_id: str
    card: ModelCard

    @property
    def version(self) -> str:
        return f"{MODEL_NAME}/{self.number}"

    @property
    def uri(self) -> str:
        return f"models:/{MODEL_NAME}/{self.number}"

    def load(self) -> PipelineModel:
        """The fitted pipeline, through MLflow's Spark flavour (copied to the cluster's file system when needed)."""
        import mlflow.spark

        client()  # the tracking and registry URIs of this environment
        _forget_mlflows_hadoop_handle()
        return mlflow.spark.load_model(self.uri, dfs_tmpdir=_dfs_tmpdir())


def _forget_mlflows_hadoop_handle() -> None:
    """Make MLflow's Spark flavour look up the Hadoop FileSystem of the running Spark again.

    It keeps the first one it saw for the life of the process; after Spark was stopped and started
    (a test, or a job handing the embedded metastore to a child process) that one belongs to a JVM
    that is gone, and loading a model would fail with "connection refused".
    """
    from mlflow.spark import _HadoopFileSystem

    _HadoopFileSystem._filesystem = None


def _dfs_tmpdir() -> str:
    """Where Spark writes or reads a model on its way to or from the artifact store: under the storage root."""
    return storage.join(storage.storage_root(), "tmp", "mlflow")


def _version(entry) -> ModelVersion:
    import mlflow

    client()
    card = mlflow.artifacts.load_dict(f"runs:/{entry.run_id}/{CARD_ARTIFACT}")
    return ModelVersion(int(entry.version), entry.run_id, ModelCard.from_dict(card))


def champion() -> ModelVersion | None:
    """The version the alias ``champion`` points at, or None before the first promotion."""
    from mlflow.exceptions import MlflowException

    try:
        entry = client().get_model_version_by_alias(MODEL_NAME, CHAMPION_ALIAS)
    except MlflowException as error:
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise
    return _version(entry)


def load_version(number: int) -> ModelVersion:
    from mlflow.exceptions import MlflowException

    try:
        entry = client().get_model_version(MODEL_NAME, str(number))
    except MlflowException as error:
        raise UsageError(f"no version {number} of {MODEL_NAME} in {tracking_uri()}") from error
    return _version(entry)


def promote(version: ModelVersion, reason: str) -> None:
    """Point the alias at ``version``; the reason stays on the version as a tag."""
    current = client()
    current.set_model_version_tag(MODEL_NAME, str(version.number), "promotion", reason)
    current.set_registered_model_alias(MODEL_NAME, CHAMPION_ALIAS, str(version.number))


@contextmanager
def training_run(tags: Mapping[str, str]) -> Iterator[str]:
    """An MLflow run of the ``sparkify_churn`` experiment; yields its id, ends it failed on an error."""
    import mlflow

    client()
    with mlflow.start_run(experiment_id=experiment_id(), tags=dict(tags)) as run:
        yield run.info.run_id


def log_evaluation(
    params: Mapping[str, Any], metrics: Mapping[str, float], figures: Mapping[str, str]
) -> None:
    """Parameters, metrics (NaN ones left out) and the figures (PNG data URIs) of the active run."""
    import mlflow

    mlflow.log_params({name: str(value)[:6000] for name, value in params.items()})
    mlflow.log_metrics({name: float(value) for name, value in metrics.items() if value == value})
    with tempfile.TemporaryDirectory(prefix="sparkify-plots-") as folder:
        for name, data_uri in figures.items():
            png = base64.b64decode(data_uri.split(",", 1)[1])
            (Path(folder) / f"{name}.png").write_bytes(png)
        mlflow.log_artifacts(folder, "plots")


def log_card(card: ModelCard) -> None:
    """The model card of the active run: what scoring, the report and the pipeline summary read."""
    import mlflow

    mlflow.log_text(json.dumps(card.to_dict(), indent=2, default=str) + "\n", CARD_ARTIFACT)


def register(model: PipelineModel, run_id: str, card: ModelCard) -> ModelVersion:
    """Log ``model`` in the active run and register it as the next version of ``sparkify_churn``.

    The card is written to the run after this, with the version number in it.
    """
    import mlflow
    import mlflow.spark

    client()
    _forget_mlflows_hadoop_handle()
    logged = mlflow.spark.log_model(
        model, MODEL_ARTIFACT, dfs_tmpdir=_dfs_tmpdir(), pip_requirements=_pip_requirements()
    )
    entry = mlflow.register_model(logged.model_uri, MODEL_NAME, tags={"family": card.family})
    registered = ModelVersion(int(entry.version), run_id, card)
    return replace(registered, card=card.registered(registered.version, run_id))


def _pip_requirements() -> list[str]:
    return [f"{name}=={installed_version(name)}" for name in MODEL_DISTRIBUTIONS]
