"""Settings: built-in defaults < site file (IT, read-only to the app) < user file.

The site file is TOML written by IT at ``BEDSIDE_SITE_CONFIG`` or the platform's site config dir
(``site.toml``). Keys under ``[trust]``, ``[audit]``, ``[models]``, ``[change_control]``,
``[audit_central]``, ``[atna]``, ``[pacs]`` and ``user.require_named_user`` are site-only: a user
file cannot change them. The other keys are
defaults a user may override unless the site lists them in ``locked``. ``BEDSIDE_DATA_DIR``
relocates everything the app writes.
"""

from __future__ import annotations

import dataclasses
import math
import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from viewer.errors import ConfigError
from viewer.paths import APP_NAME as APP_NAME
from viewer.paths import LINUX_SITE_DIR as LINUX_SITE_DIR
from viewer.paths import MAX_SETTINGS_BYTES as MAX_SETTINGS_BYTES
from viewer.paths import InstallationPaths, locate, read_bounded
from viewer.paths import check_setting_path as check_setting_path
from viewer.paths import default_data_dir as default_data_dir
from viewer.paths import default_site_dir as default_site_dir
from viewer.paths import stat_setting as _stat

# Keys a user file may set (dotted). Everything else is site-only.
USER_KEYS = frozenset(
    {"user.name", "user.role", "reading.order", "ui.language", "ui.left_drag", "inference.threads"}
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
    left_drag: Literal["pan", "window"] = Field(
        default="pan",
        description="What a left drag on the image does: pan (right drag = window/level), or "
        "window/level as in Weasis and RadiAnt (right drag = pan)",
    )


class InferenceSection(_Section):
    """``threads``: torch's intra-op threads for scoring, a number (1-64) or ``"auto"`` (the
    default): before each forward, as many threads as there are cores other processes leave
    free (at least 1). On a busy 2-core desktop two threads wait for each other and a forward
    gets several times slower than with one (``viewer.inference.engine``, BENCHMARKS.md). The
    count used is recorded in every AI result's audit row; scores are reproducible per count."""

    threads: Annotated[int, Field(ge=1, le=64)] | Literal["auto"] = Field(
        default="auto", description="torch intra-op threads (1-64) or auto (free cores), recorded"
    )


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


class ChangeControlSection(_Section):
    """Site-only (issue 16 item 4): what an activation of a model version needs. Every
    activation, rollback and site threshold writes a signed change record either way."""

    require_record: bool = Field(
        default=False,
        description="Refuse an activation whose change record cites no evidence (the JSON "
        "report of `bedside model compare` or `model recalibrate`)",
    )
    second_approver: bool = Field(
        default=False,
        description="Refuse an activation until a second named user (another OS account) "
        "approves it with `bedside bundle approve`",
    )


_IDENTIFIER = r"^[a-z_][a-z0-9_]{0,62}$"  # a PostgreSQL name that needs no quoting
# a host name (RFC 1123 letters, digits, dots, hyphens; underscores some DNS zones hold) or an IP
# address (IPv6 with its zone); nothing a library could read as another option or a terminal as
# a control sequence (a NUL, a space, "dbname=..." or an escape reached libpq, pynetdicom and
# the screen)
_HOST = r"^[A-Za-z0-9._:%\[\]-]*$"


class AuditCentralSection(_Section):
    """Site-only (issue 18 item 3): the department audit store. Every local audit row is also
    forwarded, in order, to a PostgreSQL database through a durable outbox, where the
    application's role may only INSERT and SELECT: a truncated, rolled-back or re-chained local
    log is then visible against the copy (``bedside audit verify --central``). IT creates the
    store once with ``bedside audit central setup``."""

    enabled: bool = Field(default=False, description="Forward every audit row to the store")
    host: str = Field(
        default="", max_length=253, pattern=_HOST, description="PostgreSQL server name or address"
    )
    port: Annotated[int, Field(ge=1, le=65535)] = Field(default=5432, description="Server port")
    dbname: str = Field(default="bedside_audit", min_length=1, max_length=63,
                        description="Database that holds the store")  # fmt: skip
    user: str = Field(default="bedside_forwarder", min_length=1, max_length=63,
                      description="The application's role (INSERT and SELECT only)")  # fmt: skip
    password_file: str = Field(
        default="", description="File holding the role's password (one line, readable by the "
        "users of this workstation only); empty: no password (certificate or peer login)"
    )  # fmt: skip
    sslmode: Literal["disable", "require", "verify-ca", "verify-full"] = Field(
        default="verify-full",
        description="TLS to the server (libpq sslmode); verify-full checks the certificate and "
        "the host name against ca_file",
    )
    ca_file: str = Field(default="", description="CA certificate (PEM) that signed the server's")
    workstation: str = Field(
        default="",
        pattern=r"^([A-Za-z0-9][A-Za-z0-9._-]{0,63})?$",
        description="This machine's name in the store, e.g. ward-3; the first 8 hex digits of "
        "the installation key's fingerprint are appended (ward-3-1a2b3c4d: each OS account's log "
        "is a chain of its own). Empty: ws- and 16 hex digits of the fingerprint",
    )
    db_schema: str = Field(
        default="bedside_audit", pattern=_IDENTIFIER, description="PostgreSQL schema of the store"
    )
    interval_s: float = Field(
        default=5.0, ge=0.2, le=3600, description="Seconds between forwarding rounds in the app"
    )
    connect_timeout_s: float = Field(
        default=10.0, ge=1, le=300, description="Give up a connection attempt after this long"
    )

    @model_validator(mode="after")
    def _host_when_enabled(self) -> AuditCentralSection:
        if self.enabled and not self.host.strip():
            raise ValueError("enabled is true but no host is given (set audit_central.host)")
        if self.sslmode in ("verify-ca", "verify-full") and self.enabled and not self.ca_file:
            raise ValueError(
                f"sslmode {self.sslmode} needs the CA certificate that signed the server's "
                '(set audit_central.ca_file), or sslmode = "require" to encrypt without '
                "checking it"
            )
        return self


class AtnaSection(_Section):
    """Site-only (issue 18 item 4): the hospital's audit record repository (IHE ATNA). Every
    local audit row is also sent, in order, as a DICOM PS3.15 A.5 audit message in an RFC 5424
    syslog message over TLS (RFC 5425: TLS 1.2 or later, the repository's certificate checked
    against ``ca_file`` and its host name; a client certificate for ATNA node authentication),
    through a durable outbox (``DATA_DIR/atna-outbox.sqlite``): a stopped repository loses
    nothing. Messages carry the log's pseudonyms, never patient names or raw identifiers. Once
    enabled, the log's earlier rows are sent too, oldest first: on a long log, run ``bedside
    audit atna send --once`` once rather than leave the backlog to the running app."""

    enabled: bool = Field(default=False, description="Send every audit row to the repository")
    host: str = Field(
        default="", max_length=253, pattern=_HOST,
        description="Repository host name (checked against its "
        "certificate) or address"
    )  # fmt: skip
    port: Annotated[int, Field(ge=1, le=65535)] = Field(
        default=6514, description="Syslog over TLS port (6514 is RFC 5425's)"
    )
    ca_file: str = Field(
        default="", description="CA certificate(s), PEM, that signed the repository's certificate"
    )
    client_cert_file: str = Field(
        default="", description="This workstation's certificate (PEM) for mutual TLS; empty: none"
    )
    client_key_file: str = Field(
        default="", description="The private key (PEM, unencrypted, readable by its users only) "
        "of client_cert_file"
    )  # fmt: skip
    facility: Literal["authpriv", "log_audit"] = Field(
        default="authpriv", description="Syslog facility: authpriv (10) or log_audit (13)"
    )
    app_name: str = Field(
        default="bedside", pattern=r"^[!-~]{1,48}$",
        description="RFC 5424 APP-NAME (1-48 printable ASCII characters, no spaces)",
    )  # fmt: skip
    source_id: str = Field(
        default="", max_length=64,
        description="AuditSourceID of this workstation; empty: its host name",
    )  # fmt: skip
    enterprise_site_id: str = Field(
        default="", max_length=64, description="AuditEnterpriseSiteID (the hospital); optional"
    )
    connect_timeout_s: float = Field(
        default=10.0, ge=0.5, le=300, description="Give up a connection attempt after this long"
    )
    send_timeout_s: float = Field(
        default=10.0, ge=0.5, le=300,
        description="Give up when the repository does not take or acknowledge a batch this long",
    )  # fmt: skip

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> AtnaSection:
        if self.enabled and not self.host.strip():
            raise ValueError("enabled is true but no host is given (set atna.host)")
        if self.enabled and not self.ca_file:
            raise ValueError(
                "enabled is true but no ca_file is given: the repository's certificate must be "
                "checked (set atna.ca_file to the PEM file of the CA that signed it)"
            )
        if bool(self.client_cert_file) != bool(self.client_key_file):
            raise ValueError(
                "client_cert_file and client_key_file go together: give both for mutual TLS, "
                "or neither"
            )
        return self


PacsObjectKind = Literal["sr", "sc", "gsps"]


def _default_pacs_send() -> list[PacsObjectKind]:
    return ["sr", "sc"]


#: ``[pacs]`` keys renamed to the ``[atna]``/``[audit_central]`` convention: old name -> new. A
#: site file with an old name keeps working (TLS and credentials are never dropped silently);
#: ``bedside site check`` warns about it.
PACS_RENAMED = {
    "secret_path": "password_file",
    "ca_bundle": "ca_file",
    "client_cert": "client_cert_file",
    "client_key": "client_key_file",
}


class PacsSection(_Section):
    """Site-only (issue 17): where results go and where studies come from. Secrets are never in
    this file: ``password_file`` names a file holding the password or bearer token (RFC 7617 /
    RFC 6750), read when a request is made and never logged. ``ca_file`` (PEM) is the trust
    anchor for HTTPS and DICOM TLS (PS3.15 B.1); ``client_cert_file``/``client_key_file`` a
    client certificate when the PACS asks for one. Their old names (secret_path, ca_bundle,
    client_cert, client_key) are still read, and ``bedside site check`` warns about them."""

    enabled: bool = Field(default=False, description="Send results to PACS and allow search")
    send: list[PacsObjectKind] = Field(
        default_factory=_default_pacs_send,
        description="Objects sent per reading: sr (TID 1500 report), sc (secondary capture), "
        "gsps (presentation state with the annotations)",
    )
    transport: Literal["dicomweb", "dimse", "both"] = Field(
        default="dicomweb", description="How objects are sent: STOW-RS, C-STORE or both"
    )
    query: Literal["dicomweb", "dimse"] = Field(
        default="dicomweb",
        description="How studies are searched and retrieved: QIDO/WADO-RS or C-FIND/C-GET",
    )
    dicomweb_url: str = Field(
        default="", max_length=2000, description="DICOMweb base URL, e.g. https://pacs/dicom-web"
    )
    auth: Literal["none", "basic", "bearer"] = Field(
        default="none", description="DICOMweb authentication"
    )
    username: str = Field(default="", max_length=200, description="User name for basic auth")
    password_file: str = Field(
        default="",
        description="File holding the basic-auth password or the bearer token (old name: "
        "secret_path)",
    )
    ca_file: str = Field(
        default="",
        description="PEM CA bundle for HTTPS and DICOM TLS; empty: the system's (old name: "
        "ca_bundle)",
    )
    client_cert_file: str = Field(
        default="", description="Client certificate (PEM), if required (old name: client_cert)"
    )
    client_key_file: str = Field(
        default="", description="Client certificate's private key (PEM) (old name: client_key)"
    )
    host: str = Field(
        default="", max_length=255, pattern=_HOST, description="DIMSE: the PACS host name"
    )
    port: Annotated[int, Field(ge=1, le=65535)] = Field(default=104, description="DIMSE port")
    called_aet: str = Field(default="", description="DIMSE: the PACS's AE title")
    calling_aet: str = Field(
        default="BEDSIDE", description="DIMSE: this workstation's AE title (known to the PACS)"
    )
    tls: bool = Field(default=False, description="DIMSE over TLS (PS3.15 B.1)")
    connect_timeout_s: Annotated[float, Field(gt=0, le=120)] = Field(
        default=5.0, description="Seconds to wait for a connection or association"
    )
    timeout_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=60.0, description="Seconds to wait for an answer once connected"
    )
    # what a PACS may send at most: bounds on a PACS that answers without end (memory, disk)
    max_results: Annotated[int, Field(ge=1, le=10_000)] = Field(
        default=500, description="Studies a search shows at most (the newest)"
    )
    max_search_answers: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        default=10_000,
        description="Answers a C-FIND may send before the search is stopped (narrower criteria)",
    )
    max_search_mb: Annotated[int, Field(ge=1, le=1024)] = Field(
        default=32, description="Size of a QIDO-RS search answer at most (MB)"
    )
    max_study_instances: Annotated[int, Field(ge=1, le=100_000)] = Field(
        default=2000, description="Instances one retrieved study may hold at most"
    )
    max_study_gb: Annotated[float, Field(gt=0, le=1024)] = Field(
        default=8.0, description="Size of one retrieved study at most (GB, over 0 and up to 1024)"
    )
    max_instance_mb: Annotated[int, Field(ge=1, le=65_536)] = Field(
        default=1024, description="Size of one instance retrieved over WADO-RS at most (MB)"
    )
    min_kb_per_timeout: Annotated[int, Field(ge=1, le=1_048_576)] = Field(
        default=64,
        description="A retrieval bringing less than this (KB) in each timeout_s is stopped as "
        "stalled",
    )

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: Any) -> Any:
        """A site file written for the old key names (:data:`PACS_RENAMED`) keeps its TLS files
        and credentials; both names at once with different values is refused, never guessed."""
        if not isinstance(data, dict) or not data.keys() & PACS_RENAMED.keys():
            return data
        out = dict(data)
        for old, new in PACS_RENAMED.items():
            if old not in out:
                continue
            value = out.pop(old)
            if not isinstance(value, str):  # else pydantic's message names the new key only
                raise ValueError(
                    f"pacs.{old} (the old name of pacs.{new}) must be a path in quotes, not "
                    f"{value!r:.40}"
                )
            if new in out and out[new] != value:
                raise ValueError(
                    f"pacs.{old} is the old name of pacs.{new} and both are set to different "
                    f"values: keep pacs.{new} only"
                )
            out[new] = value
        return out

    @field_validator("dicomweb_url")
    @classmethod
    def _no_secret_in_url(cls, value: str) -> str:
        """The address is printed in messages and recorded with every failed send in the audit
        log: a password in it (RFC 3986 3.2.1 userinfo) or a token in its query would be too.
        The value is not repeated in the message, since it holds the secret."""
        authority = value.partition("://")[2].split("/", 1)[0]
        if "@" in authority or "?" in value or "#" in value:
            raise ValueError(
                "the address must not hold a user name, password or token (user:password@, ?, "
                '#): set pacs.auth = "basic" or "bearer", pacs.username and the secret in the '
                "file named by pacs.password_file"
            )
        return value

    @field_validator("dicomweb_url")
    @classmethod
    def _usable_url(cls, value: str) -> str:
        """Read as RFC 3986 reads it (3.2.2 host, 3.2.3 port 0-65535; no space or control
        character) when the site file is: 'site check' said OK to an address every request then
        failed on, in urllib's words ("Invalid IPv6 URL")."""
        if not value:
            return value
        if any(ord(c) <= 0x20 or 0x7F <= ord(c) <= 0x9F for c in value):
            raise ValueError("the address holds a space or a control character")
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises on a port outside 0-65535 or not a number
        except ValueError:
            raise ValueError(
                "the address cannot be read: its host or port is malformed (a port is a number "
                "up to 65535, an IPv6 host is written in brackets [ ])"
            ) from None
        if parts.scheme in ("http", "https") and not parts.hostname:
            raise ValueError("the address names no host")
        return value

    @field_validator("called_aet", "calling_aet")
    @classmethod
    def _ae_title(cls, value: str) -> str:
        """PS3.5 6.2 AE: 16 characters at most, printable ASCII without a backslash, not blank."""
        if value == "":
            return value
        if (
            len(value) > 16
            or not value.strip()
            or any(c == "\\" or not " " <= c <= "~" for c in value)
        ):
            raise ValueError(
                f"{value!r} is not an AE title: 1 to 16 letters, digits, spaces or punctuation "
                "(no backslash)"
            )
        return value

    @model_validator(mode="after")
    def _complete(self) -> PacsSection:
        """An enabled PACS names everything its transports need; said in IT's words."""
        if not self.enabled:
            return self
        missing = []
        if self.transport in ("dicomweb", "both") or self.query == "dicomweb":
            if not self.dicomweb_url.startswith(("http://", "https://")):
                missing.append("pacs.dicomweb_url (an http:// or https:// address)")
            if self.auth == "basic" and not self.username:
                missing.append("pacs.username (auth is basic)")
            if self.auth != "none" and not self.password_file:
                missing.append(f"pacs.password_file (auth is {self.auth})")
        if self.transport in ("dimse", "both") or self.query == "dimse":
            if not self.host:
                missing.append("pacs.host")
            if not self.called_aet:
                missing.append("pacs.called_aet")
        if not self.calling_aet:
            missing.append("pacs.calling_aet")
        if bool(self.client_cert_file) != bool(self.client_key_file):
            missing.append("pacs.client_cert_file and pacs.client_key_file together")
        if missing:
            raise ValueError("enabled is true but these are not set: " + ", ".join(missing))
        return self


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
    change_control: ChangeControlSection = ChangeControlSection()
    pacs: PacsSection = PacsSection()
    audit_central: AuditCentralSection = AuditCentralSection()
    atna: AtnaSection = AtnaSection()


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
    # True only for the temporary data dir demo mode makes itself (no BEDSIDE_DATA_DIR): the one
    # place a demo-key bundle may be installed (issue 12 item 10). A data dir someone named is
    # real, even in demo mode: it may be a clinic's audit log and model store.
    throwaway: bool = False

    @property
    def paths(self) -> InstallationPaths:
        """The installation's files and folders (viewer.paths: the one derivation, which
        ``bedside dicom render`` also makes without these models)."""
        return InstallationPaths(
            data_dir=self.data_dir,
            site_dir=self.site_dir,
            site_file=self.site_file,
            user_file=self.user_file,
            db_path=self.values.audit.db_path,
            secret=self.values.audit.secret_path,
            store_dir=self.values.models.store_dir,
            site_keys=self.values.trust.site_keys_dir,
            allow_user_keys=self.values.trust.allow_user_keys,
        )

    @property
    def audit_db_path(self) -> Path:
        return self.paths.audit_db_path

    @property
    def secret_path(self) -> Path:
        return self.paths.secret_path

    @property
    def installation_key_path(self) -> Path:
        """Private key that signs audit checkpoints (PEM, mode 0600)."""
        return self.paths.installation_key_path

    @property
    def central_outbox_path(self) -> Path:
        """Audit rows waiting for the department store (``[audit_central]``)."""
        return self.paths.central_outbox_path

    @property
    def atna_outbox_path(self) -> Path:
        """Audit messages waiting for the ATNA repository (``[atna]``)."""
        return self.paths.atna_outbox_path

    @property
    def pacs_outbox_path(self) -> Path:
        """Results waiting for PACS (``[pacs]``, viewer.pacs.delivery)."""
        return self.paths.pacs_outbox_path

    @property
    def model_store_key_path(self) -> Path:
        """Private key that signs the model store's index (PEM, mode 0600; see bundle.store)."""
        return self.paths.model_store_key_path

    @property
    def model_store_dir(self) -> Path:
        return self.paths.model_store_dir

    @property
    def site_keys_dir(self) -> Path:
        return self.paths.site_keys_dir

    @property
    def user_keys_dir(self) -> Path | None:
        """The user's trusted-key folder, or None when the site does not allow one."""
        return self.paths.user_keys_dir

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
            throwaway=self.throwaway,
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
    """The site file's mistakes in its own keys: pydantic's union branch names ("threads.
    constrained-int"), its "Value error, " prefix and a NaN's "should be less than" stay out;
    the branches of one key are one "or"."""
    said: dict[str, list[str]] = {}
    for item in error.errors():
        if item["type"] == "extra_forbidden":  # every part is the file's own (ca-file: a typo)
            said.setdefault(f"unknown key '{'.'.join(str(x) for x in item['loc'])}'", [])
            continue
        # the schema's own keys are identifiers; pydantic's branch tags are not
        key = ".".join(str(x) for x in item["loc"] if isinstance(x, int) or str(x).isidentifier())
        value = item.get("input")
        if isinstance(value, float) and not math.isfinite(value):  # TOML nan, inf
            text = f"must be a finite number, not {value}"
        else:
            allowed = item.get("ctx", {}).get("expected")
            text = item["msg"].removeprefix("Value error, ")
            text += f" (allowed: {allowed})" if allowed else ""
        texts = said.setdefault(f"key '{key}'", [])
        if text not in texts:
            texts.append(text)
    parts = [f"{where}: {' or '.join(texts)}" if texts else where for where, texts in said.items()]
    return f"Settings file {path} is not valid: " + "; ".join(parts) + "."


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "..."


