"""Where an installation keeps its files: the data folder, the site file and every path derived
from them, without pydantic.

Why its own module: ``bedside dicom render`` must know which files an output may never replace
(:func:`viewer.outputs.check_output_path`: the audit log, its secret, the keys, the model store)
without loading the settings' pydantic models (~150 ms of a 200 ms command, issue 19). The
settings (viewer/config.py) derive their paths here too, so the light answer and the full one
cannot differ: :class:`InstallationPaths` is the one derivation, :func:`locate` the one reading
of ``BEDSIDE_SITE_CONFIG`` / ``BEDSIDE_DATA_DIR``.

The paths that matter are site-only keys (``[audit]``, ``[models]``, ``[trust]``; a user file
may not set them), so :func:`light_paths` reads the site file alone, with ``tomllib``. Whenever
it is unsure (demo mode, a site file that is not plain valid TOML, a value of the wrong type) it
answers None and the caller loads the settings, whose error message is then the one shown.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from viewer.errors import ConfigError

APP_NAME = "Bedside"
MAX_SETTINGS_BYTES = 1_000_000

# Linux: one fixed folder, the Debian package's conffiles (docs/it-guide.md). platformdirs would
# answer the first entry of $XDG_CONFIG_DIRS, which a desktop session may set
# (/etc/xdg/xdg-ubuntu on Ubuntu), so the same workstation read a different site file from its
# menu than from a terminal. Windows and macOS keep the platform's folder (C:\ProgramData\Bedside).
LINUX_SITE_DIR = Path("/etc/bedside")
STATE_NAME = "audit-state.json"


def default_site_dir() -> Path:
    if sys.platform.startswith("linux"):
        return LINUX_SITE_DIR
    import platformdirs

    return Path(platformdirs.site_config_dir(APP_NAME, appauthor=False))


def default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


_KINDS = {
    stat.S_IFREG: "a regular file",  # where a folder belongs
    stat.S_IFDIR: "a folder",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFIFO: "a pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
}


def _kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def stat_setting(path: Path, what: str) -> os.stat_result | None:
    """``os.stat`` (links followed) of a path a setting names; None when it does not exist yet.

    ``what`` names the setting in the message: a NUL character, a symbolic link loop or a path
    that cannot be looked up is a clear ConfigError, never a traceback (issue 12 item 16).
    """
    if "\x00" in str(path):
        raise ConfigError(f"{what} holds a NUL character; give a plain path.")
    try:
        return path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ENOTDIR:
            # a file where a folder on the way should be: the path does not exist, and whoever
            # needs it (the audit log, the model store) says so in its own words
            return None
        if exc.errno == errno.ELOOP:
            raise ConfigError(f"{what} ({path}) is a symbolic link loop.") from exc
        raise ConfigError(f"{what} ({path}) cannot be looked up: {exc.strerror}.") from exc


def check_setting_path(
    path: Path, what: str, *, folder: bool = False, max_bytes: int | None = None
) -> None:
    """A path a setting names is a regular file (of at most ``max_bytes``) or a folder, or does
    not exist yet: never a device, a FIFO (reading one hangs), a socket, a link loop or a path
    with a NUL character (issue 12 item 16). ``what`` names the file and the key."""
    st = stat_setting(path, what)
    if st is None:
        return
    if folder:
        if not stat.S_ISDIR(st.st_mode):
            raise ConfigError(f"{what} ({path}) is {_kind(st.st_mode)}, not a folder.")
        return
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{what} ({path}) is {_kind(st.st_mode)}, not a regular file.")
    if max_bytes is not None and st.st_size > max_bytes:
        raise ConfigError(
            f"{what} ({path}) is {st.st_size} bytes; at most {max_bytes} are expected."
        )


def ca_file_problem(path: Path | str, key: str) -> str | None:
    """Why the CA certificate file ``path`` (named by site key ``key``) must not be trusted, or
    None. A CA file decides which servers Bedside believes (PACS results, where audit rows go):
    an account that can change it can make Bedside trust its own server. ``bedside site check``
    and every TLS connection ask this one function; a missing file is left to the loader's own
    message."""
    path = Path(path)
    found = _others_can_change(path, f"The CA file in {key}")
    if found is None:
        return None
    who, fix = found
    return (
        f"The CA file in {key} ({path}) is writable by other users ({who}): it is not trusted "
        f"until IT fixes its permissions (run: {fix} {path})."
    )


def trust_path_problem(path: Path, what: str, st: os.stat_result | None = None) -> str | None:
    """Why the trusted-keys folder or key file ``path`` must not be believed, or None: an account
    that can change it can make Bedside run a model it signed itself (the same rule as a CA
    file). The trust store skips it and ``bedside site check`` reports it in these words;
    ``st``: the caller's own stat of ``path``."""
    found = _others_can_change(path, what, st)
    if found is None:
        return None
    who, fix = found
    return (
        f"{what} {path} is writable by other users ({who}): its keys are not trusted until IT "
        f"fixes its permissions (run: {fix} {path})."
    )


