"""A throwaway PostgreSQL cluster for the department audit store tests (Debian ``postgresql``).

PostgreSQL refuses to run as root, so as root the cluster belongs to the ``postgres`` user
(``runuser -u postgres --``) in a folder of its own under /tmp; it listens on 127.0.0.1 on a
free port with its own socket folder, password login (SCRAM) for TCP. ``stop``/``start`` cut
the "network" mid-stream. Every command has a timeout; the finalizer stops the server and
removes the folder.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
ADMIN_PASSWORD = "admin-test-password"
APP_PASSWORD = "forwarder-test-password"


@dataclass
class PgCluster:
    root: Path
    port: int
    as_postgres: bool

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, *args: str, timeout: float = 60) -> None:
        cmd = [str(PG_BIN / args[0]), *args[1:]]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)

    def start(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1",
            "-w",
            "-t",
            "60",
            "start",
            timeout=90,
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def admin_dsn(self, dbname: str = "postgres") -> str:
        return (
            f"host=127.0.0.1 port={self.port} dbname={dbname} user=postgres "
            f"password={ADMIN_PASSWORD} connect_timeout=10"
        )


def make_cluster() -> Generator[PgCluster, None, None]:
    """The session fixture's body (skips with the reason when PostgreSQL is not installed)."""
    if not (PG_BIN / "initdb").is_file():
        pytest.skip(f"PostgreSQL 15 is not installed ({PG_BIN}/initdb): apt install postgresql")
    as_postgres = os.geteuid() == 0
    if as_postgres and shutil.which("runuser") is None:
        pytest.skip("running as root and runuser is missing: PostgreSQL refuses to run as root")
    root = Path(tempfile.mkdtemp(prefix="bedside-pg-"))
    cluster = PgCluster(root, free_port(), as_postgres)
    pwfile = root / "pw"
    pwfile.write_text(ADMIN_PASSWORD + "\n", encoding="utf-8")
    if as_postgres:
        pg = pwd.getpwnam("postgres")
        os.chown(root, pg.pw_uid, pg.pw_gid)
        os.chown(pwfile, pg.pw_uid, pg.pw_gid)
    root.chmod(0o700)
    try:
        cluster._run(
            "initdb",
            "-D",
            str(cluster.data),
            "-U",
            "postgres",
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
            timeout=120,
        )
        cluster.start()
    except (subprocess.SubprocessError, OSError) as exc:
        said = getattr(exc, "stderr", None) or b""
        log = root / "server.log"
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        # installed but not starting is a failure to see, not a reason to skip (CI installs it)
        pytest.fail(
            f"PostgreSQL 15 is installed but a throwaway cluster did not start: {exc}\n"
            f"{said.decode('utf-8', 'replace') if isinstance(said, bytes) else said}{tail}"
        )
    try:
        yield cluster
    finally:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
