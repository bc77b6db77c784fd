"""PostgreSQL as the Hive metastore's database: Debian's server, a data folder of the project's own.

The server is installed from Debian's packages when it is missing. It refuses to run as root, and
a machine of this kind is often entered as root: there it runs in a user namespace of its own
(``unshare --user``), where it is an ordinary user while its files stay owned by whoever runs the
project. So its data folder stays inside the owner-only lakehouse, with no account to create and
no permissions to loosen. Authentication is ``trust`` on loopback only: the server listens on
127.0.0.1 and its socket folder is the lakehouse's.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from sparkify.cluster.layout import HOST, METASTORE_DATABASE, METASTORE_USER, ClusterLayout
from sparkify.runtime.progress import say

NAMESPACE_ID = 1000  # who the server is inside its user namespace when the project runs as root


def server_bin() -> Path:
    """The folder of Debian's PostgreSQL programs (the server, and its pg_isready and psql beside it),
    installing the package when it is missing."""
    found = _newest_bin()
    if found is None:
        if shutil.which("apt-get") is None:
            raise RuntimeError("PostgreSQL's server is not installed and there is no apt-get to install it")
        say("cluster: installing PostgreSQL from Debian's packages (apt-get install postgresql)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], check=True, env=env)
        found = _newest_bin()
        if found is None:
            raise RuntimeError(
                "apt-get installed postgresql, but no /usr/lib/postgresql/*/bin/postgres exists"
            )
    return found


def _newest_bin() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    return Path(candidates[-1]).parent if candidates else None


def as_server_user(command: list[str]) -> list[str]:
    """``command`` as PostgreSQL wants to run: unprivileged (a user namespace when we are root)."""
    if os.geteuid() != 0:
        return command
    if shutil.which("unshare") is None:
        raise RuntimeError("running as root needs unshare (util-linux) to start PostgreSQL unprivileged")
    return ["unshare", "--user", f"--map-user={NAMESPACE_ID}", f"--map-group={NAMESPACE_ID}", *command]


def initialise(layout: ClusterLayout, bin_dir: Path) -> bool:
    """``initdb`` the data folder on first use; True when it was created now."""
    if (layout.pg_data / "PG_VERSION").exists():
        return False
    layout.pg_data.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        as_server_user(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(layout.pg_data),
                "-U",
                METASTORE_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
            ]
        ),
        check=True,
        capture_output=True,
    )
    return True


def server_command(layout: ClusterLayout, bin_dir: Path) -> list[str]:
    """The postmaster in the foreground: loopback only, its socket in the lakehouse."""
    layout.pg_socket_dir.mkdir(parents=True, exist_ok=True)
    return as_server_user(
        [
            str(bin_dir / "postgres"),
            "-D",
            str(layout.pg_data),
            "-p",
            str(layout.pg_port),
            "-k",
            str(layout.pg_socket_dir),
            "-c",
            f"listen_addresses={HOST}",
            "-c",
            "max_connections=200",
            "-c",
            "shared_buffers=128MB",
        ]
    )


def accepts_connections(layout: ClusterLayout, bin_dir: Path) -> bool:
    probe = [str(bin_dir / "pg_isready"), "-q", "-h", HOST, "-p", str(layout.pg_port)]
    return subprocess.run(probe, check=False).returncode == 0


def ensure_database(layout: ClusterLayout, bin_dir: Path) -> None:
    """Create the metastore's database once; Hive's schema is created in it by the first Spark JVM."""
    exists = _psql(layout, bin_dir, f"select 1 from pg_database where datname = '{METASTORE_DATABASE}'")
    if exists.stdout.strip() != "1":
        created = _psql(layout, bin_dir, f"create database {METASTORE_DATABASE}")
        if created.returncode != 0:
            raise RuntimeError(f"could not create the metastore database: {created.stderr.strip()}")


def _psql(layout: ClusterLayout, bin_dir: Path, sql: str) -> subprocess.CompletedProcess[str]:
    """One statement on the server's own ``postgres`` database, with the client beside the server."""
    return subprocess.run(
        [
            str(bin_dir / "psql"),
            "-h",
            HOST,
            "-p",
            str(layout.pg_port),
            "-U",
            METASTORE_USER,
            "-d",
            "postgres",
            "-tAc",
            sql,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
