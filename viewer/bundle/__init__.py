"""Trusted model bundles: manifest, signed archive, trust store, model store, architectures.

The face the session, the CLI and the UI import: :class:`ModelStore` (installed versions, one
active per model id, every change audited), :class:`TrustStore` (the keys a site trusts),
:func:`verify_bundle` (signature + manifest, no torch) and :func:`load_bundle` (then weights and
self-test, returning a :class:`LoadedBundle`), the :class:`Manifest` schema, the model card and
the one version parser. Importing this package does not import torch (loading a bundle does).
"""

from viewer.bundle.loader import LoadedBundle, VerifiedBundle, load_bundle, verify_bundle
from viewer.bundle.manifest import Manifest, parse_manifest
from viewer.bundle.model_card import ModelCard, build_card, render_html, render_markdown
from viewer.bundle.store import ModelStore, StoreEntry
from viewer.bundle.trust import TrustStore
from viewer.bundle.version import Version, parse_version, version_key

__all__ = [
    "LoadedBundle",
    "Manifest",
    "ModelCard",
    "ModelStore",
    "StoreEntry",
    "TrustStore",
    "VerifiedBundle",
    "Version",
    "build_card",
    "load_bundle",
    "parse_manifest",
    "parse_version",
    "render_html",
    "render_markdown",
    "verify_bundle",
    "version_key",
]