def _others_can_change(
    path: Path, what: str, st: os.stat_result | None = None
) -> tuple[str, str] | None:
    """Who besides root and the account running Bedside can change ``path``, and the command
    that stops it, or None (also when it does not exist). Not every account (``o+w``), not
    another non-root owner (it could ``chmod`` it), not a group (``g+w``) other than root's or
    the owner's own private group (a group named after its owner with no other members: a
    shared primary group such as ``users`` or ``domain users`` is other accounts). POSIX only:
    Windows has ACLs instead."""
    st = st or stat_setting(path, what)
    if st is None or os.name != "posix":
        return None
    mode = stat.S_IMODE(st.st_mode)
    if mode & stat.S_IWOTH:
        return f"every account on this computer, mode {mode:04o}", "chmod o-w"
    if st.st_uid not in (0, os.geteuid()):
        return f"it belongs to user id {st.st_uid}", "chown root"
    if mode & stat.S_IWGRP and st.st_gid != 0 and not _private_group(st.st_uid, st.st_gid):
        return f"the members of group {st.st_gid}, mode {mode:04o}", "chmod g-w"
    return None


@functools.lru_cache(maxsize=64)
def _private_group(uid: int, gid: int) -> bool:
    """``gid`` is the user private group of ``uid`` (Debian's default: the account's primary
    group, of its own name, with no listed members). Looked up once per process: the account
    database may be a network service."""
    try:
        import grp
        import pwd

        account = pwd.getpwuid(uid)
        group = grp.getgrgid(gid)
    except (ImportError, KeyError):
        return False  # cannot tell: not trusted (the safe side; the message says chmod g-w)
    return account.pw_gid == gid and group.gr_name == account.pw_name and not group.gr_mem


def read_bounded(path: Path, what: str, max_bytes: int) -> str:
    """A regular text file of at most ``max_bytes``, read without following it into a FIFO or
    device and without reading more than the bound."""
    check_setting_path(path, what, max_bytes=max_bytes)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # swapped since the check
            raise ConfigError(f"{what} ({path}) is not a regular file.")
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ConfigError(f"{what} ({path}) is larger than {max_bytes} bytes.")
    return data.decode("utf-8")


@dataclass(frozen=True)
class Locations:
    """Where the site file is read from and where the data folder is (before any file is read).

    ``site_named``: ``BEDSIDE_SITE_CONFIG`` named the site file (then it must exist).
    ``throwaway``: demo mode's own temporary data folder (no ``BEDSIDE_DATA_DIR``)."""

    site_file: Path
    site_named: bool
    data_dir: Path
    throwaway: bool = False

    @property
    def site_dir(self) -> Path:
        return self.site_file.parent

    @property
    def user_file(self) -> Path:
        return self.data_dir / "settings.toml"


def locate(env: dict[str, str], *, demo: bool, make_throwaway: bool = True) -> Locations:
    """``BEDSIDE_SITE_CONFIG`` / ``BEDSIDE_DATA_DIR`` or the platform's folders.

    In demo mode without ``BEDSIDE_DATA_DIR`` a throwaway data folder is made (only when
    ``make_throwaway``; otherwise ConfigError is not the point: the caller must not guess)."""
    for name in ("BEDSIDE_SITE_CONFIG", "BEDSIDE_DATA_DIR"):
        if "\x00" in env.get(name, ""):
            raise ConfigError(f"{name} holds a NUL character; give a plain path.")
    site_env = env.get("BEDSIDE_SITE_CONFIG", "")
    site_file = Path(site_env) if site_env else default_site_dir() / "site.toml"
    data_env = env.get("BEDSIDE_DATA_DIR", "")
    if data_env:
        return Locations(site_file, bool(site_env), Path(data_env))
    if demo:
        if not make_throwaway:
            raise ValueError("demo mode without BEDSIDE_DATA_DIR makes its own data folder")
        data_dir = Path(tempfile.mkdtemp(prefix="bedside-demo-"))
        return Locations(site_file, bool(site_env), data_dir, throwaway=True)
    return Locations(site_file, bool(site_env), default_data_dir())


