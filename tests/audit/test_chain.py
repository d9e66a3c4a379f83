"""The canonical encoding: fast and reference paths agree, and every value type is unambiguous."""

from __future__ import annotations

import pytest

from viewer.audit.chain import canonical_bytes, make_hasher, row_hash

SAMPLES = [
    (1, "2026-01-01T00:00:00.000000Z", None, 0.1 + 0.2, 5e-324, 1e300, -0.0, 3),
    ("佐藤 花子", 'quote " and \\ backslash', "line\nbreak\ttab\x00nul", "😀 emoji", ""),
    (None, None, None),
    ("1", 1, 1.0, None, "null"),
]


@pytest.mark.parametrize("values", SAMPLES, ids=["numbers", "text", "nulls", "lookalikes"])
def test_fast_hasher_matches_reference(values: tuple[object, ...]) -> None:
    assert make_hasher()(values) == row_hash(values) == row_hash(list(values))


def test_lookalike_values_encode_differently() -> None:
    encodings = {canonical_bytes([v]) for v in ("1", 1, 1.0, None, "null", "")}
    assert len(encodings) == 6


def test_non_finite_numbers_are_refused() -> None:
    with pytest.raises(ValueError):
        row_hash([float("nan")])
    with pytest.raises(ValueError):
        make_hasher()([float("inf")])
