"""Which landed files exist, and their names as URIs, the way Spark writes them in the lineage."""

from __future__ import annotations

import glob
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

LOG_SUFFIXES = (".json", ".json.gz", ".jsonl", ".jsonl.gz")

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
    """A raw log file as discovered: where it is, how big, when it last changed."""

    path: Path
    size_bytes: int
    modified_at: datetime

    @property
    def uri(self) -> str:
        """The file as the ledger and the lineage columns name it (``file_uri``)."""
        return file_uri(self.path)

    @property
    def compressed(self) -> bool:
        return self.path.name.endswith(".gz")


def discover(source: Path) -> list[LandedFile]:
    """Log files under a folder (recursively), a single file, or a glob pattern; sorted by path.

    Names starting with ``_`` or ``.`` (in any folder below ``source``) are side files, as in
    Hadoop and Spark: the generator's ground truth and manifests live there.
    """
    text = str(source)
    if any(ch in text for ch in "*?["):
        candidates = [Path(p) for p in glob.glob(text, recursive=True)]
    elif source.is_dir():
        candidates = [p for p in source.rglob("*") if p.is_file()]
    elif source.is_file():
        candidates = [source]
    else:
        return []
    root = source if source.is_dir() else Path("/")
    files = [p for p in candidates if p.name.endswith(LOG_SUFFIXES) and not _hidden(p, root)]
    return [
        LandedFile(p.resolve(), p.stat().st_size, datetime.fromtimestamp(p.stat().st_mtime, tz=UTC))
        for p in sorted(files)
    ]


def _hidden(path: Path, root: Path) -> bool:
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        parts = (path.name,)
    return any(part.startswith(("_", ".")) for part in parts)
