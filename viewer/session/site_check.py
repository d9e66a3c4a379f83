"""``bedside site check``: what a site folder holds and what is wrong with it, before users see it.

IT edits ``site.toml`` and drops public keys into ``trusted-keys/`` by hand (docs/it-guide.md).
A mistake there shows up late and far away: a bad key stops every workstation's start with a
message a clinician cannot act on, a world-writable keys folder lets any local account trust its
own model, a FIFO named ``*.pem`` hangs the start. This check reads the same file with the same
schema as the app (:func:`viewer.config.read_settings_file`), looks at every path the file names
and at each key file without following it into a device or FIFO, and returns findings; it writes
nothing.
"""

from __future__ import annotations

import os
import ssl
import stat
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from viewer.bundle.keys import load_public_key
from viewer.bundle.trust import MAX_KEYS_PER_DIR, demo_fingerprint
from viewer.config import (
    PACS_RENAMED,
    PATH_KEYS,
    Settings,
    SettingsFile,
    _flatten,  # the settings' own dotted-key view (one definition)
    check_setting_path,
    no_passphrase,
    read_settings_file,
)
from viewer.errors import BedsideError
from viewer.keyprint import fingerprint, format_fingerprint
from viewer.paths import ca_file_problem, trust_path_problem
from viewer.session.forwarding_status import ForwardingState, ForwardingStatus, state_text

Level = Literal["info", "warning", "error"]
POSIX = sys.platform != "win32"
# Path keys whose file or folder the app creates on first use: missing is a note, not an error.
CREATED_BY_APP = frozenset({"audit.db_path", "audit.secret_path", "models.store_dir"})
# Files only the clinicians' accounts should read (the app runs as them), and why.
PRIVATE_KEYS = {
    "audit.secret_path": "with it the pseudonyms in the audit log can be matched to patient IDs",
    "atna.client_key_file": "with it anyone can pose as this workstation to the repository",
    "pacs.client_key_file": "with it anyone can pose as this workstation to PACS",
    "pacs.password_file": "it holds the PACS password or bearer token",
    "audit_central.password_file": "it holds the password of the department audit store's role",
}


@dataclass(frozen=True)
class Finding:
    level: Level
    code: str
    message: str


@dataclass(frozen=True)
class KeyInfo:
    path: str
    fingerprint: str


@dataclass(frozen=True)
class SiteReport:
    site_file: Path
    keys_dir: Path
    keys: tuple[KeyInfo, ...] = ()
    findings: tuple[Finding, ...] = ()
    site_values: dict[str, Any] = field(default_factory=dict)
    #: where this account's audit rows stand per destination the site file turns on (issue 18)
    forwarding: tuple[ForwardingState, ...] = ()
    data_dir: Path | None = None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "site_file": str(self.site_file),
            "trusted_keys_dir": str(self.keys_dir),
            "site_values": self.site_values,
            "trusted_keys": [{"path": k.path, "fingerprint": k.fingerprint} for k in self.keys],
            "findings": [
                {"level": f.level, "code": f.code, "message": f.message} for f in self.findings
            ],
            "data_dir": None if self.data_dir is None else str(self.data_dir),
            "forwarding": [_forwarding_json(state) for state in self.forwarding],
        }


def _forwarding_json(state: ForwardingState) -> dict[str, Any]:
    def iso(when: Any) -> str | None:
        return None if when is None else str(when.isoformat())

    return {
        "destination": state.destination,
        "state": state.kind,
        "text": state_text(state),
        "waiting": state.waiting,
        "held": state.held,
        "sent": state.sent,
        "waiting_since": iso(state.since),
        "failing_since": iso(state.failing_since),
        "last_sent": iso(state.last_sent),
        "last_error": state.error or None,
        "outbox": state.outbox,
    }


class _Collector:
    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def add(self, level: Level, code: str, message: str) -> None:
        self.findings.append(Finding(level, code, message))


