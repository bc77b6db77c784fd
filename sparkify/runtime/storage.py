"""Files outside the tables, addressed as URIs through Hadoop's FileSystem API.

The model registry, the report and the Data Docs are files, not tables. Addressing them as URIs
(``file:///...`` today, ``hdfs://`` or ``s3a://`` on a cluster) through the FileSystem of the
running Spark driver means that the same code writes them wherever the cluster keeps its data, with
the credentials and settings the cluster already gives Spark. A ``file:`` URI is written with the
local file system's own guarantees instead: write, fsync, rename, fsync of the folder, so a reader
or a power cut never sees half a file; other file systems give what their ``rename`` gives.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

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


def _filesystem(spark: SparkSession, uri: str):
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path, path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())


def exists(spark: SparkSession, uri: str) -> bool:
    local = local_path(uri)
    if local is not None:
        return local.exists()
    return hadoop_exists(spark, uri)


def read_bytes(spark: SparkSession, uri: str) -> bytes:
    local = local_path(uri)
    if local is not None:
        return local.read_bytes()
    return hadoop_read_bytes(spark, uri)


def write_bytes(spark: SparkSession, uri: str, data: bytes) -> None:
    """Replace the file at ``uri`` with ``data``: whole or not at all (see the module's note)."""
    local = local_path(uri)
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
    a reader finds none, and retries (the registry's callers treat "no file" as "not yet").
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
    local = local_path(uri)
    if local is not None and local.resolve() == source.resolve():
        return
    path, fs = _filesystem(spark, uri)
    jvm = spark.sparkContext._jvm
    fs.copyFromLocalFile(False, True, jvm.org.apache.hadoop.fs.Path(source.as_uri()), path)
