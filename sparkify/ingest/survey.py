"""One pass over each landed file before Spark reads it: its hash, its lines, and whether it can be read.

The ledger decides what to do with a file from what this pass finds (new, grown, rewritten, a copy
of another, damaged), so a damaged file is caught here, on its own, and never fails a Spark job
that also carries good files. The pass reads every byte once: SHA-256 of the bytes as stored,
the line count of the text (decompressed for ``.gz``), and, for a file that may have grown, the
hash of its first ``prefix_bytes`` bytes.

One definition of a line, here and in the Spark read (``lineSep`` = ``\\n``): a line ends at
``\\n`` (a ``\\r`` before it is part of the line ending); a last line without ``\\n`` counts; a
lone ``\\r`` is a character inside a line.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pyspark.sql import SparkSession

from sparkify.ingest.files import LandedFile
from sparkify.runtime.storage import hadoop_blocks

BLOCK = 1 << 22
TEXT_SNIFF_BYTES = 8192  # a NUL byte in the first 8 KiB: not a text log (grep and git use the same test)


@dataclass(frozen=True)
class Survey:
    """What one pass over a file found."""

    file: LandedFile
    sha256: str
    lines: int
    problem: str | None = None  # why the file cannot be read as lines of text
    prefix_sha256: str | None = None  # hash of the first prefix_bytes bytes, when asked for
    prefix_ends_line: bool = False  # the byte before prefix_bytes is a newline


class _Lines:
    """Counts lines of a text stream fed in blocks; notes a NUL byte at its start."""

    def __init__(self) -> None:
        self.newlines = 0
        self.last = b"\n"
        self.seen = 0
        self.binary = False

    def feed(self, data: bytes) -> None:
        if not data:
            return
        if self.seen < TEXT_SNIFF_BYTES and b"\x00" in data[: TEXT_SNIFF_BYTES - self.seen]:
            self.binary = True
        self.seen += len(data)
        self.newlines += data.count(b"\n")
        self.last = data[-1:]

    @property
    def count(self) -> int:
        return self.newlines + (0 if self.last == b"\n" else 1)


def _blocks(file: LandedFile, spark: SparkSession | None) -> Iterable[bytes]:
    if file.local:
        with open(file.location, "rb") as handle:
            yield from iter(lambda: handle.read(BLOCK), b"")
    elif spark is None:
        raise ValueError(f"{file.uri} is read through Hadoop's FileSystem: it needs the Spark session")
    else:
        yield from hadoop_blocks(spark, file.location, BLOCK)


class _Inflater:
    """Decompresses a gzip stream fed in blocks, across concatenated members."""

    def __init__(self) -> None:
        self.member = zlib.decompressobj(wbits=31)
        self.fed = False

    def feed(self, block: bytes, lines: _Lines) -> str | None:
        """Decompress ``block`` into ``lines``; a problem, or None."""
        data = block
        try:
            while data:
                if self.member.eof:  # another member follows the one that ended
                    self.member = zlib.decompressobj(wbits=31)
                lines.feed(self.member.decompress(data))
                self.fed = True
                data = self.member.unused_data if self.member.eof else b""
        except zlib.error as exc:
            return f"corrupt_gzip: {exc}"
        return None

    @property
    def complete(self) -> bool:
        return not self.fed or self.member.eof


def survey(file: LandedFile, prefix_bytes: int | None = None, spark: SparkSession | None = None) -> Survey:
    """Hash, count and check one file; damaged content is a ``problem``, never an exception.

    A local file is read with the local file system's calls; any other through Hadoop's
    FileSystem of ``spark``'s driver (the bytes cross Py4J: slower, the same result).
    """
    digest = hashlib.sha256()
    prefix_digest: str | None = None
    prefix_ends_line = False
    lines = _Lines()
    inflater = _Inflater() if file.compressed else None
    problem: str | None = None
    offset = 0
    try:
        for block in _blocks(file, spark):
            if prefix_bytes is not None and offset < prefix_bytes <= offset + len(block):
                cut = prefix_bytes - offset
                head = digest.copy()
                head.update(block[:cut])
                prefix_digest = head.hexdigest()
                prefix_ends_line = block[cut - 1 : cut] == b"\n"
            digest.update(block)
            offset += len(block)
            if problem is None:
                if inflater is None:
                    lines.feed(block)
                else:
                    problem = inflater.feed(block, lines)
    except OSError as exc:
        return Survey(file, digest.hexdigest(), 0, f"unreadable: {exc.strerror or exc}")
    if problem is None and inflater is not None and not inflater.complete:
        problem = "truncated_gzip: the compressed stream ends before its end marker"
    if problem is None and lines.binary:
        problem = "not_text: the file starts with binary data (NUL bytes)"
    return Survey(
        file, digest.hexdigest(), 0 if problem else lines.count, problem, prefix_digest, prefix_ends_line
    )


def survey_all(
    files: list[LandedFile], prefixes: dict[str, int], spark: SparkSession | None = None
) -> dict[str, Survey]:
    """Survey every file (two threads per core: hashing and inflating release the GIL), by URI."""
    workers = max(1, min(len(files), 2 * (os.cpu_count() or 1)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(lambda f: survey(f, prefixes.get(f.uri), spark), files)
        return {result.file.uri: result for result in results}