@dataclass(frozen=True)
class InstallationPaths:
    """Every file and folder of one installation, from the locations and the four site-only
    keys that move them (``audit.db_path``, ``audit.secret_path``, ``models.store_dir``,
    ``trust.site_keys_dir``; empty = the default) and ``trust.allow_user_keys``."""

    data_dir: Path
    site_dir: Path
    site_file: Path | None  # the site file read, None when there is none
    user_file: Path
    db_path: str = ""
    secret: str = ""
    store_dir: str = ""
    site_keys: str = ""
    allow_user_keys: bool = False

    @property
    def audit_db_path(self) -> Path:
        return Path(self.db_path) if self.db_path else self.data_dir / "audit.sqlite"

    @property
    def secret_path(self) -> Path:
        return Path(self.secret) if self.secret else self.data_dir / "site-secret"

    @property
    def installation_key_path(self) -> Path:
        """Private key that signs audit checkpoints (PEM, mode 0600)."""
        return self.data_dir / "installation-key.pem"

    @property
    def model_store_key_path(self) -> Path:
        """Private key that signs the model store's index (PEM, mode 0600; see bundle.store)."""
        return self.data_dir / "model-store-key.pem"

    @property
    def model_store_dir(self) -> Path:
        return Path(self.store_dir) if self.store_dir else self.data_dir / "models"

    @property
    def site_keys_dir(self) -> Path:
        return Path(self.site_keys) if self.site_keys else self.site_dir / "trusted-keys"

    @property
    def user_keys_dir(self) -> Path | None:
        """The user's trusted-key folder, or None when the site does not allow one."""
        return self.data_dir / "trusted-keys" if self.allow_user_keys else None

    @property
    def central_outbox_path(self) -> Path:
        """Audit rows waiting for the department store (``[audit_central]``)."""
        return self.data_dir / "central-outbox.sqlite"

    @property
    def atna_outbox_path(self) -> Path:
        """Audit messages waiting for the ATNA repository (``[atna]``)."""
        return self.data_dir / "atna-outbox.sqlite"

    @property
    def pacs_outbox_path(self) -> Path:
        """Results waiting for PACS (``[pacs]``, viewer.pacs.delivery)."""
        return self.data_dir / "pacs-outbox.sqlite"

    def protected(self) -> tuple[list[Path], list[Path]]:
        """(files, folders) no output may replace or enter (viewer.outputs): the audit log and
        the outboxes (what waits to leave: results for PACS, rows for the department store and
        the ATNA repository) with SQLite's side files, the keys and the settings."""
        key = self.installation_key_path
        store_key = self.model_store_key_path
        databases = (
            self.audit_db_path,
            self.central_outbox_path,
            self.atna_outbox_path,
            self.pacs_outbox_path,
        )
        files = [
            *(
                db.with_name(db.name + side)
                for db in databases
                for side in ("", "-wal", "-shm", "-journal")
            ),
            self.secret_path,
            key,
            key.with_name(key.stem + ".pub.pem"),
            key.with_name(STATE_NAME),
            store_key,
            store_key.with_name(store_key.stem + ".pub.pem"),
            self.user_file,
            # IT's site file, as found or where it would be read from (issue 12 item 17)
            self.site_file or self.site_dir / "site.toml",
        ]
        # The user's trusted-key folder even while the site does not allow it: turning
        # ``trust.allow_user_keys`` on must not start trusting a file some export left there.
        folders = [self.model_store_dir, self.site_keys_dir, self.data_dir / "trusted-keys"]
        if self.user_keys_dir is not None:
            folders.append(self.user_keys_dir)
        return files, folders


# (section, key, type) of the site-only keys InstallationPaths takes, as SettingsFile has them
_SITE_KEYS: tuple[tuple[str, str, type], ...] = (
    ("audit", "db_path", str),
    ("audit", "secret_path", str),
    ("models", "store_dir", str),
    ("trust", "site_keys_dir", str),
    ("trust", "allow_user_keys", bool),
)


def light_paths(
    env: dict[str, str] | None = None, *, demo: bool = False
) -> InstallationPaths | None:
    """The installation's paths without loading the settings, or None when only
    ``viewer.config.load_settings`` can tell (its message is then the one a person reads):
    demo mode without ``BEDSIDE_DATA_DIR``, a data folder that is a file, a named site file that
    is missing, a site file that is not a small regular file of valid UTF-8 TOML, or one of the
    keys above with another type than the settings' (strict) models take."""
    env = dict(os.environ) if env is None else env
    try:
        where = locate(env, demo=demo, make_throwaway=False)
        data_dir = where.data_dir
        if data_dir.exists() and not data_dir.is_dir():
            return None
        site_used: Path | None = None
        raw: dict[str, object] = {}
        if stat_setting(where.site_file, "The site file") is not None:
            raw = tomllib.loads(read_bounded(where.site_file, "Settings file", MAX_SETTINGS_BYTES))
            site_used = where.site_file
        elif where.site_named:
            return None
    except (ConfigError, OSError, ValueError, RecursionError):
        return None  # TOMLDecodeError and UnicodeDecodeError are ValueErrors
    values: dict[str, object] = {}
    for section, key, kind in _SITE_KEYS:
        table = raw.get(section, {})
        if not isinstance(table, dict):
            return None
        value = table.get(key, kind())
        if type(value) is not kind:  # strict, as the settings: 1 is not a bool
            return None
        values[f"{section}.{key}"] = value
    return InstallationPaths(
        data_dir=data_dir,
        site_dir=where.site_dir,
        site_file=site_used,
        user_file=where.user_file,
        db_path=str(values["audit.db_path"]),
        secret=str(values["audit.secret_path"]),
        store_dir=str(values["models.store_dir"]),
        site_keys=str(values["trust.site_keys_dir"]),
        allow_user_keys=bool(values["trust.allow_user_keys"]),
    )
