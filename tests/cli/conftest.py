"""Fixtures for the command tests: the layers' own bundle and key fixtures, shared here because
the commands sit on top of every layer (tests mirror ``viewer/cli``)."""

from tests.bundle.conftest import build_bundle, key, make_key, trust
from tests.inference.conftest import make_bundle, resign, site_key

__all__ = ["build_bundle", "key", "make_bundle", "make_key", "resign", "site_key", "trust"]
