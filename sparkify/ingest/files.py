"""Which landed files exist, and their names as URIs, the way Spark writes them in the lineage.

A landing is a local path or a URI. Local paths (and ``file:`` URIs) are listed with the local file
system's calls; every other scheme (``hdfs://``, ``s3a://``, ...) through Hadoop's FileSystem API of
the running Spark driver, with the settings and credentials the cluster gives Spark. Setting
``SPARKIFY_FILESYSTEM=hadoop`` sends ``file:`` through Hadoop's API too (how the tests prove that
route on one machine).
"""

from __future__ import annotations

import glob
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from pyspark.sql import SparkSession

from sparkify.runtime.storage import hadoop_forced, hadoop_list_files

LOG_SUFFIXES = (".json", ".json.gz", ".jsonl", ".jsonl.gz")
GLOB_CHARACTERS = "*?["
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")  # two letters at least: not a drive letter

# Characters java.net.URI keeps as they are in a path; Spark's ``_metadata.file_path`` is built
# by it, so a name with a space, ``%``, ``#`` or ``?`` is percent-encoded there.
_URI_PATH_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'(),;:$&+=/@")


def file_uri(path: Path) -> str:
    """``file:`` + the absolute path, quoted as java.net.URI quotes it (and so as Spark names the file).

    ASCII outside the URI's path characters is percent-encoded as UTF-8; other characters stay,
    except controls and spaces, as in java.net.URI's "other" category.
    """
    out = []
    for char in str(path):
        keep = char in _URI_PATH_SAFE or (
            not char.isascii() and unicodedata.category(char) not in {"Cc", "Zs", "Zl", "Zp"}
        )
        out.append(char if keep else "".join(f"%{byte:02X}" for byte in char.encode()))
    return "file:" + "".join(out)


@dataclass(frozen=True)
class LandedFile:
    """A raw log file as discovered: where it is, how big, when it last changed.

    ``location`` is what readers open (a local path, or a Hadoop path with its characters as they
    are); ``uri`` is the name the ledger and the lineage columns give it (percent-encoded, as
    Spark's ``_metadata.file_path``).
    """

    location: str
    uri: str
    size_bytes: int
    modified_at: datetime
    local: bool = True  # read with the local file system's calls, else through Hadoop's FileSystem

    @property
    def name(self) -> str:
        return PurePosixPath(self.location).name

    @property
    def compressed(self) -> bool:
        return self.name.endswith(".gz")


def discover(source: str | Path, spark: SparkSession | None = None) -> list[LandedFile]:
    """Log files under a folder (recursively), a single file, or a glob pattern; sorted by URI.

    Names starting with ``_`` or ``.`` (in any folder below ``source``) are side files, as in
    Hadoop and Spark: the generator's ground truth and manifests live there. ``spark`` is needed
    only for a landing that goes through Hadoop's FileSystem (``needs_spark``).
    """
    local = local_folder(source)
    if local is not None:
        return _discover_local(local)
    if spark is None:
        raise ValueError(f"listing {source} goes through Hadoop's FileSystem: it needs the Spark session")
    return _discover_hadoop(spark, hadoop_path_text(source))


def needs_spark(source: str | Path) -> bool:
    """Whether listing and reading ``source`` goes through Hadoop's FileSystem (so through Spark)."""
    return local_folder(source) is None


def local_folder(source: str | Path) -> Path | None:
    """The local path of a landing, or None when it is listed and read through Hadoop's FileSystem.

    A landing is written as Hadoop writes paths: ``file:/data/raw``, ``file:///data/raw`` and
    ``/data/raw`` are one folder, and no character is percent-encoded.
    """
    text = str(source)
    scheme = _scheme(text)
    if hadoop_forced() or scheme not in ("", "file"):
        return None
    return Path(_without_file_scheme(text)) if scheme else Path(text)


def hadoop_path_text(source: str | Path) -> str:
    """``source`` as a Hadoop path string: a URI as it is, a local path as an absolute ``file:`` path."""
    text = str(source)
    return text if _scheme(text) else "file:" + str(Path(text).expanduser().absolute())


def _scheme(text: str) -> str:
    match = _SCHEME.match(text)
    return match.group(1).lower() if match else ""


def _without_file_scheme(text: str) -> str:
    rest = text[len("file:") :]
    return "/" + rest.lstrip("/") if rest.startswith("//") else rest


def _discover_local(source: Path) -> list[LandedFile]:
    text = str(source)
    if any(ch in text for ch in GLOB_CHARACTERS):
        candidates = [Path(p) for p in glob.glob(text, recursive=True)]
    elif source.is_dir():
        candidates = [p for p in source.rglob("*") if p.is_file()]
    elif source.is_file():
        candidates = [source]
    else:
        return []
    root = PurePosixPath(source if source.is_dir() else "/")
    found = []
    for candidate in candidates:
        if _is_log(PurePosixPath(candidate), root):
            path = candidate.resolve()
            stat = path.stat()
            modified = datetime.fromtimestamp(stat.st_mtime, tz=UTC)
            found.append(LandedFile(str(path), file_uri(path), stat.st_size, modified))
    return sorted(found, key=lambda f: f.uri)


def _discover_hadoop(spark: SparkSession, source: str) -> list[LandedFile]:
    is_glob = any(ch in source for ch in GLOB_CHARACTERS)
    listed, folder = hadoop_list_files(spark, source, is_glob)
    root = PurePosixPath(folder or "/")
    found = []
    for entry in listed:
        if _is_log(PurePosixPath(entry.path), root):
            modified = datetime.fromtimestamp(entry.modified_ms / 1000, tz=UTC)
            found.append(LandedFile(entry.location, entry.uri, entry.size_bytes, modified, local=False))
    return sorted(found, key=lambda f: f.uri)


def _is_log(path: PurePosixPath, root: PurePosixPath) -> bool:
    """A log file by its name, and not a side file (no ``_`` or ``.`` part below ``root``)."""
    return path.name.endswith(LOG_SUFFIXES) and not _hidden(path, root)


def _hidden(path: PurePosixPath, root: PurePosixPath) -> bool:
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        parts = (path.name,)
    return any(part.startswith(("_", ".")) for part in parts)
