"""The .bundle archive: deterministic output and reading limits."""

from __future__ import annotations

import contextlib
import io
import os
import re
import struct
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.bundle.conftest import write_raw_zip
from viewer.bundle.archive import (
    Limits,
    archive_bytes,
    read_archive,
    read_archive_bytes,
    read_directory,
    sniff_code,
)
from viewer.errors import BundleError


def test_archive_bytes_deterministic_and_sorted() -> None:
    a = archive_bytes({"b.txt": b"2", "a.txt": b"1"})
    b = archive_bytes({"a.txt": b"1", "b.txt": b"2"})
    assert a == b
    with zipfile.ZipFile(__import__("io").BytesIO(a)) as zf:
        assert zf.namelist() == ["a.txt", "b.txt"]
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in zf.infolist())


def test_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "x.bundle"
    path.write_bytes(archive_bytes({"a.txt": b"hello", "d/b.txt": b"x"}))
    arch = read_archive(path)
    assert arch.members == {"a.txt": b"hello", "d/b.txt": b"x"}


def test_not_a_zip() -> None:
    with pytest.raises(BundleError, match="not a model bundle") as info:
        read_archive_bytes(b"hello")
    assert info.value.code == "archive"


def test_too_many_members() -> None:
    data = archive_bytes({f"f{i}.txt": b"x" for i in range(40)})
    with pytest.raises(BundleError, match="over the limit"):
        read_archive_bytes(data)


def test_member_size_limit() -> None:
    data = archive_bytes({"a.txt": b"x" * 5000})
    with pytest.raises(BundleError, match="byte limit"):
        read_archive_bytes(data, limits=Limits(max_member_bytes=1000))


def test_archive_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "x.bundle"
    path.write_bytes(archive_bytes({"a.txt": b"x" * 5000}))
    with pytest.raises(BundleError, match="byte limit"):
        read_archive(path, limits=Limits(max_archive_bytes=100))


def test_folder_entry_refused(tmp_path: Path) -> None:
    bad = write_raw_zip(tmp_path / "x.zip", [("dir/", b""), ("a.txt", b"x")])
    with pytest.raises(BundleError, match="folder entry"):
        read_archive(bad)


def test_encrypted_flag_refused(tmp_path: Path) -> None:
    data = bytearray(archive_bytes({"a.txt": b"x"}))
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    data[local + 6] |= 0x1  # general purpose bit 0: encrypted (APPNOTE 4.4.4)
    data[central + 8] |= 0x1
    with pytest.raises(BundleError, match="encrypted"):
        read_archive_bytes(bytes(data))


@pytest.mark.parametrize(
    ("name", "data", "refused"),
    [
        ("weights.safetensors", (896).to_bytes(8, "little") + b"{" + b" " * 895, False),
        ("weights.safetensors", b"\x80\x04\x95" + b"." * 20, True),
        ("weights.safetensors", b"not safetensors at all", True),
        ("manifest.json", b"PK\x03\x04rest", True),
        ("LICENSE.txt", b"\x80\x02}q\x00.", True),
        ("model.pkl", b"anything", True),
        ("MODEL_CARD.md", b"# card", False),
    ],
    ids=[
        "safetensors-0x80-header",
        "pickle-as-weights",
        "garbage-weights",
        "zip",
        "pickle",
        "pkl",
        "text",
    ],
)
def test_sniff(name: str, data: bytes, refused: bool) -> None:
    assert (sniff_code(name, data) is not None) == refused


def test_read_directory_refuses_links(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_text("x")
    (tmp_path / "d" / "link.txt").symlink_to(tmp_path / "d" / "a.txt")
    with pytest.raises(BundleError, match="symbolic link"):
        read_directory(tmp_path / "d")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_archives_fail_cleanly(data: st.DataObject) -> None:
    """Any byte damage to a bundle gives a BundleError (or a still-valid archive), nothing else."""
    base = bytearray(_SMALL)
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(base) - 1))
        base[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(base)))
    with contextlib.suppress(BundleError):
        read_archive_bytes(bytes(base[:cut]) if data.draw(st.booleans()) else bytes(base))


_SMALL = archive_bytes(
    {"manifest.json": b'{"a": 1}' * 20, "LICENSE.txt": b"licence " * 50, "x.bin": bytes(range(256))}
)


# ------------------------------------------- the end record is checked first (#12.7), crafted zips


def _local(name: bytes, method: int, crc: int, csize: int, usize: int, extra: bytes = b"") -> bytes:
    head = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, csize, usize,
                       len(name), len(extra))  # fmt: skip
    return head + name + extra