def _permissions(path: Path, what: str, st: os.stat_result, out: _Collector) -> None:
    """Only root (IT) may change what the site decides: a folder or file others can write to is
    an error, one a group can write to or a non-root owner can change is a warning (POSIX)."""
    if not POSIX:
        return
    mode = stat.S_IMODE(st.st_mode)
    if mode & stat.S_IWOTH:
        out.add(
            "error",
            "world_writable",
            f"{what} {path} can be changed by every account on this computer (mode {mode:04o}); "
            f"run: chmod o-w {path}",
        )
    elif mode & stat.S_IWGRP:
        out.add(
            "warning",
            "group_writable",
            f"{what} {path} can be changed by the members of group {st.st_gid} "
            f"(mode {mode:04o}); run: chmod g-w {path} unless that group is IT's",
        )
    if st.st_uid != 0:
        out.add(
            "warning",
            "not_root",
            f"{what} {path} belongs to user id {st.st_uid}, not root: that account can change "
            "it; run: chown root:root " + str(path),
        )


def _untrusted(path: Path, what: str, st: os.stat_result, out: _Collector) -> bool:
    """A trusted-keys folder or key file another account can change: an error, in the words
    of the trust store that skips it (one rule: viewer.paths.trust_path_problem); otherwise
    the warnings of :func:`_permissions`."""
    problem = trust_path_problem(path, what, st)
    if problem is not None:
        out.add("error", "keys_writable", problem)
        return True
    _permissions(path, what, st, out)
    return False


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def _check_file(site_file: Path, out: _Collector) -> SettingsFile | None:
    st = _stat(site_file)
    if st is None:
        out.add(
            "info",
            "no_site_file",
            f"There is no site file at {site_file}: every workstation uses the built-in "
            "defaults and any user may change every user setting.",
        )
        return None
    try:
        parsed, raw = read_settings_file(site_file)
    except BedsideError as exc:
        out.add("error", "site_file", str(exc))
        return None
    _permissions(site_file, "The site file", st, out)
    count = len(_flatten(raw))
    out.add("info", "site_file", f"The site file {site_file} is valid ({count} key(s) set).")
    pacs = raw.get("pacs")
    for old, new in PACS_RENAMED.items():
        if isinstance(pacs, dict) and old in pacs:
            out.add(
                "warning",
                "renamed_key",
                f"Key 'pacs.{old}' is the old name of 'pacs.{new}' (the name [atna] and "
                f"[audit_central] use): it still works, but rename it to {new} in the site file; "
                "a later version will refuse the old name.",
            )
    return parsed


def _check_paths(values: SettingsFile, out: _Collector) -> None:
    flat = _flatten(values.model_dump())
    for key, folder, max_bytes in PATH_KEYS:
        value = flat[key]
        if not value:
            continue
        path = Path(value)
        what = f"Key '{key}'"
        if not path.is_absolute():
            out.add(
                "error",
                "relative_path",
                f"{what} names a relative path ({value}): it would depend on the folder Bedside "
                "is started from; give an absolute path.",
            )
            continue
        try:
            check_setting_path(path, what, folder=folder, max_bytes=max_bytes)
        except BedsideError as exc:
            out.add("error", "path_kind", str(exc))
            continue
        st = _stat(path)
        if st is None:
            # the app makes these on first use; every other file a key names must be there
            level: Level = "warning" if key in CREATED_BY_APP else "error"
            parent = "exists" if path.parent.is_dir() else "does not exist either"
            out.add(
                level,
                "missing_path",
                f"{what} names {path}, which does not exist (its folder {path.parent} {parent}).",
            )
            continue
        if key == "trust.site_keys_dir":
            continue  # checked with the keys below
        mode = stat.S_IMODE(st.st_mode)
        if key in TLS_CA_KEYS:
            # the connections refuse it with this sentence too (one rule: viewer.paths)
            problem = ca_file_problem(path, key)
            if problem is not None:
                out.add("error", "ca_file_writable", problem)
        elif POSIX and mode & stat.S_IWOTH:
            out.add(
                "error",
                "world_writable",
                f"{what} names {path}, which every account on this computer can change "
                f"(mode {mode:04o}); run: chmod o-w {path}",
            )
        if POSIX and key in PRIVATE_KEYS and mode & stat.S_IROTH:
            out.add(
                "warning",
                "secret_readable",
                f"{what} names {path}, which every account on this computer can read (mode "
                f"{mode:04o}): {PRIVATE_KEYS[key]}; run: chmod o-r {path} (and give the "
                "clinicians' group read access)",
            )


