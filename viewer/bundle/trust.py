"""The trust store: which public keys may sign the models this installation runs.

Keys come from the site folder (IT, read-only to the app), from the user's folder only when the
site file allows it (``trust.allow_user_keys``), and the demo key only in demo mode. A key file
that cannot be read is skipped and reported, never silently trusted.

The demo key's private half ships with Bedside, so anyone can sign with it: a bundle it signed
may run in demo mode, but is installed into a model store only when the data dir is the
throwaway one demo mode made itself (``Settings.throwaway``), never a data dir someone named,
even in demo mode (:func:`refuse_demo_key`; issue 12 item 10). The check is by fingerprint, so
the demo key copied into a trusted-keys folder is no way around it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from viewer.bundle.keys import load_public_key
from viewer.bundle.resources import DEMO_PUBLIC_KEY, resource_path
from viewer.bundle.signing import TrustedKey
from viewer.config import Settings
from viewer.errors import BundleError, ConfigError
from viewer.keyprint import fingerprint
from viewer.paths import trust_path_problem

MAX_KEYS_PER_DIR = 200


@dataclass(frozen=True)
class TrustStore:
    keys: tuple[TrustedKey, ...] = ()
    problems: tuple[str, ...] = field(default=())  # unreadable key files, shown by `keys list`

    @classmethod
    def from_settings(cls, settings: Settings) -> TrustStore:
        keys: list[TrustedKey] = []
        problems: list[str] = []
        _load_dir(settings.site_keys_dir, "site", keys, problems)
        if settings.user_keys_dir is not None:
            _load_dir(settings.user_keys_dir, "user", keys, problems)
        if settings.demo:
            demo = resource_path(*DEMO_PUBLIC_KEY)
            try:
                keys.append(TrustedKey.of(load_public_key(demo), source="demo", path=str(demo)))
            except BundleError as exc:
                problems.append(str(exc))
        return cls(keys=tuple(_dedupe(keys)), problems=tuple(problems))

    @classmethod
    def of_keys(cls, keys: Iterable[TrustedKey]) -> TrustStore:
        return cls(keys=tuple(_dedupe(keys)))

    def __len__(self) -> int:
        return len(self.keys)

    def find(self, fingerprint: str) -> TrustedKey | None:
        return next((k for k in self.keys if k.fingerprint == fingerprint), None)


@cache
def demo_fingerprint() -> str:
    """The fingerprint of the shipped demo public key."""
    return fingerprint(load_public_key(resource_path(*DEMO_PUBLIC_KEY)))


def refuse_demo_key(settings: Settings, key_fingerprint: str, what: str) -> None:
    """Raise BundleError(code="untrusted") when ``key_fingerprint`` is the demo key and the data
    dir is not demo mode's throwaway one: the demo key never reaches a real model store."""
    if settings.throwaway or key_fingerprint != demo_fingerprint():
        return
    raise BundleError(
        f"{what} is signed with the demo key, whose private half ships with Bedside: it is "
        f"never put into a real model store (data folder {settings.data_dir}). Demo bundles "
        "run in demo mode without installing; `bedside demo` (without BEDSIDE_DATA_DIR) uses a "
        "throwaway data folder where they may be installed.",
        code="untrusted",
    )


def _dedupe(keys: Iterable[TrustedKey]) -> list[TrustedKey]:
    seen: set[str] = set()
    out = []
    for k in keys:
        if k.fingerprint not in seen:
            seen.add(k.fingerprint)
            out.append(k)
    return out


def _load_dir(folder: Path, source: str, keys: list[TrustedKey], problems: list[str]) -> None:
    """The keys in ``folder``; a folder or key file another account can change is skipped with
    its reason (viewer.paths.trust_path_problem), as site check reports it."""
    if not folder.is_dir():
        return
    problem = _trust_problem(folder, "The trusted-keys folder")
    if problem is not None:
        problems.append(problem)
        return
    for path in sorted(folder.glob("*.pem"))[:MAX_KEYS_PER_DIR]:
        if not path.is_file():  # a FIFO named *.pem would block every start (`site check`)
            problems.append(f"{path} is not a regular file; it is not read as a key.")
            continue
        problem = _trust_problem(path, "The key file")
        if problem is not None:
            problems.append(problem)
            continue
        try:
            keys.append(TrustedKey.of(load_public_key(path), source=source, path=str(path)))
        except BundleError as exc:
            problems.append(str(exc))


def _trust_problem(path: Path, what: str) -> str | None:
    try:
        return trust_path_problem(path, what)
    except ConfigError as exc:  # cannot be looked up: not trusted either
        return str(exc)
