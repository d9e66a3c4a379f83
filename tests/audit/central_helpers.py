"""Helpers for the department audit store tests: a workstation's settings against the test
cluster, the store set up in a schema of the test's own, and the admin's view of the table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from tests.audit.pg_cluster import ADMIN_PASSWORD, APP_PASSWORD, PgCluster
from viewer.audit.central import setup_store
from viewer.config import Settings, load_settings


def workstation(
    root: Path,
    cluster: PgCluster,
    schema: str,
    name: str = "",
    *,
    user: str = "bedside_forwarder",
) -> Settings:
    """Settings of one simulated workstation: its own data folder and site file."""
    root.mkdir(parents=True, exist_ok=True)
    password = root / "central-password"
    password.write_text(APP_PASSWORD + "\n", encoding="utf-8")
    password.chmod(0o600)
    site = root / "site.toml"
    site.write_text(
        "[audit_central]\n"
        "enabled = true\n"
        'host = "127.0.0.1"\n'
        f"port = {cluster.port}\n"
        'sslmode = "disable"\n'
        f'user = "{user}"\n'
        f'password_file = "{password}"\n'
        f'db_schema = "{schema}"\n'
        f'workstation = "{name}"\n'
        "interval_s = 0.2\n",
        encoding="utf-8",
    )
    data = root / "data"
    data.mkdir(exist_ok=True)
    return load_settings(env={"BEDSIDE_DATA_DIR": str(data), "BEDSIDE_SITE_CONFIG": str(site)})


def set_up(settings: Settings) -> list[str]:
    return setup_store(
        settings, admin_user="postgres", admin_password=ADMIN_PASSWORD, app_password=APP_PASSWORD
    )


def admin(cluster: PgCluster) -> psycopg.Connection[tuple[Any, ...]]:
    return psycopg.connect(cluster.admin_dsn("bedside_audit"), autocommit=True)


def central_rows(cluster: PgCluster, schema: str) -> list[tuple[Any, ...]]:
    """(workstation, seq, hash) of every stored row, as the admin sees them."""
    with admin(cluster) as conn:
        return conn.execute(
            f"SELECT workstation, seq, hash FROM {schema}.audit_rows ORDER BY workstation, seq"  # noqa: S608 - test constant
        ).fetchall()
