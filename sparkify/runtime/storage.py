"""Files outside the tables, addressed as URIs through Hadoop's FileSystem API.

The landing folder, the report and the Data Docs are files, not tables.
Addressing them as URIs
(``file:///...`` today, ``hdfs://`` or ``s3a://`` on a cluster) through the FileSystem of the
running Spark driver means that the same code writes them wherever the cluster keeps its data, with
the credentials and settings the cluster already gives Spark. A ``file:`` URI is written with the
local file system's own guarantees instead: write, fsync, rename, fsync of the folder, so a reader
or a power cut never sees half a file; other file systems give what their ``rename`` gives.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from py4j.protocol import Py4JJavaError
from pyspark.sql import SparkSession

from sparkify.runtime.settings import lakehouse_dir


def storage_root() -> str:
    """``SPARKIFY_STORAGE`` (a URI or a path), else the lakehouse folder, as a URI without a trailing slash."""
    return as_uri(os.environ.get("SPARKIFY_STORAGE") or str(lakehouse_dir()))


def as_uri(location: str | Path) -> str:
    """A URI for ``location``: URIs stay as they are, paths become absolute ``file:`` URIs."""
    text = str(location)
    if urlparse(text).scheme:
        return text.rstrip("/")
    return Path(text).expanduser().absolute().as_uri()


def join(uri: str, *parts: str) -> str:
    return "/".join([uri.rstrip("/"), *(part.strip("/") for part in parts)])


def local_path(uri: str) -> Path | None:
    """The local path of a ``file:`` URI, None for any other file system."""
    parsed = urlparse(uri)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else None


def hadoop_forced() -> bool:
    """``SPARKIFY_FILESYSTEM=hadoop``: local files too go through Hadoop's FileSystem API.

    It is the route a cluster takes for ``hdfs://`` or ``s3a://``, provable on one machine.
    """
    return os.environ.get("SPARKIFY_FILESYSTEM", "local") == "hadoop"


def local_route(uri: str) -> Path | None:
    """The local path to use for ``uri``, or None when it goes through Hadoop's FileSystem."""
    return None if hadoop_forced() else local_path(uri)


def _filesystem(spark: SparkSession, uri: str):
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path, path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())


def exists(spark: SparkSession, uri: str) -> bool:
    local = local_route(uri)
    if local is not None:
        return local.exists()
    return hadoop_exists(spark, uri)


def read_bytes(spark: SparkSession, uri: str) -> bytes:
    local = local_route(uri)
    if local is not None:
        return local.read_bytes()
    return hadoop_read_bytes(spark, uri)


def write_bytes(spark: SparkSession, uri: str, data: bytes) -> None:
    """Replace the file at ``uri`` with ``data``: whole or not at all (see the module's note)."""
    local = local_route(uri)
    if local is not None:
        _write_local(local, data)
    else:
        hadoop_write_bytes(spark, uri, data)


# Through Hadoop's FileSystem, for any scheme (the tests run them on file: URIs too).


def hadoop_exists(spark: SparkSession, uri: str) -> bool:
    path, fs = _filesystem(spark, uri)
    return bool(fs.exists(path))


def hadoop_read_bytes(spark: SparkSession, uri: str) -> bytes:
    path, fs = _filesystem(spark, uri)
    stream = fs.open(path)
    try:
        return bytes(spark.sparkContext._jvm.org.apache.commons.io.IOUtils.toByteArray(stream))
    finally:
        stream.close()


def hadoop_write_bytes(spark: SparkSession, uri: str, data: bytes) -> None:
    """Write beside the target, sync, then rename it into place: a reader never sees half a file.

    Hadoop's ``rename`` does not replace a file, so the old one is deleted first: for that moment
    a reader finds none, and retries (callers treat "no file" as "not yet").
    """
    path, fs = _filesystem(spark, uri)
    partial = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(uri + ".partial")
    fs.mkdirs(path.getParent())
    out = fs.create(partial, True)
    try:
        out.write(bytearray(data))
        out.hsync()
    finally:
        out.close()
    if fs.exists(path):
        fs.delete(path, False)
    if not fs.rename(partial, path):
        raise OSError(f"could not rename {uri}.partial to {uri}")