# The pseudonym secret is 32 random bytes; anything much larger is not one (and /dev/zero is
# endless). The bound is checked before a byte is read.
MAX_SECRET_BYTES = 4096


def no_passphrase() -> bytes:
    """The ``password`` for ``ssl.SSLContext.load_cert_chain``: none, so an encrypted private key
    fails to load at once. Without it OpenSSL asks for the passphrase on the terminal and waits
    (a script, a service or IT's shell hangs); the site's keys are unencrypted PEM files readable
    by the clinicians' accounts only."""
    return b""


def read_settings_file(path: Path) -> tuple[SettingsFile, dict[str, Any]]:
    """Parse and validate one TOML settings file; errors name the file and the key."""
    what = f"Settings file {path}"
    try:
        # refuses a folder, device, FIFO or socket by its kind, and reads no more than the bound
        text = read_bounded(path, "Settings file", MAX_SETTINGS_BYTES)
        raw = tomllib.loads(text)
    except OSError as exc:
        raise ConfigError(f"{what} cannot be read: {exc.strerror}.") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} is not UTF-8 text.") from exc
    except RecursionError as exc:  # Python's words: "maximum recursion depth exceeded"
        raise ConfigError(
            f"{what} is not valid TOML: its arrays or tables are nested too deeply."
        ) from exc
    except ValueError as exc:
        # TOMLDecodeError is a ValueError; 4300+ digit integers land here too.
        raise ConfigError(f"{what} is not valid TOML: {_short(exc)}.") from exc
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


