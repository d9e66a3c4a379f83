"""Settings: built-in defaults < site file (IT, read-only to the app) < user file.

The site file is TOML written by IT at ``BEDSIDE_SITE_CONFIG`` or the platform's site config dir
(``site.toml``). Keys under ``[trust]``, ``[audit]``, ``[models]`` and
``user.require_named_user`` are site-only: a user file cannot change them. The other keys are
defaults a user may override unless the site lists them in ``locked``. ``BEDSIDE_DATA_DIR``
relocates everything the app writes.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from viewer.errors import ConfigError

APP_NAME = "Bedside"

# Keys a user file may set (dotted). Everything else is site-only.
USER_KEYS = frozenset(
    {"user.name", "user.role", "reading.order", "ui.language", "inference.threads"}
)


class _Section(BaseModel):
    # strict: "yes" or 1 is not a boolean and "2" is not a number in a file IT signs off.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class UserSection(_Section):
    name: str = Field(default="", max_length=200, description="Clinician's printed name")
    role: str = Field(default="", max_length=100, description="Clinician's role, e.g. Radiologist")
    require_named_user: bool = Field(
        default=False, description="Site-only: refuse decisions until a printed name is set"
    )


class ReadingSection(_Section):
    order: Literal["ai_first", "read_first"] = Field(
        default="ai_first",
        description="read_first hides the AI result until a provisional finding is recorded",
    )


class UiSection(_Section):
    language: Literal["auto", "en", "ja"] = "auto"


class InferenceSection(_Section):
    threads: int = Field(default=2, ge=1, le=64, description="torch intra-op threads, recorded")


class TrustSection(_Section):
    site_keys_dir: str = Field(default="", description="Folder of trusted public keys (PEM)")
    allow_user_keys: bool = Field(
        default=False, description="Also trust keys in the user's data dir (off by default)"
    )


class AuditSection(_Section):
    db_path: str = Field(default="", description="Audit log file; default DATA_DIR/audit.sqlite")
    secret_path: str = Field(default="", description="Pseudonym key; default DATA_DIR/site-secret")
    site_name: str = Field(default="", max_length=200, description="Printed in audit reports")


class ModelsSection(_Section):
    store_dir: str = Field(default="", description="Model store; default DATA_DIR/models")


class SettingsFile(_Section):
    """The shape of a settings file; every key optional, unknown keys refused."""

    locked: list[str] = Field(default_factory=list)
    user: UserSection = UserSection()
    reading: ReadingSection = ReadingSection()
    ui: UiSection = UiSection()
    inference: InferenceSection = InferenceSection()
    trust: TrustSection = TrustSection()
    audit: AuditSection = AuditSection()
    models: ModelsSection = ModelsSection()


@dataclass(frozen=True)
class Settings:
    """Effective settings plus where they came from."""

    values: SettingsFile
    data_dir: Path
    site_file: Path | None
    user_file: Path
    site_dir: Path
    demo: bool = False
    locked: frozenset[str] = field(default_factory=frozenset)

    @property
    def audit_db_path(self) -> Path:
        p = self.values.audit.db_path
        return Path(p) if p else self.data_dir / "audit.sqlite"

    @property
    def secret_path(self) -> Path:
        p = self.values.audit.secret_path
        return Path(p) if p else self.data_dir / "site-secret"

    @property
    def installation_key_path(self) -> Path:
        """Private key that signs audit checkpoints (PEM, mode 0600)."""
        return self.data_dir / "installation-key.pem"

    @property
    def model_store_dir(self) -> Path:
        p = self.values.models.store_dir
        return Path(p) if p else self.data_dir / "models"

    @property
    def site_keys_dir(self) -> Path:
        p = self.values.trust.site_keys_dir
        return Path(p) if p else self.site_dir / "trusted-keys"

    @property
    def user_keys_dir(self) -> Path | None:
        """The user's trusted-key folder, or None when the site does not allow one."""
        return self.data_dir / "trusted-keys" if self.values.trust.allow_user_keys else None

    def is_locked(self, dotted_key: str) -> bool:
        """True when the user may not change this key (site-only or locked by the site)."""
        return dotted_key not in USER_KEYS or dotted_key in self.locked

    def with_user_values(self, **sections: dict[str, Any]) -> Settings:
        """A copy with user values applied (used after saving the user file)."""
        merged = _merge(self.values.model_dump(), sections)
        return Settings(
            values=SettingsFile.model_validate(merged),
            data_dir=self.data_dir,
            site_file=self.site_file,
            user_file=self.user_file,
            site_dir=self.site_dir,
            demo=self.demo,
            locked=self.locked,
        )


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def _describe(error: ValidationError, path: Path) -> str:
    parts = []
    for item in error.errors():
        key = ".".join(str(x) for x in item["loc"])
        if item["type"] == "extra_forbidden":
            parts.append(f"unknown key '{key}'")
        else:
            allowed = item.get("ctx", {}).get("expected")
            hint = f" (allowed: {allowed})" if allowed else ""
            parts.append(f"key '{key}': {item['msg']}{hint}")
    return f"Settings file {path} is not valid: " + "; ".join(parts) + "."