@dataclass(frozen=True)
class ListedFile:
    """A file as Hadoop's FileSystem lists it."""

    location: str  # Path.toString(): what Spark and FileSystem.open take back
    uri: str  # Path.toUri().toString(): percent-encoded, as Spark's ``_metadata.file_path``
    path: str  # the path part alone, decoded
    size_bytes: int
    modified_ms: int


def hadoop_list_files(spark: SparkSession, uri: str, is_glob: bool) -> tuple[list[ListedFile], str | None]:
    """The files at ``uri`` (a file, a folder listed recursively, or a glob); the folder's path, if one."""
    path, fs = _filesystem(spark, uri)
    if is_glob:
        statuses = list(fs.globStatus(path) or [])
    elif fs.exists(path):
        statuses = [fs.getFileStatus(path)]
    else:
        return [], None
    folder = (
        None if is_glob or not statuses[0].isDirectory() else str(statuses[0].getPath().toUri().getPath())
    )
    listed: list[ListedFile] = []
    for status in statuses:
        if status.isDirectory():
            files = fs.listFiles(status.getPath(), True)
            while files.hasNext():
                listed.append(_listed(spark, fs, files.next()))
        else:
            listed.append(_listed(spark, fs, status))
    return listed, folder


def _listed(spark: SparkSession, fs, status) -> ListedFile:
    # Parsed from its text and qualified again, as Spark does with the paths it is given: a local
    # listing's path has an empty authority (``file:///x``) where Spark's lineage says ``file:/x``.
    text = status.getPath().toString()
    qualified = fs.makeQualified(spark.sparkContext._jvm.org.apache.hadoop.fs.Path(text))
    as_uri = qualified.toUri()
    return ListedFile(
        qualified.toString(),
        as_uri.toString(),
        as_uri.getPath(),
        status.getLen(),
        status.getModificationTime(),
    )


def hadoop_blocks(spark: SparkSession, location: str, block_bytes: int) -> Iterator[bytes]:
    """The bytes of a file, as stored, in blocks of ``block_bytes``; a failed read is an OSError.

    The file is first copied to a local scratch file by the JVM (Hadoop's ``copyToLocalFile``),
    then read from there: bytes handed over Py4J one block at a time move at about 15 MB/s, the
    copy at the speed of the file system. The scratch file is deleted when the blocks are read.
    """
    with tempfile.TemporaryDirectory(prefix="sparkify-survey-") as scratch:
        copy = Path(scratch) / "file"
        try:
            path, fs = _filesystem(spark, location)
            target = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(copy.as_uri())
            fs.copyToLocalFile(False, path, target, True)  # raw local: no .crc beside the copy
        except Py4JJavaError as exc:
            raise OSError(_java_message(exc)) from None
        with open(copy, "rb") as handle:
            yield from iter(lambda: handle.read(block_bytes), b"")


def _java_message(exc: Py4JJavaError) -> str:
    cause = exc.java_exception
    return f"{cause.getClass().getSimpleName()}: {cause.getMessage()}"


def _write_local(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # the rename itself is durable only once the folder is on disk
    finally:
        os.close(folder)


def copy_folder_from_local(spark: SparkSession, source: Path, uri: str) -> None:
    """Copy a local folder (a rendered site) to ``uri``, replacing what is there."""
    local = local_route(uri)
    if local is not None and local.resolve() == source.resolve():
        return
    path, fs = _filesystem(spark, uri)
    jvm = spark.sparkContext._jvm
    fs.copyFromLocalFile(False, True, jvm.org.apache.hadoop.fs.Path(source.as_uri()), path)