def load_settings(*, demo: bool = False, env: dict[str, str] | None = None) -> Settings:
    """Merge defaults, the site file and the user file.

    In demo mode without ``BEDSIDE_DATA_DIR``, a throwaway data dir is used so a demo never writes
    into a real audit log or model store (``Settings.throwaway``; only there may the demo key's
    bundles be installed).
    """
    env = dict(os.environ) if env is None else env
    where = locate(env, demo=demo)
    site_file, site_dir, data_dir = where.site_file, where.site_dir, where.data_dir
    site_file_env, throwaway, user_file = where.site_named, where.throwaway, where.user_file

    merged: dict[str, Any] = {}
    locked: frozenset[str] = frozenset()
    site_used: Path | None = None
    data_stat = _stat(data_dir, "The data folder (BEDSIDE_DATA_DIR)")
    if data_stat is not None and not stat.S_ISDIR(data_stat.st_mode):
        raise ConfigError(
            f"The data folder {data_dir} is a file, not a folder (BEDSIDE_DATA_DIR?)."
        )
    if _stat(site_file, f"The site file {site_file}") is not None:
        site, raw_site = read_settings_file(site_file)
        merged = raw_site
        locked = frozenset(site.locked)
        site_used = site_file
    elif site_file_env:
        raise ConfigError(f"BEDSIDE_SITE_CONFIG names {site_file}, which does not exist.")
    if _stat(user_file, f"The user settings file {user_file}") is not None:
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
    _check_paths(values, site_used)
    return Settings(
        values=values,
        data_dir=data_dir,
        site_file=site_used,
        user_file=user_file,
        site_dir=site_dir,
        demo=demo,
        locked=locked,
        throwaway=throwaway,
    )


