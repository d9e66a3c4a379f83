"""Version numbers: Semantic Versioning 2.0.0 for bundles, release numbers for the runtime.

One parser for the whole app (the store, the loader's compatibility check, the manifest schema
and the model manager's table all rank versions here). Bundle versions follow SemVer 2.0.0
(https://semver.org, section 11): a pre-release ranks below its release (1.0.0-rc.1 < 1.0.0),
dot-separated pre-release identifiers compare numerically when numeric and in ASCII order
otherwise, a numeric identifier ranks below an alphanumeric one, a longer run of equal identifiers
ranks higher, and build metadata (``+...``) is ignored. Runtime versions (this app, torch) are
compared by their release numbers only (``2.13.0+cpu`` is 2.13.0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from viewer.errors import BundleError

# [0-9], not \d: the pattern also runs in pydantic-core, where \d matches any Unicode digit.
_NUMBER = r"0|[1-9][0-9]*"
_PRE_ID = r"0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*"
# What a bundle manifest may carry: SemVer without build metadata (two bundles that differ only
# in build metadata would rank equal in the store). The JSON Schema exports this pattern.
SEMVER_PATTERN = rf"^({_NUMBER})\.({_NUMBER})\.({_NUMBER})(-({_PRE_ID})(\.({_PRE_ID}))*)?$"
_SEMVER = re.compile(
    rf"^(?P<major>{_NUMBER})\.(?P<minor>{_NUMBER})\.(?P<patch>{_NUMBER})"
    rf"(?:-(?P<pre>(?:{_PRE_ID})(?:\.(?:{_PRE_ID}))*))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$",
    re.ASCII,
)
_RELEASE = re.compile(r"^v?(\d{1,9})(?:\.(\d{1,9}))?(?:\.(\d{1,9}))?", re.ASCII)
MAX_VERSION_LENGTH = 128  # also keeps int() far from Python's digit limit

# (0, number) for a numeric identifier, (1, text) for an alphanumeric one: numeric ranks lower.
Identifier = tuple[int, int] | tuple[int, str]
Precedence = tuple[int, int, int, int, tuple[Identifier, ...]]


@dataclass(frozen=True)
class Version:
    """A parsed semantic version; compare with :attr:`precedence`, not with ``==``."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: tuple[str, ...] = ()

    @property
    def precedence(self) -> Precedence:
        """Sort key with SemVer 2.0.0 precedence (build metadata ignored)."""
        ids: tuple[Identifier, ...] = tuple(
            (0, int(p)) if p.isdigit() else (1, p) for p in self.prerelease
        )
        # A release (no pre-release) ranks above every pre-release of the same numbers.
        return (self.major, self.minor, self.patch, 0 if ids else 1, ids)

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        if self.build:
            text += "+" + ".".join(self.build)
        return text


def parse_version(text: str) -> Version:
    """A SemVer 2.0.0 string -> Version; anything else -> BundleError(code="schema")."""
    ok = isinstance(text, str) and len(text) <= MAX_VERSION_LENGTH
    m = _SEMVER.match(text) if ok else None
    if m is None:
        shown = text if ok else f"{str(text)[:40]}…"
        raise BundleError(
            f"'{shown}' is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.2.0 or 1.2.0-rc.1).",
            code="schema",
        )
    pre, build = m.group("pre"), m.group("build")
    return Version(
        major=int(m.group("major")),
        minor=int(m.group("minor")),
        patch=int(m.group("patch")),
        prerelease=tuple(pre.split(".")) if pre else (),
        build=tuple(build.split(".")) if build else (),
    )


def version_key(text: str) -> Precedence:
    """Sort key of a version string: ``sorted(versions, key=version_key)``; raises like parse."""
    return parse_version(text).precedence


def release_tuple(text: str) -> tuple[int, int, int]:
    """The release numbers of a runtime version, missing parts 0: '2.13.0+cpu' -> (2, 13, 0),
    '2.4' -> (2, 4, 0), '2.14.0a0' -> (2, 14, 0). Not a version -> BundleError(code="version")."""
    m = _RELEASE.match(text.strip()) if isinstance(text, str) else None
    if m is None:
        raise BundleError(f"'{text}' is not a version number.", code="version")
    major, minor, patch = (int(g) if g else 0 for g in m.groups())
    return major, minor, patch


__all__ = [
    "SEMVER_PATTERN",
    "Version",
    "parse_version",
    "release_tuple",
    "version_key",
]
