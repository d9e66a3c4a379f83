"""The model store: every installed version kept, exactly one active per model id.

Layout under ``settings.model_store_dir``: ``<id>/<version>.bundle`` files and ``store.json``
(written atomically) with, per id, the installed versions (digest, signer, time) and the
activation history. Installing an older version than one already installed needs
``allow_downgrade=True``; installing, activating and rolling back are each recorded in the audit
log. A bundle is fully verified and self-tested before it is installed, and re-verified (signature,
schema) before it is activated.

The store is a place where a file can be swapped behind the app's back (finding: a validly signed
0.9.0 copied over ``1.0.0.bundle`` ran as 0.9.0 while ``bundle list`` showed 1.0.0). So every read
of a stored bundle (``active()``, ``load_active()``, ``load()``, activation) checks the file's
SHA-256 against the digest ``store.json`` recorded at install, then, after verification, the
manifest's id and version against the entry, and paths in ``store.json`` must stay inside the
store folder. Any file-system failure (read-only folder, full disk) is a BundleError(code="store")
and, with an audit log, a ``failure`` event: nothing looks installed or activated that is not.

The store does not trust its own index either (issue 12 item 9: editing ``store.json`` by hand
made an old, validly signed version active with no audit row). ``store.json`` is signed with a
key of this installation (``settings.model_store_key_path`` in the data folder, an ECDSA P-256
pair made and kept like the installation key, by ``viewer.audit.checkpoints.InstallationKey``;
the signature covers the canonical JSON of everything but itself) each time the store writes
it, and every read verifies that signature before it believes a single entry: an edited active
version, an added, removed or edited entry, a removed signature or one by another key is refused
(code "store") and recorded as ``bundle_refused``.

Why a signature rather than replaying the audit log: the index is read where no log is open
(``bundle list``, the model manager's listing), by a store built without an audit sink, and after
a new log was started; the signature needs only the key, and it covers the whole index (entries
never activated included), not just the active version. Why not the installation key itself:
the audit layer takes that key's existence as evidence that a log existed (a store written
before the first log would make the log refuse to start). What it cannot stop: someone who can
read the key (the same account) re-signing, or an older signed ``store.json`` restored whole;
the audit log's install/activate rows remain the record to compare against.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from viewer.audit.chain import canonical_json
from viewer.audit.change_record import ChangeRequest, ModelSide
from viewer.audit.checkpoints import InstallationKey, signature_matches
from viewer.bundle.archive import Limits, read_archive_bytes, write_atomic
from viewer.bundle.audit_hook import AuditSink, record
from viewer.bundle.change import (
    change_required,
    effective_thresholds,
    require_change,
    store_change_event,
)
from viewer.bundle.loader import (
    LoadedBundle,
    VerifiedBundle,
    load_bundle,
    load_verified,
    verify_archive,
)
from viewer.bundle.trust import TrustStore, refuse_demo_key
from viewer.bundle.version import version_key
from viewer.config import Settings
from viewer.errors import AuditError, AuditWriteError, BundleError

STATE_NAME = "store.json"
STATE_FORMAT = 1
SIGNATURE_KEY = "signature"  # {"key_fingerprint": hex, "value": base64 DER ECDSA-SHA256}
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


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
    shadow: bool = False  # the model's shadow candidate (scored beside the active, never shown)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _os_message(exc: OSError) -> str:
    what = exc.strerror or exc.__class__.__name__
    name = str(exc.filename or "")
    if Path(name).name.startswith("."):  # a temporary or lock file: name its folder
        name = str(Path(name).parent)
    where = f" ({name})" if name else ""
    return f"{what}{where}"


@contextmanager
def _store_errors(action: str, root: Path) -> Iterator[None]:
    """A file-system failure in the store is a clear refusal, never a traceback."""
    try:
        yield
    except OSError as exc:
        raise BundleError(
            f"The model store could not {action}: {_os_message(exc)}. Nothing was changed; "
            "check that the models folder is writable and the disk is not full.",
            code="store",
            path=root,
        ) from exc


def _file_sha256(path: Path, max_bytes: int) -> tuple[str, bytes]:
    with path.open("rb") as fh:
        data = fh.read(max_bytes + 1)
    return hashlib.sha256(data).hexdigest(), data


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
        self.limits = Limits()

    # ------------------------------------------------------------------ state

    @contextmanager
    def _lock(self) -> Iterator[None]:
        """One writer at a time across processes (the GUI and the CLI may both act)."""
        with _store_errors("be locked for a change", self.root):
            self.root.mkdir(parents=True, exist_ok=True)
            fh = (self.root / ".lock").open("a+b")
        with fh:
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

    def _damaged(self, what: str) -> BundleError:
        return BundleError(
            f"The model store's state file is damaged ({what}); no model can be chosen safely. "
            "Ask IT to restore it or reinstall the models.",
            code="store",
            path=self.state_path,
        )

    def _read(self) -> dict[str, Any]:
        try:
            if not self.state_path.is_file():
                return {"format": STATE_FORMAT, "models": {}}
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BundleError(
                "The model store's state file is unreadable; no model can be chosen safely. "
                "Ask IT to restore it or reinstall the models.",
                code="store",
                path=self.state_path,
            ) from exc
        if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
            raise self._damaged("no model table")
        self._check_signature(data)
        if data.get("format") != STATE_FORMAT:
            raise BundleError(
                f"The model store's state file has format {data.get('format')!r}; this Bedside "
                f"reads format {STATE_FORMAT} only. Ask IT to reinstall the models with this "
                "version.",
                code="store",
                path=self.state_path,
            )
        for model_id, model in data["models"].items():
            if not isinstance(model, dict) or not isinstance(model.get("versions"), dict):
                raise self._damaged(f"model '{model_id}'")
            if not isinstance(model.get("history", []), list):
                raise self._damaged(f"history of '{model_id}'")
            active = model.get("active")
            if active is not None and active not in model["versions"]:
                raise self._damaged(f"'{model_id}' is active at {active}, which is not installed")
            shadow = model.get("shadow")
            if shadow is not None and (shadow not in model["versions"] or shadow == active):
                raise self._damaged(f"'{model_id}' has {shadow} as its shadow candidate")
            for version, entry in model["versions"].items():
                if (
                    not isinstance(entry, dict)
                    or not isinstance(entry.get("file"), str)
                    or not isinstance(entry.get("digest"), str)
                    or not _DIGEST.match(entry["digest"])
                ):
                    raise self._damaged(f"the entry of '{model_id}' {version} has no file digest")
        return data

    def _unsigned(self, what: str) -> BundleError:
        exc = BundleError(
            f"The model store's index is not the one this installation wrote ({what}): it was "
            "edited or replaced outside Bedside, so no model in it is used. Ask IT to restore "
            "store.json from backup or reinstall the models (every install is in the audit log).",
            code="store",
            path=self.state_path,
        )
        with suppress(AuditWriteError):
            record(
                self.audit,
                "bundle_refused",
                outcome="failure",
                reason=exc.message,
                detail={"code": "store", "path": exc.path, "index": True},
            )
        return exc

    def _check_signature(self, data: dict[str, Any]) -> None:
        """The index was signed by this installation's key (see the module docstring)."""
        signature = data.pop(SIGNATURE_KEY, None)
        if not isinstance(signature, dict):
            raise self._unsigned("it carries no signature")
        try:
            key = InstallationKey.load_public(self.settings.model_store_key_path)
        except AuditError as exc:
            raise self._unsigned(f"the model store key cannot be read: {exc.message}") from exc
        if key is None:
            raise self._unsigned("this installation has no model store key to check it with")
        if signature.get("key_fingerprint") != key.fingerprint:
            raise self._unsigned("it is signed by another key")
        try:  # NaN, infinity or a lone surrogate has no canonical JSON: not what we signed
            payload = canonical_json(data).encode("utf-8")
        except (ValueError, TypeError) as exc:
            raise self._unsigned("its signature does not match its contents") from exc
        if not signature_matches(key.public, payload, str(signature.get("value", ""))):
            raise self._unsigned("its signature does not match its contents")

    def _write(self, state: dict[str, Any]) -> None:
        """Sign the index with the installation key, then write it atomically."""
        unsigned = {k: v for k, v in state.items() if k != SIGNATURE_KEY}
        try:
            key = InstallationKey.load_or_create(self.settings.model_store_key_path)
            value = key.sign(canonical_json(unsigned).encode("utf-8"))
        except AuditError as exc:
            raise BundleError(
                f"The model store could not sign its index: {exc.message} Nothing was changed.",
                code="store",
                path=self.state_path,
            ) from exc
        signed = {
            **unsigned,
            SIGNATURE_KEY: {
                "key_fingerprint": key.fingerprint,
                "value": base64.b64encode(value).decode("ascii"),
            },
        }
        text = json.dumps(signed, indent=2, sort_keys=True) + "\n"
        with _store_errors("save its state", self.root):
            write_atomic(self.state_path, text.encode("utf-8"))

    def _model(self, state: dict[str, Any], model_id: str) -> dict[str, Any]:
        model = state["models"].get(model_id)
        if model is None:
            raise BundleError(f"No model '{model_id}' is installed.", code="store")
        assert isinstance(model, dict)  # noqa: S101 - shape checked by _read
        return model

    def _file(self, model_id: str, version: str, rel: str) -> Path:
        """The stored file of an entry; ``store.json`` may not point outside the store."""
        root = self.root.resolve()
        candidate = Path(rel)
        path = (root / candidate).resolve()
        if candidate.is_absolute() or ".." in candidate.parts or not path.is_relative_to(root):
            raise BundleError(
                f"The model store's entry for '{model_id}' {version} points outside the store "
                f"('{rel}'); the state file was altered. It is not used.",
                code="store",
                path=self.state_path,
            )
        return path

    # ------------------------------------------------------------------ stored files

    def _verify_stored(self, model_id: str, version: str, entry: dict[str, Any]) -> VerifiedBundle:
        """The stored file is the one installed: digest, then signature, then id and version."""
        path = self._file(model_id, version, str(entry["file"]))
        try:
            digest, data = _file_sha256(path, self.limits.max_archive_bytes)
        except OSError as exc:
            raise BundleError(
                f"The stored file of '{model_id}' {version} cannot be read "
                f"({_os_message(exc)}); reinstall that version.",
                code="store",
                path=path,
            ) from exc
        if digest != entry["digest"]:
            raise BundleError(
                f"The stored file of '{model_id}' {version} is not the one installed: its "
                f"SHA-256 is {digest[:16]}..., the store recorded {str(entry['digest'])[:16]}... "
                "It was replaced or altered after installation and is not used; reinstall that "
                "version.",
                code="store",
                path=path,
            )
        verified = verify_archive(
            read_archive_bytes(data, path=path, limits=self.limits), self.trust, path=path
        )
        refuse_demo_key(self.settings, verified.key_fingerprint, f"'{model_id}' {version}")
        m = verified.manifest
        if (m.id, m.version) != (model_id, version):
            raise BundleError(
                f"The stored file recorded as '{model_id}' {version} holds '{m.id}' {m.version}; "
                "the model store was altered. It is not used.",
                code="store",
                path=path,
            )
        return verified

    def _refuse_demo(self, key_fingerprint: str, model_id: str, version: str, digest: str) -> None:
        """A demo-key bundle goes into demo mode's throwaway store only (recorded refusal)."""
        try:
            refuse_demo_key(self.settings, key_fingerprint, f"'{model_id}' {version}")
        except BundleError as exc:
            self._refused(exc, model_id, version, digest, stored=False)
            raise

    def _refused(
        self, exc: BundleError, model_id: str, version: str, digest: str, *, stored: bool = True
    ) -> None:
        """Record a stored bundle that failed its check (best effort: the refusal stands)."""
        with suppress(AuditWriteError):
            record(
                self.audit,
                "bundle_refused",
                outcome="failure",
                model_id=model_id,
                model_version=version,
                bundle_digest=digest,
                reason=exc.message,
                detail={"code": exc.code, "path": exc.path, "stored": stored},
            )

    def _active_entry(self, id: str | None) -> tuple[str, str, dict[str, Any]] | None:
        state = self._read()
        if id is not None:
            model = state["models"].get(id)
            if not model or not model.get("active"):
                return None
            version = str(model["active"])
            return id, version, model["versions"][version]
        best: tuple[str, str, str] | None = None
        for model_id, model in state["models"].items():
            if model.get("active") and model.get("history"):
                when = str(model["history"][-1]["at"])
                if best is None or when > best[0]:
                    best = (when, model_id, str(model["active"]))
        if best is None:
            return None
        _, model_id, version = best
        return model_id, version, state["models"][model_id]["versions"][version]

    def _checked(self, model_id: str, version: str, entry: dict[str, Any]) -> VerifiedBundle:
        try:
            return self._verify_stored(model_id, version, entry)
        except BundleError as exc:
            self._refused(exc, model_id, version, str(entry["digest"]))
            raise

    # ------------------------------------------------------------------ queries

    def list(self) -> list[StoreEntry]:
        state = self._read()
        out = []
        for model_id in sorted(state["models"]):
            model = state["models"][model_id]
            for version in sorted(model["versions"], key=version_key):
                v = model["versions"][version]
                out.append(
                    StoreEntry(
                        id=model_id,
                        version=version,
                        digest=v["digest"],
                        key_fingerprint=v.get("key_fingerprint", ""),
                        installed_at=v.get("installed_at", ""),
                        active=model.get("active") == version,
                        shadow=model.get("shadow") == version,
                        path=self._file(model_id, version, v["file"]),
                        name=v.get("name", model_id),
                    )
                )
        return out

    def active(self, id: str | None = None) -> Path | None:
        """The active bundle's path for ``id``; without an id, the most recently activated.

        The file is checked first (digest recorded at install, signature, manifest id and
        version): a swapped or altered file raises BundleError(code="store"), recorded as a
        refusal. Prefer :meth:`load_active`, which loads the very bytes it checked.
        """
        found = self._active_entry(id)
        if found is None:
            return None
        model_id, version, entry = found
        return self._checked(model_id, version, entry).path

    def load_active(self, id: str | None = None) -> LoadedBundle | None:
        """Check and load the active bundle in one read (no swap between check and load)."""
        found = self._active_entry(id)
        if found is None:
            return None
        return self.load(*found[:2])

    def load(self, id: str, version: str) -> LoadedBundle:
        """Check (as :meth:`active`) and load an installed version; recorded like load_bundle."""
        model = self._model(self._read(), id)
        entry = model["versions"].get(version)
        if entry is None:
            raise BundleError(f"Version {version} of '{id}' is not installed.", code="store")
        verified = self._checked(id, version, entry)
        try:
            loaded = load_verified(verified)
        except BundleError as exc:
            self._refused(exc, id, version, verified.digest)
            raise
        record(
            self.audit,
            "bundle_verified",
            outcome="success",
            model_id=id,
            model_version=version,
            bundle_digest=loaded.digest,
            detail={
                "key_fingerprint": loaded.key_fingerprint,
                "key_source": loaded.key_source,
                "path": str(loaded.path),
                "stored": True,
                "selftest_max_abs_diff_output": loaded.selftest.max_abs_diff_output,
            },
        )
        return loaded

    # ------------------------------------------------------------------ actions

    def _failed(
        self, event: str, exc: BundleError, *, model_id: str | None, version: str | None
    ) -> BundleError:
        """Record a store action that did not happen; returns the error to raise."""
        try:
            record(
                self.audit,
                event,
                outcome="failure",
                model_id=model_id,
                model_version=version,
                reason=exc.message,
                detail={"code": exc.code},
            )
        except AuditWriteError:
            return BundleError(
                f"{exc.message} (The audit log did not record this failure either.)",
                code=exc.code,
                path=exc.path,
            )
        return exc

    def _record_bundle(
        self, event: str, loaded: LoadedBundle, *, reason: str | None, detail: dict[str, Any]
    ) -> None:
        """An audit row about one loaded bundle (refused: a failure; else a success)."""
        m = loaded.manifest
        record(
            self.audit,
            event,
            outcome="failure" if event == "bundle_refused" else "success",
            model_id=m.id,
            model_version=m.version,
            bundle_digest=loaded.digest,
            reason=reason,
            detail=detail,
        )

    def install(
        self,
        path: str | Path,
        *,
        allow_downgrade: bool = False,
        activate: bool = False,
        shadow: bool = False,
    ) -> LoadedBundle:
        """Verify, self-test and copy a bundle into the store.

        The first version of a model becomes active; later ones only with ``activate=True`` (or
        ``activate()``), so what clinicians use never changes as a side effect of an install.
        ``shadow=True``: the version becomes the model's shadow candidate (:meth:`set_shadow`);
        it needs an active version of the same model and is never the active one.
        The lock is taken first, so a store that cannot be written to fails before anything is
        verified or recorded as verified; a failure after that is a ``bundle_installed`` event
        with outcome ``failure``.
        """
        if shadow and activate:
            raise BundleError(
                "A version is installed as the active one or as a shadow candidate, not both.",
                code="store",
            )
        model_id: str | None = None
        version: str | None = None
        try:
            with self._lock():
                loaded = load_bundle(path, self.trust, audit=self.audit, limits=self.limits)
                m = loaded.manifest
                model_id, version = m.id, m.version
                self._refuse_demo(loaded.key_fingerprint, m.id, m.version, loaded.digest)
                if shadow:
                    self._shadow_target(self._read(), m.id, m.version)
                first, target = self._install_locked(loaded, allow_downgrade)
        except BundleError as exc:
            if exc.code in ("downgrade", "untrusted") or (model_id is None and exc.code != "store"):
                raise  # already recorded as bundle_refused (by this class or load_bundle)
            raise self._failed("bundle_installed", exc, model_id=model_id, version=version) from exc
        if shadow:
            self.set_shadow(m.id, m.version)
        if target is None:
            return loaded  # the same file again: nothing to do
        loaded.path = target
        if first and not activate and change_required(self.settings):
            return loaded  # the site wants a signed, approved activation: installed, not active
        if first or activate:
            self._activate(m.id, m.version, reason="first install" if first else "installed")
        return loaded

    def _install_locked(
        self, loaded: LoadedBundle, allow_downgrade: bool
    ) -> tuple[bool, Path | None]:
        m = loaded.manifest
        state = self._read()
        before = copy.deepcopy(state)
        model = state["models"].setdefault(m.id, {"active": None, "versions": {}, "history": []})
        existing = model["versions"].get(m.version)
        if existing is not None:
            if existing["digest"] == loaded.digest:
                return False, None
            raise BundleError(
                f"Version {m.version} of '{m.id}' is already installed with different content. "
                "A changed model needs a new version number.",
                code="store",
            )
        newer = [v for v in model["versions"] if version_key(v) > version_key(m.version)]
        if newer and not allow_downgrade:
            reason = (
                f"Refusing to install '{m.id}' {m.version}: the newer version(s) "
                f"{', '.join(sorted(newer, key=version_key))} are installed. Installing an "
                "older version must be explicit (--allow-downgrade) and is recorded."
            )
            self._record_bundle(
                "bundle_refused",
                loaded,
                reason=reason,
                detail={"code": "downgrade", "key_fingerprint": loaded.key_fingerprint},
            )
            raise BundleError(reason, code="downgrade")
        rel = f"{m.id}/{m.version}.bundle"
        target = self._file(m.id, m.version, rel)
        tmp = target.with_name(f".{target.name}.tmp")
        with _store_errors(f"store the file of '{m.id}' {m.version}", self.root):
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(loaded.path, tmp)
                if _file_sha256(tmp, self.limits.max_archive_bytes)[0] != loaded.digest:
                    raise OSError(0, "the copy differs from the verified file", str(loaded.path))
                tmp.replace(target)
            finally:
                tmp.unlink(missing_ok=True)
        first = model["active"] is None
        model["versions"][m.version] = {
            "file": rel,
            "digest": loaded.digest,
            "key_fingerprint": loaded.key_fingerprint,
            "installed_at": _now(),
            "name": m.name,
        }
        try:
            self._write(state)
            self._record_bundle(
                "bundle_installed",
                loaded,
                reason="explicit downgrade" if newer else None,
                detail={
                    "key_fingerprint": loaded.key_fingerprint,
                    "downgrade": bool(newer),
                    "newer_installed": sorted(newer, key=version_key),
                    "source": str(loaded.path),
                },
            )
        except BaseException:
            # Not saved or not recorded, so not installed: no state entry, no stray file.
            with suppress(BundleError):
                self._write(before)
            with suppress(OSError):
                target.unlink()
            raise
        return first, target

    def activate(self, id: str, version: str, *, change: ChangeRequest | None = None) -> None:
        """Make ``version`` the one clinicians use (re-verified first), recorded with its signed
        change record (``change``: evidence, rationale, approvers; see ``viewer.bundle.change``,
        which also enforces the site's change-control rule)."""
        self._activate(id, version, reason="activated", change=change)

    def _activate(
        self,
        model_id: str,
        version: str,
        *,
        reason: str,
        event: str = "",
        change: ChangeRequest | None = None,
    ) -> None:
        event = event or "bundle_activated"
        try:
            with self._lock():
                self._activate_locked(model_id, version, reason=reason, event=event, change=change)
        except BundleError as exc:
            raise self._failed(event, exc, model_id=model_id, version=version) from exc

    def _thresholds(self, model_id: str, version: str, entry: dict[str, Any]) -> dict[str, float]:
        """A version's effective thresholds for its change record (site ones only when its stored
        file no longer verifies: a rollback away from a damaged version must stay possible)."""
        try:
            labels: list[Any] = list(self._verify_stored(model_id, version, entry).manifest.labels)
        except BundleError:
            labels = []
        return effective_thresholds(labels, entry.get("site_amendments", {}), entry["digest"])

    def _activate_locked(
        self, model_id: str, version: str, *, reason: str, event: str, change: ChangeRequest | None
    ) -> None:
        state = self._read()
        before = copy.deepcopy(state)
        model = self._model(state, model_id)
        entry = model["versions"].get(version)
        if entry is None:
            raise BundleError(
                f"Version {version} of '{model_id}' is not installed (installed: "
                f"{', '.join(sorted(model['versions'], key=version_key))}).",
                code="store",
            )
        rollback = event == "bundle_rolled_back"
        if not rollback:
            require_change(self.settings, change)
        verified = self._verify_stored(model_id, version, entry)
        previous = model.get("active")
        also = []
        if self.audit is not None:  # signed before anything changes: no record, no act
            old, before_side, thresholds_before = None, None, {}
            if previous is not None and previous in model["versions"]:
                old = model["versions"][previous]
                before_side = ModelSide(version=str(previous), digest=old["digest"])
                thresholds_before = self._thresholds(model_id, str(previous), old)
            also.append(
                store_change_event(
                    self.settings,
                    action="rollback" if rollback else "activate",
                    model_id=model_id,
                    before=before_side,
                    after=ModelSide(version=version, digest=entry["digest"]),
                    thresholds_before=thresholds_before,
                    thresholds_after=effective_thresholds(
                        verified.manifest.labels, entry.get("site_amendments", {}), entry["digest"]
                    ),
                    request=change,
                )
            )
        model["active"] = version
        if model.get("shadow") == version:  # the candidate now scores for readers: not a shadow
            model["shadow"] = None
        model.setdefault("history", []).append({"version": version, "at": _now(), "action": reason})
        self._write(state)
        try:
            record(
                self.audit,
                event,
                outcome="success",
                model_id=model_id,
                model_version=version,
                bundle_digest=entry["digest"],
                reason=reason,
                detail={
                    "previous_version": previous,
                    "key_fingerprint": entry.get("key_fingerprint"),
                },
                also=also,
            )
        except AuditWriteError:
            self._write(before)  # not recorded, so not activated
            raise

    # ------------------------------------------------------------------ shadow candidate

    def _shadow_target(self, state: dict[str, Any], model_id: str, version: str) -> None:
        """Refuse a shadow candidate that has nothing to be compared with, or is the active."""
        model = state["models"].get(model_id)
        active = model.get("active") if isinstance(model, dict) else None
        if active is None:
            raise BundleError(
                f"'{model_id}' has no active version for a shadow candidate to be compared "
                "with; install and activate one first.",
                code="store",
            )
        if active == version:
            raise BundleError(
                f"{version} is the active version of '{model_id}'; a shadow candidate is "
                "another version, scored beside the active one and never shown.",
                code="store",
            )

    def shadow_entry(self, id: str) -> StoreEntry | None:
        """The shadow candidate of model ``id`` (listing only: :meth:`load` checks the file)."""
        found = [e for e in self.list() if e.id == id and e.shadow]
        return found[0] if found else None

    def set_shadow(self, id: str, version: str) -> None:
        """Make an installed ``version`` the shadow candidate of ``id`` (re-verified), recorded.

        It scores every image the active version scores, after the active result, and its
        results go to the audit log only (``viewer.session.shadow``). One candidate per model
        id, never the active version; another candidate replaces it; activating it ends it.
        """
        self._shadow(id, version)

    def stop_shadow(self, id: str) -> str:
        """End shadow scoring for ``id`` (the version stays installed), recorded; returns it."""
        return self._shadow(id, None)

    def _shadow(self, model_id: str, version: str | None) -> str:
        """Set (``version``) or clear (None) the candidate: saved, then recorded, or neither."""
        event = "shadow_started" if version is not None else "shadow_stopped"
        try:
            with self._lock():
                state = self._read()
                before = copy.deepcopy(state)
                model = self._model(state, model_id)
                previous = model.get("shadow")
                target = version if version is not None else previous
                if target is None:
                    raise BundleError(f"'{model_id}' has no shadow candidate.", code="store")
                entry = model["versions"].get(target)
                if entry is None:
                    raise BundleError(
                        f"Version {target} of '{model_id}' is not installed.", code="store"
                    )
                if version is not None:
                    self._shadow_target(state, model_id, version)
                    if previous == version:
                        return version
                    self._verify_stored(model_id, version, entry)
                model["shadow"] = version
                self._write(state)
                try:
                    record(
                        self.audit,
                        event,
                        outcome="success",
                        model_id=model_id,
                        model_version=str(target),
                        bundle_digest=entry["digest"],
                        detail={
                            "active_version": model.get("active"),
                            "previous_shadow": previous,
                            "key_fingerprint": entry.get("key_fingerprint"),
                        },
                    )
                except AuditWriteError:
                    self._write(before)  # not recorded, so not changed
                    raise
        except BundleError as exc:
            raise self._failed(event, exc, model_id=model_id, version=version) from exc
        return str(target)

    # ------------------------------------------------------------------ site amendments

    def site_amendments(self, model_id: str, version: str) -> dict[str, dict[str, Any]]:
        """The site amendments (label -> record) kept with one installed version.

        They belong to that version's entry (and so to its digest), inside the signed index:
        activating another version leaves them unused, rolling back makes them apply again,
        unchanged (``viewer.session.site_thresholds``).
        """
        entry = self._model(self._read(), model_id)["versions"].get(version)
        if entry is None:
            raise BundleError(f"Version {version} of '{model_id}' is not installed.", code="store")
        return copy.deepcopy(dict(entry.get("site_amendments", {})))

    def set_site_amendment(
        self,
        model_id: str,
        version: str,
        label: str,
        amendment: dict[str, Any],
        recorded: Callable[[], object],
    ) -> None:
        """Keep ``amendment`` for ``label`` with that version (its ``bundle_digest`` must be the
        version's), then call ``recorded`` (the audit row); if that fails, nothing is kept."""
        with self._lock():
            state = self._read()
            before = copy.deepcopy(state)
            entry = self._model(state, model_id)["versions"].get(version)
            if entry is None or entry["digest"] != amendment.get("bundle_digest"):
                raise BundleError(
                    f"The site amendment is for another bundle than '{model_id}' {version} "
                    "as installed; nothing was changed.",
                    code="store",
                )
            entry.setdefault("site_amendments", {})[label] = amendment
            self._write(state)
            try:
                recorded()
            except BaseException:
                self._write(before)  # not recorded, so not amended
                raise

    def rollback(self, id: str, *, change: ChangeRequest | None = None) -> str:
        """Re-activate the version that was active before the current one; returns it. Recorded
        with its signed change record (never refused by the site rule: see bundle.change)."""
        state = self._read()
        model = self._model(state, id)
        current = model.get("active")
        target = None
        for item in reversed(model.get("history", [])):
            v = str(item["version"])
            if v != current and v in model["versions"]:
                target = v
                break
        if target is None:
            raise BundleError(
                f"'{id}' has no earlier active version to roll back to.", code="store"
            )
        self._activate(
            id,
            target,
            reason=f"rollback from {current}",
            event="bundle_rolled_back",
            change=change,
        )
        return target