MAX_SETTINGS_BYTES = 1_000_000


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "..."


def read_settings_file(path: Path) -> tuple[SettingsFile, dict[str, Any]]:
    """Parse and validate one TOML settings file; errors name the file and the key."""
    if path.exists() and not path.is_file():
        raise ConfigError(f"Settings file {path} is not a regular file (a folder or device?).")
    try:
        text = path.read_text(encoding="utf-8")
        if len(text) > MAX_SETTINGS_BYTES:
            raise ConfigError(f"Settings file {path} is larger than {MAX_SETTINGS_BYTES} bytes.")
        raw = tomllib.loads(text)
    except OSError as exc:
        raise ConfigError(f"Settings file {path} cannot be read: {exc.strerror}.") from exc
    except (RecursionError, ValueError) as exc:
        # TOMLDecodeError is a ValueError; deep nesting and 4300+ digit integers land here too.
        raise ConfigError(f"Settings file {path} is not valid TOML: {_short(exc)}.") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"Settings file {path} is not UTF-8 text.") from exc
    try:
        parsed = SettingsFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from exc
    for key in parsed.locked:
        if key not in USER_KEYS:
            raise ConfigError(
                f"Settings file {path}: 'locked' names '{key}', which is not a user setting "
                f"(allowed: {', '.join(sorted(USER_KEYS))})."
            )
    return parsed, raw


def default_site_dir() -> Path:
    return Path(platformdirs.site_config_dir(APP_NAME, appauthor=False))


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def load_settings(*, demo: bool = False, env: dict[str, str] | None = None) -> Settings:
    """Merge defaults, the site file and the user file.

    In demo mode without ``BEDSIDE_DATA_DIR``, a throwaway data dir is used so a demo never writes
    into a real audit log or model store.
    """
    env = dict(os.environ) if env is None else env
    site_file_env = env.get("BEDSIDE_SITE_CONFIG", "")
    site_file = Path(site_file_env) if site_file_env else default_site_dir() / "site.toml"
    site_dir = site_file.parent
    data_env = env.get("BEDSIDE_DATA_DIR", "")
    if data_env:
        data_dir = Path(data_env)
    elif demo:
        data_dir = Path(tempfile.mkdtemp(prefix="bedside-demo-"))
    else:
        data_dir = default_data_dir()
    user_file = data_dir / "settings.toml"

    merged: dict[str, Any] = {}
    locked: frozenset[str] = frozenset()
    site_used: Path | None = None
    if data_dir.exists() and not data_dir.is_dir():
        raise ConfigError(
            f"The data folder {data_dir} is a file, not a folder (BEDSIDE_DATA_DIR?)."
        )
    if site_file.exists():
        site, raw_site = read_settings_file(site_file)
        merged = raw_site
        locked = frozenset(site.locked)
        site_used = site_file
    elif site_file_env:
        raise ConfigError(f"BEDSIDE_SITE_CONFIG names {site_file}, which does not exist.")
    if user_file.is_file():
        _, raw_user = read_settings_file(user_file)
        for key in _flatten(raw_user):
            if key == "locked" or key not in USER_KEYS:
                raise ConfigError(
                    f"Settings file {user_file}: '{key}' can only be set by the site file "
                    f"(a user may set: {', '.join(sorted(USER_KEYS))})."
                )
        allowed = {k: v for k, v in _flatten(raw_user).items() if k not in locked}
        merged = _merge(merged, _unflatten(allowed))
    values = SettingsFile.model_validate(merged)
    return Settings(
        values=values,
        data_dir=data_dir,
        site_file=site_used,
        user_file=user_file,
        site_dir=site_dir,
        demo=demo,
        locked=locked,
    )


def _unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for dotted, value in flat.items():
        node = out
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return out


def save_user_settings(settings: Settings, updates: dict[str, Any]) -> Settings:
    """Write user-changeable keys (dotted) to the user file; refuse locked ones."""
    for key in updates:
        if settings.is_locked(key):
            raise ConfigError(f"'{key}' is set by the site and cannot be changed here.")
    current: dict[str, Any] = {}
    if settings.user_file.is_file():
        current = _flatten(tomllib.loads(settings.user_file.read_text(encoding="utf-8")))
    current.update(updates)
    lines = []
    for section, values in _unflatten(current).items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    settings.user_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = settings.user_file.with_suffix(".tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    tmp.replace(settings.user_file)
    return load_settings(
        demo=settings.demo,
        env={
            "BEDSIDE_DATA_DIR": str(settings.data_dir),
            "BEDSIDE_SITE_CONFIG": str(settings.site_file) if settings.site_file else "",
        },
    )


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
