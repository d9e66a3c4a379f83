"""The .bundle archive: deterministic output and reading limits."""

from __future__ import annotations

import contextlib
import zipfile
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
