"""The model store: every installed version kept, exactly one active per model id.

Layout under ``settings.model_store_dir``: ``<id>/<version>.bundle`` files and ``store.json``
(written atomically) with, per id, the installed versions (digest, signer, time) and the
activation history. Installing an older version than one already installed needs
``allow_downgrade=True``; installing, activating and rolling back are each recorded in the audit
log. A bundle is fully verified and self-tested before it is installed, and re-verified (signature,
schema) before it is activated.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from viewer.bundle.archive import write_atomic
from viewer.bundle.audit_hook import AuditSink, record
from viewer.bundle.loader import LoadedBundle, load_bundle, verify_bundle
from viewer.bundle.trust import TrustStore
from viewer.config import Settings
from viewer.errors import BundleError

STATE_NAME = "store.json"
_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$")


def semver_key(version: str) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
    """Semantic Versioning 2.0 precedence: 1.0.0-rc.1 < 1.0.0 < 1.0.1."""
    m = _SEMVER.match(version)
    if m is None:
        raise BundleError(f"'{version}' is not a semantic version.", code="schema")
    pre = m.group(4)
    ids: tuple[tuple[int, int | str], ...] = ()
    if pre:
        ids = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split("."))
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), 0 if pre else 1, ids)


@dataclass(frozen=True)
class StoreEntry:
    id: str
    version: str
    digest: str
    key_fingerprint: str
    installed_at: str
    active: bool
    path: Path
    name: str


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ModelStore:
    def __init__(
        self,
        settings: Settings,
        audit: AuditSink | None = None,
        *,
        trust: TrustStore | None = None,
    ) -> None:
        self.settings = settings
        self.audit = audit
        self.root = settings.model_store_dir
        self.trust = trust if trust is not None else TrustStore.from_settings(settings)

    # ------------------------------------------------------------------ state

    @contextmanager
    def _lock(self) -> Iterator[None]:
        """One writer at a time across processes (the GUI and the CLI may both act)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a+b") as fh:
            if sys.platform == "win32":
                import msvcrt

                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
            else:
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                if sys.platform == "win32":
                    fh.seek(0)
                    msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
                else:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    @property
    def state_path(self) -> Path:
        return self.root / STATE_NAME

    def _read(self) -> dict[str, Any]:
        if not self.state_path.is_file():
            return {"format": 1, "models": {}}
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BundleError(
                "The model store's state file is unreadable; no model can be chosen safely. "
                "Ask IT to restore it or reinstall the models.",
                code="store",
                path=self.state_path,
            ) from exc
        if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
            raise BundleError(
                "The model store's state file is damaged.", code="store", path=self.state_path
            )
        return data

    def _write(self, state: dict[str, Any]) -> None:
        text = json.dumps(state, indent=2, sort_keys=True) + "\n"
        write_atomic(self.state_path, text.encode("utf-8"))

    def _model(self, state: dict[str, Any], model_id: str) -> dict[str, Any]:
        model = state["models"].get(model_id)
        if model is None:
            raise BundleError(f"No model '{model_id}' is installed.", code="store")
        assert isinstance(model, dict)  # noqa: S101 - shape written by this class
        return model

    # ------------------------------------------------------------------ queries

    def list(self) -> list[StoreEntry]:
        state = self._read()
        out = []
        for model_id in sorted(state["models"]):
            model = state["models"][model_id]
            for version in sorted(model["versions"], key=semver_key):
                v = model["versions"][version]
                out.append(
                    StoreEntry(
                        id=model_id,
                        version=version,
                        digest=v["digest"],
                        key_fingerprint=v["key_fingerprint"],
                        installed_at=v["installed_at"],
                        active=model.get("active") == version,
                        path=self.root / v["file"],
                        name=v.get("name", model_id),
                    )
                )
        return out

    def active(self, id: str | None = None) -> Path | None:
        """The active bundle's path for ``id``; without an id, the most recently activated."""
        state = self._read()
        if id is not None:
            model = state["models"].get(id)
            if not model or not model.get("active"):
                return None
            return self.root / str(model["versions"][model["active"]]["file"])
        best: tuple[str, Path] | None = None
        for model in state["models"].values():
            if model.get("active") and model.get("history"):
                when = model["history"][-1]["at"]
                path = self.root / model["versions"][model["active"]]["file"]
                if best is None or when > best[0]:
                    best = (when, path)
        return best[1] if best else None

    # ------------------------------------------------------------------ actions

    def install(
        self, path: str | Path, *, allow_downgrade: bool = False, activate: bool = False
    ) -> LoadedBundle:
        """Verify, self-test and copy a bundle into the store.

        The first version of a model becomes active; later ones only with ``activate=True`` (or
        ``activate()``), so what clinicians use never changes as a side effect of an install.
        """
        loaded = load_bundle(path, self.trust, audit=self.audit)
        m = loaded.manifest
        with self._lock():
            state = self._read()
            model = state["models"].setdefault(
                m.id, {"active": None, "versions": {}, "history": []}
            )
            existing = model["versions"].get(m.version)
            if existing is not None:
                if existing["digest"] == loaded.digest:
                    return loaded  # the same file again: nothing to do
                raise BundleError(
                    f"Version {m.version} of '{m.id}' is already installed with different content. "
                    "A changed model needs a new version number.",
                    code="store",
                )
            newer = [v for v in model["versions"] if semver_key(v) > semver_key(m.version)]
            if newer and not allow_downgrade:
                reason = (
                    f"Refusing to install '{m.id}' {m.version}: the newer version(s) "
                    f"{', '.join(sorted(newer, key=semver_key))} are installed. Installing an "
                    "older version must be explicit (--allow-downgrade) and is recorded."
                )
                record(
                    self.audit,
                    "bundle_refused",
                    outcome="failure",
                    model_id=m.id,
                    model_version=m.version,
                    bundle_digest=loaded.digest,
                    reason=reason,
                    detail={"code": "downgrade", "key_fingerprint": loaded.key_fingerprint},
                )
                raise BundleError(reason, code="downgrade")
            rel = f"{m.id}/{m.version}.bundle"
            target = self.root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp")
            shutil.copyfile(loaded.path, tmp)
            tmp.replace(target)
            model["versions"][m.version] = {
                "file": rel,
                "digest": loaded.digest,
                "key_fingerprint": loaded.key_fingerprint,
                "installed_at": _now(),
                "name": m.name,
            }
            record(
                self.audit,
                "bundle_installed",
                outcome="success",
                model_id=m.id,
                model_version=m.version,
                bundle_digest=loaded.digest,
                reason="explicit downgrade" if newer else None,
                detail={
                    "key_fingerprint": loaded.key_fingerprint,
                    "downgrade": bool(newer),
                    "newer_installed": sorted(newer, key=semver_key),
                    "source": str(loaded.path),
                },
            )
            first = model["active"] is None
            self._write(state)
        if first or activate:
            self._activate(m.id, m.version, reason="first install" if first else "installed")
        loaded.path = target
        return loaded

    def activate(self, id: str, version: str) -> None:
        """Make ``version`` the one clinicians use (re-verified first), recorded."""
        self._activate(id, version, reason="activated")

    def _activate(self, model_id: str, version: str, *, reason: str, event: str = "") -> None:
        with self._lock():
            state = self._read()
            model = self._model(state, model_id)
            entry = model["versions"].get(version)
            if entry is None:
                raise BundleError(
                    f"Version {version} of '{model_id}' is not installed (installed: "
                    f"{', '.join(sorted(model['versions'], key=semver_key))}).",
                    code="store",
                )
            verified = verify_bundle(self.root / entry["file"], self.trust)
            if verified.digest != entry["digest"]:
                raise BundleError(
                    f"The stored file of '{model_id}' {version} changed since it was installed.",
                    code="store",
                )
            previous = model.get("active")
            model["active"] = version
            model["history"].append({"version": version, "at": _now(), "action": reason})
            record(
                self.audit,
                event or "bundle_activated",
                outcome="success",
                model_id=model_id,
                model_version=version,
                bundle_digest=entry["digest"],
                reason=reason,
                detail={"previous_version": previous, "key_fingerprint": entry["key_fingerprint"]},
            )
            self._write(state)

    def rollback(self, id: str) -> str:
        """Re-activate the version that was active before the current one; returns it."""
        state = self._read()
        model = self._model(state, id)
        current = model.get("active")
        target = None
        for item in reversed(model["history"]):
            v = str(item["version"])
            if v != current and v in model["versions"]:
                target = v
                break
        if target is None:
            raise BundleError(
                f"'{id}' has no earlier active version to roll back to.", code="store"
            )
        self._activate(id, target, reason=f"rollback from {current}", event="bundle_rolled_back")
        return target
