"""The hash chain: each row's hash covers its canonical content, which includes the previous hash.

Canonical form: the row's fields in the fixed column order below as a compact JSON array
(UTF-8, no NaN, floats as Python's shortest round-trip repr, which SQLite REAL preserves
exactly), prefixed by a version tag. A fixed-order array instead of RFC 8785 sorted keys keeps
verification fast (about 7 us a row) and is just as unambiguous.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from viewer.audit.events import RECORD_FIELDS

CHAIN_VERSION = b"bedside-audit-chain-v1\n"
GENESIS_HASH = "0" * 64

# Every stored column except ``hash``, in the order they are hashed (and stored).
HASHED_COLUMNS: tuple[str, ...] = tuple(c for c in RECORD_FIELDS if c != "hash")
ALL_COLUMNS: tuple[str, ...] = (*HASHED_COLUMNS, "hash")

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def canonical_bytes(values: Sequence[Any]) -> bytes:
    """The bytes that are hashed for one row (``values`` in :data:`HASHED_COLUMNS` order)."""
    return CHAIN_VERSION + _ENCODER.encode(values).encode("utf-8")


def row_hash(values: Sequence[Any]) -> str:
    """SHA-256 (hex) of a row's canonical bytes (a list or tuple encodes the same)."""
    return hashlib.sha256(canonical_bytes(values)).hexdigest()


def make_hasher() -> Callable[[Sequence[Any]], str]:
    """A local-variable-bound :func:`row_hash` for tight loops (verification of 100,000 rows)."""
    encode: Callable[[Sequence[Any]], str] = _ENCODER.encode
    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if c_make_encoder is not None:  # CPython's C encoder, called directly: ~25 % faster
        c_encode = c_make_encoder(
            None,
            _ENCODER.default,
            json.encoder.encode_basestring,
            None,
            ":",
            ",",
            False,
            False,
            False,
        )

        def encode(values: Sequence[Any]) -> str:
            return "".join(c_encode(values, 0))

    sha256 = hashlib.sha256
    prefix = CHAIN_VERSION

    def fast(values: Sequence[Any]) -> str:
        return sha256(prefix + encode(values).encode("utf-8")).hexdigest()

    return fast


def canonical_json(value: Any) -> str:
    """Sorted-key compact JSON (RFC 8785-style) for the detail field and signed payloads."""
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )


def canonical_sha256(value: Any) -> str:
    """SHA-256 of the canonical JSON: how a report, a site amendment or a change record is cited."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()
