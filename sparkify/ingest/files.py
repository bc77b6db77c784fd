"""Which landed files exist, which are new, and how many lines each holds."""

from __future__ import annotations

import glob
import gzip
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

LOG_SUFFIXES = (".json", ".json.gz", ".jsonl", ".jsonl.gz")


@dataclass(frozen=True)
class LandedFile:
    """A raw log file and the facts the ledger records about it."""

    path: Path
    size_bytes: int
    modified_at: datetime

    @property
    def uri(self) -> str:
        """The file as Spark names it in ``_metadata.file_path`` (and so in the lineage columns)."""
        return f"file:{self.path}"


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


def count_lines(path: Path) -> int:
    """Lines as Spark's text reader sees them: newline-separated, a last line without newline counts."""
    opener = gzip.open if path.name.endswith(".gz") else open
    count = 0
    last = b"\n"
    with opener(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (0 if last == b"\n" else 1)


def _hidden(path: Path, root: Path) -> bool:
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        parts = (path.name,)
    return any(part.startswith(("_", ".")) for part in parts)