# Every path-valued key (all site-only): (dotted key, a folder?, size bound of a file).
PATH_KEYS: tuple[tuple[str, bool, int | None], ...] = (
    ("trust.site_keys_dir", True, None),
    ("audit.db_path", False, None),
    ("audit.secret_path", False, MAX_SECRET_BYTES),
    ("models.store_dir", True, None),
    ("audit_central.password_file", False, MAX_SECRET_BYTES),
    ("audit_central.ca_file", False, MAX_SETTINGS_BYTES),
    ("atna.ca_file", False, MAX_SETTINGS_BYTES),
    ("atna.client_cert_file", False, MAX_SETTINGS_BYTES),
    ("atna.client_key_file", False, MAX_SECRET_BYTES),
    ("pacs.password_file", False, MAX_SECRET_BYTES),
    ("pacs.ca_file", False, 10_000_000),
    ("pacs.client_cert_file", False, MAX_SETTINGS_BYTES),
    ("pacs.client_key_file", False, MAX_SECRET_BYTES),
)


def _check_paths(values: SettingsFile, site_file: Path | None) -> None:
    """Each path a settings file names is checked when the settings are loaded (issue 12 item
    16: a secret at /dev/zero was read whole, a FIFO hung, a NUL byte gave a traceback)."""
    flat = _flatten(values.model_dump())
    for key, folder, max_bytes in PATH_KEYS:
        value = flat[key]
        if value:
            what = f"Settings file {site_file}: key '{key}'"
            check_setting_path(Path(value), what, folder=folder, max_bytes=max_bytes)


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
    if _stat(settings.user_file, f"The user settings file {settings.user_file}") is not None:
        current = _flatten(read_settings_file(settings.user_file)[1])
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
    reloaded = load_settings(
        demo=settings.demo,
        env={
            "BEDSIDE_DATA_DIR": str(settings.data_dir),
            "BEDSIDE_SITE_CONFIG": str(settings.site_file) if settings.site_file else "",
        },
    )
    return dataclasses.replace(reloaded, throwaway=settings.throwaway)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