# CA certificate files, and (certificate, private key) pairs: loaded here as a TLS connection
# loads them, so a file that is not PEM shows now rather than at the first connection
TLS_CA_KEYS = ("audit_central.ca_file", "atna.ca_file", "pacs.ca_file")
TLS_CLIENT_PAIRS = (
    ("atna.client_cert_file", "atna.client_key_file"),
    ("pacs.client_cert_file", "pacs.client_key_file"),
)
_MAX_TLS_FILE = 16 * 2**20  # a CA bundle of every public CA is about 200 KB


def _loadable(value: str) -> bool:
    """A regular file of a sane size (_check_paths says what is wrong with anything else)."""
    st = _stat(Path(value)) if value and Path(value).is_absolute() else None
    return st is not None and stat.S_ISREG(st.st_mode) and st.st_size <= _MAX_TLS_FILE


def _tls_reason(exc: Exception) -> str:
    return str(getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc).lower()


def _check_tls(values: SettingsFile, out: _Collector) -> None:
    flat = _flatten(values.model_dump())
    for key in TLS_CA_KEYS:
        if not _loadable(flat[key]):
            continue
        try:
            ssl.create_default_context(cafile=flat[key])
        except (OSError, ssl.SSLError) as exc:
            out.add(
                "error",
                "tls_file",
                f"Key '{key}' names {flat[key]}, which holds no PEM certificate a TLS "
                f"connection can use ({_tls_reason(exc)}).",
            )
    for cert_key, key_key in TLS_CLIENT_PAIRS:
        cert, key = flat[cert_key], flat[key_key]
        if not (_loadable(cert) and _loadable(key)):
            continue
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(cert, key, no_passphrase)
        except (OSError, ssl.SSLError) as exc:
            out.add(
                "error",
                "tls_file",
                f"Keys '{cert_key}' and '{key_key}' ({cert}, {key}) are not a PEM certificate "
                f"and its unencrypted private key ({_tls_reason(exc)}).",
            )