def _central(name: bytes, method: int, crc: int, csize: int, usize: int, offset: int) -> bytes:
    head = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 0x0314, 20, 0, method, 0, 0x21, crc,
                       csize, usize, len(name), 0, 0, 0, 0, 0o100644 << 16, offset)  # fmt: skip
    return head + name


def _eocd(count: int, cd_size: int, cd_offset: int, comment: bytes = b"") -> bytes:
    return (
        struct.pack(
            "<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, cd_size, cd_offset, len(comment)
        )
        + comment
    )


def _zip(members: list[tuple[str, int, bytes, int, int]]) -> bytes:
    """A zip in the canonical layout from (name, method, stored bytes, crc, declared size)."""
    body, cd = b"", b""
    for name, method, raw, crc, usize in members:
        cd += _central(name.encode(), method, crc, len(raw), usize, len(body))
        body += _local(name.encode(), method, crc, len(raw), usize) + raw
    return body + cd + _eocd(len(members), len(cd), len(body))


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def _bounded(fn: Callable[[], object]) -> tuple[BundleError, int, float]:
    """Run ``fn`` expecting a BundleError; the Python memory peak and the seconds it took."""
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(BundleError) as info:
            fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return info.value, peak, time.perf_counter() - t0


def test_directory_of_many_entries_is_refused_from_the_end_record(tmp_path: Path) -> None:
    """60 000 directory records (3 MB on disk; millions in the issue): refused by the count in the
    end record, before one record is parsed, in bounded memory (zipfile built them all first)."""
    cd = b"".join(_central(f"f{i:05d}".encode(), 0, 0, 0, 0, 0) for i in range(60_000))
    path = tmp_path / "many.bundle"
    path.write_bytes(cd + _eocd(60_000, len(cd), 0))
    exc, peak, seconds = _bounded(lambda: read_archive(path))
    assert exc.code == "archive"
    assert "lists 60000 members, over the limit of 32" in exc.message
    assert peak < 1024 * 1024, f"{peak} bytes traced"
    assert seconds < 1.0


def _zip64_tail(count: int, cd_size: int, cd_offset: int, at: int) -> bytes:
    record = struct.pack(
        "<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, cd_size, cd_offset
    )
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, at, 1)
    return record + locator


_GOOD = _zip([("a.txt", 8, _deflate(b"hello"), zlib.crc32(b"hello"), 5)])
_GOOD_CD = struct.unpack("<II", _GOOD[-10:-2])  # (size, offset)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (_eocd(65_000, 0, 0), "lists 65000 members, over the limit"),
        (_eocd(3, 0x7FFF0000, 0), "claims 2147418112 bytes, more than 3 members can need"),
        (_GOOD[:-22] + _eocd(1, 51, 10**9), "points outside the file"),
        (_GOOD[:-22] + _eocd(1, 200, 0), "points outside the file"),
        (_eocd(0xFFFF, 0, 0), "ZIP64"),
        (_eocd(1, 0xFFFFFFFF, 0xFFFFFFFF), "ZIP64"),
        (_zip64_tail(2**62, 2**63, 2**63, 0) + _eocd(0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF),
         r"ZIP64 records \(claiming 4611686018427387904 members"),
        (_GOOD[:-22] + _zip64_tail(2**40, 10, 0, len(_GOOD) - 22) + _GOOD[-22:],
         "ZIP64 records"),
        (_zip64_tail(1, 1, 1, 2**60) + _eocd(1, 0, 0), "ZIP64 end record lies outside the file"),
        (_GOOD[:-2] + struct.pack("<H", 22) + _eocd(1, *_GOOD_CD),
         "between its directory and its end record"),
        (_GOOD[:-2] + struct.pack("<H", 40), "comment past the end of the file"),
        (_GOOD[:-5], "end record is cut short"),
        (_GOOD[:-22] + _eocd(2, _GOOD_CD[0], _GOOD_CD[1]), "fewer member records"),
        (_GOOD[:-22] + _eocd(0, 0, len(_GOOD) - 22), "holds no members"),
        (_GOOD[:8], "not a model bundle"),
        (b"\0" * 100_000, "not a model bundle"),
    ],
    ids=[
        "huge-count", "huge-directory", "directory-beyond-eof", "directory-past-end-record",
        "zip64-count-marker", "zip64-size-marker", "zip64-absurd-record", "zip64-locator-only",
        "zip64-record-outside", "comment-hides-second-end-record", "comment-past-eof",
        "truncated-end-record", "count-exceeds-records", "empty", "too-short", "no-end-record",
    ],
)  # fmt: skip
def test_end_record_class(tmp_path: Path, data: bytes, match: str) -> None:
    path = tmp_path / "crafted.bundle"
    path.write_bytes(data)
    exc, peak, seconds = _bounded(lambda: read_archive(path))
    assert exc.code == "archive"
    assert re.search(match, exc.message), exc.message
    assert peak < 1024 * 1024 and seconds < 1.0


