"""Where the project is, where its state lives, and the Spark settings of the active dbt target.

Spark settings are kept in exactly one place, ``profiles.yml``. dbt reads them for its own
session; this module renders the same file (with dbt's ``env_var`` semantics) so that the
Python steps start an identical SparkSession instead of keeping a second copy by hand.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import jinja2
import yaml

PROFILE_NAME = "sparkify"
PROJECT_MARKERS = ("dbt_project.yml", "profiles.yml")


class SettingsError(RuntimeError):
    """The project or its profile cannot be found or rendered (for example an unset variable)."""


RAW_SCHEMA = "raw"
ANALYTICS_SCHEMA = "analytics"


def project_dir() -> Path:
    """The project checkout: ``SPARKIFY_PROJECT_DIR``, else the nearest folder at or above the
    working directory that holds ``dbt_project.yml`` and ``profiles.yml``.

    Not the installed code's location: an installed wheel lives in site-packages, far from the
    project whose models and profile it runs.
    """
    explicit = os.environ.get("SPARKIFY_PROJECT_DIR")
    if explicit:
        root = Path(explicit).expanduser().absolute()
        if not all((root / marker).is_file() for marker in PROJECT_MARKERS):
            raise SettingsError(f"SPARKIFY_PROJECT_DIR={explicit} holds no dbt_project.yml and profiles.yml")
        return root
    here = Path.cwd()
    for folder in (here, *here.parents):
        if all((folder / marker).is_file() for marker in PROJECT_MARKERS):
            return folder
    raise SettingsError(
        f"no Sparkify project at or above {here}: run from the project checkout or set SPARKIFY_PROJECT_DIR"
    )


def project_var(name: str) -> Any:
    """The default of a dbt var, as dbt_project.yml declares it (a run may override it with --vars)."""
    project = yaml.safe_load((project_dir() / "dbt_project.yml").read_text())
    return project["vars"][name]


def lakehouse_dir() -> Path:
    """Root of all generated state; ``SPARKIFY_LAKEHOUSE`` overrides the project-local default."""
    return _anchored(os.environ.get("SPARKIFY_LAKEHOUSE", "lakehouse"))


def ensure_lakehouse() -> Path:
    """The lakehouse folder, created readable by its owner only (it holds every user's history)."""
    home = lakehouse_dir()
    if not home.exists():
        home.mkdir(parents=True, mode=0o700)
        home.chmod(0o700)  # mkdir's mode is filtered by the umask
    return home


def cluster_home() -> Path:
    """State of the project's own Spark cluster (``sparkify cluster up``): the metastore's PostgreSQL
    data, Spark's configuration, work folders and logs, and the cluster's warehouse."""
    return lakehouse_dir() / "cluster"


def cluster_conf_dir() -> Path:
    """``SPARK_CONF_DIR`` of the project's cluster: spark-defaults.conf, spark-env.sh, log4j2.properties.

    Every process of the cluster target reads it, as every process on a real cluster reads the
    cluster's conf folder: the Thrift server, ``spark-submit`` and a ``sparkify`` step alike.
    """
    return cluster_home() / "conf"


def raw_landing() -> str:
    """Where the ingestion step reads new log files from: a folder, or a URI (``hdfs://``, ``s3a://``, ...).

    ``SPARKIFY_RAW_DIR`` overrides it; a relative path is taken from the project root.
    """
    setting = os.environ.get("SPARKIFY_RAW_DIR", "data/raw")
    return setting if urlparse(setting).scheme else str(_anchored(setting))


def raw_landing_dir() -> Path:
    """The landing as a local folder, for the steps that write into it (``sparkify generate``).

    A ``file:`` URI is that folder; another scheme is refused with a clear message.
    """
    landing = raw_landing()
    parsed = urlparse(landing)
    if not parsed.scheme:
        return Path(landing)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    raise SettingsError(
        f"SPARKIFY_RAW_DIR is {landing}: this step writes into a local folder; "
        "give it one with --out, or copy a generated log to that landing"
    )


def _anchored(path: str) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else project_dir() / candidate


def pin_environment() -> None:
    """Make relative settings mean the same thing in this process and every child it starts.

    The profile uses paths relative to the project root. Resolving the overridable ones to
    absolute paths and moving into the project root means that ``sparkify`` behaves the same
    wherever it is launched from, and that dbt (run in-process) sees the same lakehouse.
    """
    root = project_dir()
    os.environ["SPARKIFY_PROJECT_DIR"] = str(root)
    os.environ["SPARKIFY_LAKEHOUSE"] = str(lakehouse_dir())
    os.environ["SPARKIFY_RAW_DIR"] = raw_landing()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Spark's Python workers (XGBoost's training task, pandas-backed functions) must import this
    # environment's packages, not those of whatever `python3` is first on the PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.chdir(root)


@dataclass(frozen=True)
class Target:
    """The rendered dbt output the project runs against."""

    name: str
    method: str
    schema: str
    spark_conf: dict[str, str]
    host: str | None = None
    port: int | None = None

    @property
    def is_embedded(self) -> bool:
        """True when this process owns the Spark driver (and the embedded Derby metastore)."""
        return self.method == "session"


def _env_var(name: str, default: str | None = None) -> str:
    if name in os.environ:
        return os.environ[name]
    if default is None:
        raise SettingsError(f"profiles.yml needs the environment variable {name}, which is not set")
    return str(default)


def _render(value: Any, env: jinja2.Environment) -> Any:
    if isinstance(value, str):
        return env.from_string(value).render()
    if isinstance(value, dict):
        return {key: _render(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [_render(item, env) for item in value]
    return value


@cache
def active_target(name: str | None = None) -> Target:
    """Render ``profiles.yml`` and return the chosen target (default: ``DBT_TARGET`` or the profile's)."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.globals["env_var"] = _env_var
    env.filters["as_number"] = lambda text: text
    profile = yaml.safe_load((project_dir() / "profiles.yml").read_text())[PROFILE_NAME]
    target_name = name or _render(profile.get("target", "local"), env)
    outputs = profile["outputs"]
    if target_name not in outputs:
        raise SettingsError(f"unknown target {target_name!r}; profiles.yml defines {sorted(outputs)}")
    output = _render(outputs[target_name], env)
    conf = {str(k): str(v) for k, v in (output.get("server_side_parameters") or {}).items()}
    port = output.get("port")
    return Target(
        target_name,
        output["method"],
        output["schema"],
        conf,
        host=output.get("host"),
        port=int(port) if port not in (None, "") else None,
    )
