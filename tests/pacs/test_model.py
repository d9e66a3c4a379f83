"""The report model's deterministic UIDs (a resend never makes a second object)."""

from __future__ import annotations

import re

from viewer.pacs.model import Algorithm, derive_uid

_UID = re.compile(r"^2\.25\.(0|[1-9][0-9]*)$")


def test_derived_uid_is_stable_valid_and_distinct() -> None:
    uid = derive_uid("reading-1", "sr")
    assert uid == derive_uid("reading-1", "sr")
    assert uid != derive_uid("reading-1", "sc")
    assert uid != derive_uid("reading-2", "sr")
    # parts are separated: ("ab", "c") is not ("a", "bc")
    assert derive_uid("ab", "c") != derive_uid("a", "bc")
    assert _UID.match(uid) and len(uid) <= 64
    value = int(uid.split(".")[2])
    assert value < 2**128
    assert (value >> 76) & 0xF == 8  # UUID version 8
    assert (value >> 62) & 0x3 == 0b10  # RFC 9562 variant


def test_device_uid_follows_the_bundle_digest() -> None:
    a = Algorithm("demo", "Demo", "1.0.0", "ab" * 32)
    assert a.device_uid == Algorithm("other", "Other", "2.0", "AB" * 32).device_uid
    assert a.device_uid != Algorithm("demo", "Demo", "1.0.0", "cd" * 32).device_uid
    assert _UID.match(a.device_uid)