def test_crafted_good_zip_reads() -> None:
    """The crafting helpers write the canonical form (so the refusals above are about one field)."""
    assert read_archive_bytes(_GOOD).members == {"a.txt": b"hello"}


# ------------------------------------------------------- inflating stops at the limits (#12.8)


def test_member_inflating_beyond_its_declared_size_stops_there() -> None:
    """Declared 1000 bytes, inflates to 64 MB: refused at byte 1001, never held whole."""
    payload = b"\0" * (64 * 1024 * 1024)
    data = _zip([("a.txt", 8, _deflate(payload), zlib.crc32(payload[:1000]), 1000)])
    assert len(data) < 100_000
    exc, peak, _ = _bounded(lambda: read_archive_bytes(data))
    assert "larger than it declares" in exc.message
    assert peak < 4 * 1024 * 1024, f"{peak} bytes traced"


def test_members_under_the_ratio_but_over_the_total_are_refused_before_inflating() -> None:
    """Each member just under the ratio limit, together over the total cap: refused from the
    directory, before any is inflated."""
    part = os.urandom(440 * 1024) + b"\0" * (19 * 1024 * 1024)
    comp = _deflate(part)
    assert 40 < len(part) / len(comp) < 50
    data = _zip([(f"m{i}.txt", 8, comp, zlib.crc32(part), len(part)) for i in range(3)])
    limits = Limits(max_total_bytes=50 * 1024 * 1024, max_deflated_member_bytes=64 * 1024 * 1024)
    exc, peak, _ = _bounded(lambda: read_archive_bytes(data, limits=limits))
    assert "add up to over" in exc.message
    assert peak < 4 * 1024 * 1024


def test_large_compressed_member_refused() -> None:
    """Only text is deflated (tensors are stored): a compressed member has a small cap."""
    part = os.urandom(1024 * 1024) + b"\0" * (20 * 1024 * 1024)
    data = _zip([("a.txt", 8, _deflate(part), zlib.crc32(part), len(part))])
    with pytest.raises(BundleError, match="limit for compressed members"):
        read_archive_bytes(data)


def test_declared_sizes_and_crc_are_checked() -> None:
    text = b"hello world" * 10
    short = _zip([("a.txt", 8, _deflate(text), zlib.crc32(text), len(text) + 5)])
    with pytest.raises(BundleError, match="smaller than it declares"):
        read_archive_bytes(short)
    bad_crc = _zip([("a.txt", 8, _deflate(text), zlib.crc32(text) ^ 1, len(text))])
    with pytest.raises(BundleError, match="CRC"):
        read_archive_bytes(bad_crc)
    cut = _zip([("a.txt", 8, _deflate(text)[:-3], zlib.crc32(text), len(text))])
    with pytest.raises(BundleError, match=r"ends early|damaged"):
        read_archive_bytes(cut)


def test_digest_of_the_file_and_of_each_member(tmp_path: Path) -> None:
    import hashlib

    data = archive_bytes({"a.txt": b"hello", "w.safetensors": (2).to_bytes(8, "little") + b"{}"})
    arch = read_archive_bytes(data)
    assert arch.digest == hashlib.sha256(data).hexdigest()
    assert arch.digests == {n: hashlib.sha256(v).hexdigest() for n, v in arch.members.items()}


# --------------------------------------------- one zip form per content (#12.11), see test_attacks


def test_archive_bytes_is_the_canonical_form() -> None:
    """What archive_bytes (bundle create / sign) writes is exactly what the helpers above craft."""
    w = (2).to_bytes(8, "little") + b"{}"
    assert archive_bytes({"a.txt": b"hello", "w.safetensors": w}) == _zip(
        [
            ("a.txt", 8, _deflate(b"hello"), zlib.crc32(b"hello"), 5),
            ("w.safetensors", 0, w, zlib.crc32(w), len(w)),
        ]
    )


def test_trailing_bytes_after_a_deflate_stream_refused() -> None:
    raw = _deflate(b"hello") + b"JUNK"
    data = _zip([("a.txt", 8, raw, zlib.crc32(b"hello"), 5)])
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.read("a.txt") == b"hello"  # zipfile ignores them
    with pytest.raises(BundleError, match="4 bytes after the end of its compressed data"):
        read_archive_bytes(data)