def _check_keys(keys_dir: Path, out: _Collector) -> list[KeyInfo]:
    st = _stat(keys_dir)
    if st is None or not stat.S_ISDIR(st.st_mode):
        out.add(
            "warning",
            "no_keys_dir",
            f"There is no trusted-keys folder at {keys_dir}: no model bundle can be installed "
            "until IT puts a public key there.",
        )
        return []
    if _untrusted(keys_dir, "The trusted-keys folder", st, out):
        return []
    keys: list[KeyInfo] = []
    try:
        entries = sorted(keys_dir.iterdir())
    except OSError as exc:
        out.add("error", "keys_dir", f"The trusted-keys folder {keys_dir}: {exc.strerror}.")
        return []
    pems = [p for p in entries if p.name.endswith(".pem")]
    for other in (p for p in entries if not p.name.endswith(".pem")):
        out.add("warning", "not_pem", f"{other} is ignored: only *.pem files are read as keys.")
    if len(pems) > MAX_KEYS_PER_DIR:
        out.add(
            "warning",
            "too_many_keys",
            f"{keys_dir} holds {len(pems)} key files; only the first {MAX_KEYS_PER_DIR} (by "
            "name) are read.",
        )
    for path in pems[:MAX_KEYS_PER_DIR]:
        kst = _stat(path)
        if kst is None or not stat.S_ISREG(kst.st_mode):
            # load_public_key would block on a FIFO: never open what is not a regular file
            out.add("error", "bad_key", f"{path} is not a regular file; remove it.")
            continue
        if _untrusted(path, "The key file", kst, out):
            continue
        try:
            fp = fingerprint(load_public_key(path))
        except BedsideError as exc:
            out.add("error", "bad_key", f"{path} is not a usable trusted key: {exc.message}")
            continue
        keys.append(KeyInfo(str(path), fp))
        if fp == demo_fingerprint():
            out.add(
                "warning",
                "demo_key",
                f"{path} is the demo key, whose private half ships with Bedside (anyone can sign "
                "with it); it is never used for a real model store: remove it.",
            )
    for fp, n in Counter(k.fingerprint for k in keys).items():
        if n > 1:
            files = ", ".join(k.path for k in keys if k.fingerprint == fp)
            out.add(
                "warning",
                "duplicate_key",
                f"The same key ({format_fingerprint(fp)}) is in {n} files: {files}.",
            )
    if not keys:
        out.add(
            "warning",
            "no_keys",
            f"The trusted-keys folder {keys_dir} holds no usable key: no model bundle can be "
            "installed.",
        )
    return keys


def _check_forwarding(
    values: SettingsFile, site_file: Path, data_dir: Path, out: _Collector
) -> list[ForwardingState]:
    """Where the rows of the account whose data folder is ``data_dir`` stand, for each audit
    destination the file turns on (its outboxes, read-only): rows that do not move are a
    warning, the forwarding is the app's, not the file's."""
    settings = Settings(
        values=values,
        data_dir=data_dir,
        site_file=site_file,
        user_file=data_dir / "settings.toml",
        site_dir=site_file.parent,
    )
    states = ForwardingStatus(settings).poll()
    for state in states:
        if state.warning:
            code = "forwarding_held" if state.kind == "held" else "forwarding_failing"
            then = f"; once resolved: {state.retry_command}" if state.held else ""
            out.add("warning", code, f"{state_text(state)} (details: {state.command}{then})")
    return states


def check_site(site_file: Path, *, data_dir: Path | None = None) -> SiteReport:
    """Every finding about ``site_file`` (which may not exist) and the trust store it names;
    with ``data_dir`` (an account's data folder) also where that account's audit rows stand on
    their way to the destinations the file configures."""
    out = _Collector()
    site_dir = site_file.parent
    st = _stat(site_dir)
    if st is None or not stat.S_ISDIR(st.st_mode):
        out.add("warning", "no_site_dir", f"There is no site folder at {site_dir}.")
    else:
        _permissions(site_dir, "The site folder", st, out)
    values = _check_file(site_file, out)
    site_values: dict[str, Any] = {}
    keys_dir = site_dir / "trusted-keys"
    if values is not None:
        _check_paths(values, out)
        _check_tls(values, out)
        site_values = _flatten(values.model_dump(exclude_defaults=True))
        if values.trust.site_keys_dir:
            keys_dir = Path(values.trust.site_keys_dir)
        if values.trust.allow_user_keys:
            out.add(
                "warning",
                "user_keys",
                "trust.allow_user_keys = true: each user may trust model keys of their own.",
            )
    keys = _check_keys(keys_dir, out)
    forwarding: list[ForwardingState] = []
    if values is not None and data_dir is not None:
        forwarding = _check_forwarding(values, site_file, data_dir, out)
    return SiteReport(
        site_file=site_file,
        keys_dir=keys_dir,
        keys=tuple(keys),
        findings=tuple(out.findings),
        site_values=site_values,
        forwarding=tuple(forwarding),
        data_dir=data_dir,
    )


__all__ = ["Finding", "KeyInfo", "SiteReport", "check_site"]
