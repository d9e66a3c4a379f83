"""The attack suite (issue 4 acceptance): every hostile bundle is refused with its own reason, and
no payload runs (a marker file that the payload would create stays absent)."""

from __future__ import annotations

import io
import json
import pickle
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.bundle.conftest import KeyPair, read_members, write_members, write_raw_zip
from viewer.bundle.loader import load_bundle
from viewer.bundle.store import ModelStore
from viewer.errors import BundleError

MEMBERS = (
    "manifest.json",
    "weights.safetensors",
    "selftest.safetensors",
    "MODEL_CARD.md",
    "LICENSE.txt",
)


class _Payload:
    """Unpickling this creates the marker file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "PAYLOAD-RAN"


def payload_pickle(marker: Path) -> bytes:
    return pickle.dumps(_Payload(marker), protocol=4)


def payload_torch_zip(marker: Path, kind: str) -> bytes:
    """A zip laid out like a torch.save / TorchScript / torch.export archive, with a payload."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", payload_pickle(marker))
        if kind == "torchscript":
            zf.writestr("archive/code/__torch__.py", "def forward(self, x):\n    return x\n")
        elif kind == "pt2":
            zf.writestr("archive/serialized_exported_program.json", "{}")
        zf.writestr("archive/version", "3\n")
    return buf.getvalue()


@pytest.fixture
def good(build_bundle: Callable[..., Path]) -> Path:
    return build_bundle()


def refused(path: Path, trust: Any, marker: Path, code: str, match: str) -> BundleError:
    with pytest.raises(BundleError, match=match) as info:
        load_bundle(path, trust)
    assert info.value.code == code, str(info.value)
    assert not marker.exists(), "a payload ran"
    return info.value


def test_good_bundle_loads(good: Path, trust: Any, marker: Path) -> None:
    loaded = load_bundle(good, trust)
    assert loaded.selftest.passed
    assert not marker.exists()


def test_payload_pickle_really_runs_when_unpickled(marker: Path) -> None:
    """The marker check is meaningful: this payload does create the file when unpickled."""
    pickle.loads(payload_pickle(marker))  # noqa: S301 - proving the test payload is live
    assert marker.exists()


@pytest.mark.parametrize("member", MEMBERS)
@pytest.mark.parametrize("resign", [False, True], ids=["tampered", "insider-signed"])
def test_pickle_payload_in_any_member(
    good: Path, trust: Any, marker: Path, key: KeyPair, tmp_path: Path, member: str, resign: bool
) -> None:
    members = read_members(good)
    members[member] = payload_pickle(marker)
    bad = write_members(tmp_path / "bad.bundle", members, sign_with=key if resign else None)
    refused(bad, trust, marker, "archive", "holds a Python pickle")


@pytest.mark.parametrize(
    ("name", "kind", "match"),
    [
        ("exported.pt2", "pt2", "TorchScript or torch.export program"),
        ("model.torchscript", "torchscript", "TorchScript or torch.export program"),
        ("weights.pt", "torch.save", "file type bundles may not hold"),
    ],
)
def test_torch_program_member(
    good: Path,
    trust: Any,
    marker: Path,
    key: KeyPair,
    tmp_path: Path,
    name: str,
    kind: str,
    match: str,
) -> None:
    members = read_members(good)
    members[name] = payload_torch_zip(marker, kind)
    bad = write_members(tmp_path / "bad.bundle", members, sign_with=key)
    refused(bad, trust, marker, "archive", match)


def test_torchscript_disguised_as_weights(
    good: Path, trust: Any, marker: Path, key: KeyPair, tmp_path: Path
) -> None:
    members = read_members(good)
    members["weights.safetensors"] = payload_torch_zip(marker, "torchscript")
    bad = write_members(tmp_path / "bad.bundle", members, sign_with=key)
    refused(bad, trust, marker, "archive", "is itself a zip archive")


@pytest.mark.parametrize("member", [*MEMBERS, "model.sig"])
def test_one_flipped_byte_in_each_member(
    good: Path, trust: Any, marker: Path, tmp_path: Path, member: str
) -> None:
    members = read_members(good)
    data = bytearray(members[member])
    pos = len(data) // 2
    data[pos] ^= 0x01
    members[member] = bytes(data)
    bad = write_members(tmp_path / "bad.bundle", members)
    if member == "model.sig":
        refused(bad, trust, marker, "signature", "signature")
    else:
        refused(bad, trust, marker, "signature", f"'{member}' does not match its signature")


def test_flipped_byte_in_the_file_itself(
    good: Path, trust: Any, marker: Path, tmp_path: Path
) -> None:
    data = bytearray(good.read_bytes())
    data[len(data) // 3] ^= 0xFF
    bad = tmp_path / "bad.bundle"
    bad.write_bytes(bytes(data))
    refused(bad, trust, marker, "archive", "damaged|not a model bundle|not a readable zip")


def test_added_member(good: Path, trust: Any, marker: Path, tmp_path: Path) -> None:
    members = read_members(good)
    members["notes.txt"] = b"harmless looking"
    bad = write_members(tmp_path / "bad.bundle", members)
    refused(bad, trust, marker, "signature", "does not cover: a file was added")


def test_removed_member(good: Path, trust: Any, marker: Path, tmp_path: Path) -> None:
    members = read_members(good)
    del members["LICENSE.txt"]
    bad = write_members(tmp_path / "bad.bundle", members)
    refused(bad, trust, marker, "signature", "which the bundle lacks: a file was removed")


def test_signature_removed(good: Path, trust: Any, marker: Path, tmp_path: Path) -> None:
    members = read_members(good)
    del members["model.sig"]
    bad = write_members(tmp_path / "bad.bundle", members)
    refused(bad, trust, marker, "signature", "not signed")


def test_valid_signature_by_untrusted_key(
    build_bundle: Callable[..., Path], make_key: Callable[[str], KeyPair], trust: Any, marker: Path
) -> None:
    stranger = make_key("stranger")
    bad = build_bundle(signer=stranger)
    refused(bad, trust, marker, "untrusted", "does not trust")


def test_manifest_swapped_from_another_bundle(
    build_bundle: Callable[..., Path], good: Path, trust: Any, marker: Path, tmp_path: Path
) -> None:
    other = build_bundle(version="1.1.0", seed=1)
    members = read_members(good)
    members["manifest.json"] = read_members(other)["manifest.json"]
    bad = write_members(tmp_path / "bad.bundle", members)
    refused(bad, trust, marker, "signature", "'manifest.json' does not match its signature")


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("../../evil.txt", "climbs out"),
        ("sub/../../evil.txt", "climbs out"),
        ("/etc/evil.txt", "absolute name"),
        ("C:/evil.txt", "absolute name"),
        ("..\\evil.txt", "backslash"),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "drive", "backslash"],
)
def test_zip_slip_and_absolute_names(
    good: Path, trust: Any, marker: Path, tmp_path: Path, name: str, match: str
) -> None:
    entries: list[tuple[Any, bytes]] = list(read_members(good).items())
    entries.append((zipfile.ZipInfo(name), b"x"))
    bad = write_raw_zip(tmp_path / "bad.bundle", entries)
    refused(bad, trust, marker, "archive", match)
    assert not (tmp_path / "evil.txt").exists()


def test_symlink_member(good: Path, trust: Any, marker: Path, tmp_path: Path) -> None:
    link = zipfile.ZipInfo("LICENSE2.txt")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    entries: list[tuple[Any, bytes]] = [*read_members(good).items(), (link, b"/etc/passwd")]
    bad = write_raw_zip(tmp_path / "bad.bundle", entries)
    refused(bad, trust, marker, "archive", "symbolic link")


@pytest.mark.parametrize("second", ["LICENSE.txt", "license.TXT"], ids=["exact", "case-folded"])
def test_duplicate_names(good: Path, trust: Any, marker: Path, tmp_path: Path, second: str) -> None:
    entries: list[tuple[Any, bytes]] = [*read_members(good).items(), (second, b"other licence")]
    bad = write_raw_zip(tmp_path / "bad.bundle", entries)
    refused(bad, trust, marker, "archive", "twice")


def test_zip_bomb(good: Path, trust: Any, marker: Path, tmp_path: Path) -> None:
    entries: list[tuple[Any, bytes]] = [
        *read_members(good).items(),
        ("padding.bin", b"\0" * (16 * 1024 * 1024)),
    ]
    bad = write_raw_zip(tmp_path / "bad.bundle", entries)
    assert bad.stat().st_size < 1024 * 1024
    refused(bad, trust, marker, "archive", "zip bomb")


def test_too_many_bytes_in_total(good: Path, trust: Any, marker: Path, tmp_path: Path) -> None:
    from viewer.bundle.archive import Limits

    with pytest.raises(BundleError, match="add up to over") as info:
        load_bundle(good, trust, limits=Limits(max_total_bytes=10_000))
    assert info.value.code == "archive"
    assert not marker.exists()


def test_oversized_manifest(
    good: Path, trust: Any, marker: Path, key: KeyPair, tmp_path: Path
) -> None:
    members = read_members(good)
    manifest = json.loads(members["manifest.json"])
    manifest["padding"] = np.random.default_rng(0).bytes(600_000).hex()  # incompressible
    members["manifest.json"] = json.dumps(manifest).encode()
    bad = write_members(tmp_path / "bad.bundle", members, sign_with=key)
    refused(bad, trust, marker, "schema", "over the 1048576 byte limit")


def _resigned_with_manifest(
    good: Path,
    key: KeyPair,
    tmp_path: Path,
    change: Callable[[dict[str, Any], dict[str, bytes]], None],
) -> Path:
    members = read_members(good)
    manifest = json.loads(members["manifest.json"])
    change(manifest, members)
    members["manifest.json"] = json.dumps(manifest).encode()
    return write_members(tmp_path / "bad.bundle", members, sign_with=key)


def test_weights_shape_mismatch(
    good: Path, trust: Any, marker: Path, key: KeyPair, tmp_path: Path
) -> None:
    import hashlib

    import safetensors.torch
    import torch

    def change(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
        state = safetensors.torch.load(members["weights.safetensors"])
        state["classifier.weight"] = torch.zeros(1, 17)
        data = safetensors.torch.save(state)
        members["weights.safetensors"] = data
        manifest["weights"]["sha256"] = hashlib.sha256(data).hexdigest()

    bad = _resigned_with_manifest(good, key, tmp_path, change)
    refused(bad, trust, marker, "weights", "size mismatch for classifier.weight")


def test_weights_missing_key(
    good: Path, trust: Any, marker: Path, key: KeyPair, tmp_path: Path
) -> None:
    import hashlib

    import safetensors.torch

    def change(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
        state = safetensors.torch.load(members["weights.safetensors"])
        del state["classifier.bias"]
        data = safetensors.torch.save(state)
        members["weights.safetensors"] = data
        manifest["weights"]["sha256"] = hashlib.sha256(data).hexdigest()

    bad = _resigned_with_manifest(good, key, tmp_path, change)
    refused(bad, trust, marker, "weights", "Missing key")


def test_weights_digest_differs_from_manifest(
    good: Path, trust: Any, marker: Path, key: KeyPair, tmp_path: Path
) -> None:
    def change(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
        manifest["weights"]["sha256"] = "0" * 64

    bad = _resigned_with_manifest(good, key, tmp_path, change)
    refused(bad, trust, marker, "weights", "do not match the digest the manifest records")


def test_selftest_mismatch(
    good: Path, trust: Any, marker: Path, key: KeyPair, tmp_path: Path
) -> None:
    import safetensors.numpy

    members = read_members(good)
    tensors = safetensors.numpy.load(members["selftest.safetensors"])
    tensors["expected.logits"] = (tensors["expected.logits"] + np.float32(0.01)).astype(np.float32)
    members["selftest.safetensors"] = safetensors.numpy.save(tensors)
    bad = write_members(tmp_path / "bad.bundle", members, sign_with=key)
    refused(bad, trust, marker, "selftest", "self-test failed.*outputs differ")


def test_preprocessing_changed_after_creation(
    good: Path, trust: Any, marker: Path, key: KeyPair, tmp_path: Path
) -> None:
    def change(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
        for step in manifest["preprocessing"]:
            if step["op"] == "resize":
                step["interpolation"] = "nearest"
                step["antialias"] = False

    bad = _resigned_with_manifest(good, key, tmp_path, change)
    refused(bad, trust, marker, "selftest", "preprocessed tensor differs")


def test_unknown_architecture(
    good: Path, trust: Any, marker: Path, key: KeyPair, tmp_path: Path
) -> None:
    def change(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
        manifest["architecture"]["id"] = "vit-from-the-internet"

    bad = _resigned_with_manifest(good, key, tmp_path, change)
    refused(bad, trust, marker, "architecture", "does not have")


def test_unknown_manifest_key(
    good: Path, trust: Any, marker: Path, key: KeyPair, tmp_path: Path
) -> None:
    def change(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
        manifest["post_load_hook"] = "os.system('id')"

    bad = _resigned_with_manifest(good, key, tmp_path, change)
    refused(bad, trust, marker, "schema", "unknown key 'post_load_hook'")


def test_incompatible_torch_version(
    good: Path, trust: Any, marker: Path, key: KeyPair, tmp_path: Path
) -> None:
    def change(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
        manifest["compatibility"]["torch_min"] = "9.0"
        manifest["compatibility"]["torch_below"] = None

    bad = _resigned_with_manifest(good, key, tmp_path, change)
    refused(bad, trust, marker, "version", "validated for torch 9.0 or newer")


def test_silent_downgrade(
    build_bundle: Callable[..., Path], settings: Any, trust: Any, marker: Path
) -> None:
    store = ModelStore(settings, None, trust=trust)
    store.install(build_bundle(version="1.1.0"))
    older = build_bundle(version="1.0.0", seed=1)
    with pytest.raises(BundleError, match="Installing an older version must be explicit") as info:
        store.install(older)
    assert info.value.code == "downgrade"
    assert [e.version for e in store.list()] == ["1.1.0"]
    assert not marker.exists()


def test_messages_are_distinct() -> None:
    """Sanity: the reasons above name different things (one message per attack)."""
    needles = [
        "holds a Python pickle",
        "TorchScript or torch.export program",
        "is itself a zip archive",
        "does not match its signature",
        "does not cover: a file was added",
        "which the bundle lacks",
        "not signed",
        "does not trust",
        "climbs out",
        "absolute name",
        "symbolic link",
        "twice",
        "zip bomb",
        "byte limit",
        "size mismatch",
        "self-test failed",
        "does not have",
        "Installing an older version must be explicit",
    ]
    assert len(set(needles)) == len(needles)


def test_selftest_shape_differs_from_declared_format(
    good: Path, trust: Any, marker: Path, key: KeyPair, tmp_path: Path
) -> None:
    def change(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
        manifest["network_data_format"]["inputs"]["image"]["spatial_shape"] = [32, 32]

    bad = _resigned_with_manifest(good, key, tmp_path, change)
    refused(bad, trust, marker, "selftest", "network_data_format declares")


def test_selftest_image_too_large(
    good: Path, trust: Any, marker: Path, key: KeyPair, tmp_path: Path
) -> None:
    tensors = {"input.pixels": np.zeros((1, 9000), dtype=np.float32)}
    bad = _resigned_with_selftest(good, key, tmp_path, tensors)
    refused(bad, trust, marker, "selftest", "at most 8192 pixels a side")


def _resigned_with_selftest(
    good: Path, key: KeyPair, tmp_path: Path, tensors: dict[str, np.ndarray]
) -> Path:
    """``good`` with ``tensors`` put into its self-test file, signed again by a trusted key."""
    import safetensors.numpy

    members = read_members(good)
    stored = safetensors.numpy.load(members["selftest.safetensors"])
    members["selftest.safetensors"] = safetensors.numpy.save({**stored, **tensors})
    return write_members(tmp_path / "bad.bundle", members, sign_with=key)


def test_weights_of_another_dtype(
    good: Path, trust: Any, marker: Path, key: KeyPair, tmp_path: Path
) -> None:
    import hashlib

    import safetensors.torch
    import torch

    def change(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
        state = safetensors.torch.load(members["weights.safetensors"])
        state["classifier.weight"] = state["classifier.weight"].to(torch.float16)
        data = safetensors.torch.save(state)
        members["weights.safetensors"] = data
        manifest["weights"]["sha256"] = hashlib.sha256(data).hexdigest()

    bad = _resigned_with_manifest(good, key, tmp_path, change)
    refused(bad, trust, marker, "weights", "another number type")


@pytest.mark.parametrize(
    ("where", "match"),
    [
        ("prepended", "not part of its zip archive"),
        ("appended", "after the end of its zip archive"),
        ("comment", "after the end of its zip archive"),
        ("between-members", "not part of its archive"),
        ("before-directory", "after its last member"),
    ],
    ids=["prepended", "appended", "comment", "between-members", "before-directory"],
)
def test_bytes_outside_the_signed_archive(
    good: Path, trust: Any, marker: Path, tmp_path: Path, where: str, match: str
) -> None:
    """Bytes no signature covers would change the recorded file digest of the same signed content:
    a signed bundle with data before, between or after its zip records is refused."""
    import struct

    data = good.read_bytes()
    junk = b"\x00JUNK" * 40
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = sorted(zf.infolist(), key=lambda i: i.header_offset)
        cd_start = zf.start_dir
    eocd = len(data) - 22
    cd_size, cd_offset = struct.unpack("<II", data[eocd + 12 : eocd + 20])

    def shifted(cut: int) -> bytes:
        """Insert junk at ``cut`` and fix every offset after it, as a careful forger would."""
        cd = bytearray(data[cd_start:eocd])
        pos = 0
        while cd[pos : pos + 4] == b"PK\x01\x02":
            (off,) = struct.unpack("<I", cd[pos + 42 : pos + 46])
            if off >= cut:
                cd[pos + 42 : pos + 46] = struct.pack("<I", off + len(junk))
            n, m, k = struct.unpack("<HHH", cd[pos + 28 : pos + 34])
            pos += 46 + n + m + k
        end = bytearray(data[eocd:])
        end[16:20] = struct.pack("<I", cd_offset + len(junk))
        return data[:cut] + junk + data[cut:cd_start] + bytes(cd) + bytes(end)

    if where == "prepended":
        bad = junk + data
    elif where == "appended":
        bad = data + junk
    elif where == "comment":
        bad = data[:-2] + struct.pack("<H", len(junk)) + junk
    elif where == "between-members":
        bad = shifted(infos[1].header_offset)
    else:
        bad = shifted(cd_start)
    assert cd_offset + cd_size == eocd
    path = tmp_path / f"{where}.bundle"
    path.write_bytes(bad)
    with zipfile.ZipFile(path) as zf:  # still a readable zip with the same signed members
        assert zf.testzip() is None
    refused(path, trust, marker, "archive", match)


# ------------------------------------------------------- the self-test reaches every step (#12.6)
#
# ``good`` is made from one square MONOCHROME2 sample with a stored window (what the issue found
# passing): each of these re-signed manifest changes alters what the model sees on real images,
# so the self-test inputs ``bundle create`` writes must catch every one of them at load.


def _set_step(op: str, **values: Any) -> Callable[[dict[str, Any], dict[str, bytes]], None]:
    def change(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
        step = next(s for s in manifest["preprocessing"] if s["op"] == op)
        step.update(values)

    return change


def _drop_inversion(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
    manifest["preprocessing"] = [
        s for s in manifest["preprocessing"] if s["op"] != "invert_monochrome1"
    ]


def _add_normalize(**values: Any) -> Callable[[dict[str, Any], dict[str, bytes]], None]:
    def change(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
        manifest["preprocessing"].append({"op": "normalize", **values})

    return change


STEP_CHANGES: dict[str, Callable[[dict[str, Any], dict[str, bytes]], None]] = {
    "pad-value": _set_step("square", pad_value=0.0),
    "dropped-inversion": _drop_inversion,
    "crop-instead-of-pad": _set_step("square", mode="crop", pad_value="min"),
    "resize-bicubic": _set_step("resize", interpolation="bicubic"),
    "resize-area": _set_step("resize", interpolation="area", antialias=False),
    "normalise-minmax-range": _add_normalize(method="minmax", out_min=0.0, out_max=1.0001),
}


@pytest.mark.parametrize("change", list(STEP_CHANGES.values()), ids=list(STEP_CHANGES))
def test_every_preprocessing_change_is_caught_by_the_selftest(
    good: Path,
    trust: Any,
    marker: Path,
    key: KeyPair,
    tmp_path: Path,
    change: Callable[[dict[str, Any], dict[str, bytes]], None],
) -> None:
    bad = _resigned_with_manifest(good, key, tmp_path, change)
    refused(bad, trust, marker, "selftest", "self-test failed")


def test_selftest_with_an_unknown_tensor_is_refused(
    good: Path, trust: Any, marker: Path, key: KeyPair, tmp_path: Path
) -> None:
    tensors = {"case99.input.pixels": np.zeros((80, 60), dtype=np.float32)}
    bad = _resigned_with_selftest(good, key, tmp_path, tensors)
    refused(bad, trust, marker, "selftest", "not numbered 1 to N")


# ----------------------------------------- a bomb is never inflated before the signature (#12.8)


def test_unsigned_bomb_under_the_ratio_is_refused_before_it_is_inflated(
    good: Path, trust: Any, marker: Path, tmp_path: Path
) -> None:
    """A 40 MB member deflated just under the ratio limit, added after signing: refused from the
    directory and the signed list, never inflated (it used to be inflated whole first)."""
    import os
    import tracemalloc

    bomb = os.urandom(900 * 1024) + b"\0" * (39 * 1024 * 1024)
    entries: list[tuple[Any, bytes]] = [*read_members(good).items(), ("notes.txt", bomb)]
    bad = write_raw_zip(tmp_path / "bad.bundle", entries)
    with zipfile.ZipFile(bad) as zf:
        info = zf.getinfo("notes.txt")
        assert 40 < info.file_size / info.compress_size < 50
    del bomb, entries
    tracemalloc.start()
    try:
        err = refused(bad, trust, marker, "archive", "compressed members|does not cover")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, f"{peak} bytes traced: {err}"


def test_signature_is_checked_before_members_are_read(
    good: Path, trust: Any, marker: Path, tmp_path: Path
) -> None:
    """An unsigned member is refused by name before it is inflated, however it is built."""
    from viewer.bundle.archive import Limits

    entries: list[tuple[Any, bytes]] = [*read_members(good).items()]
    bad = write_members(tmp_path / "bad.bundle", {**dict(entries), "notes.txt": b"x" * 900_000})
    with pytest.raises(BundleError, match="does not cover") as info:
        load_bundle(bad, trust, limits=Limits(max_ratio=1e9))
    assert info.value.code == "signature"


# ---------------------------------------- one signed content, one zip form, one digest (#12.11)


def _rezip(data: bytes, **change: Any) -> bytes:
    """The bundle's members written again with one field changed, offsets kept consistent."""
    import struct
    import zlib

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = [(i, zf.read(i)) for i in zf.infolist()]
    if change.get("reorder"):
        members.reverse()
    body, cd = b"", b""
    for info, content in members:
        name = info.filename.encode()
        method = change.get("method", {}).get(info.filename, info.compress_type)
        raw = content
        if method == zipfile.ZIP_DEFLATED:
            c = zlib.compressobj(change.get("level", 9), zlib.DEFLATED, -15)
            raw = c.compress(content) + c.flush() + change.get("trailing", b"")
        date = change.get("date", 0x21)
        extra = change.get("extra", b"")
        comment = change.get("comment", b"")
        attr = change.get("attr", 0o100644 << 16)
        crc = zlib.crc32(content)
        head = (20, 0, method, 0, date, crc, len(raw), len(content), len(name), len(extra))
        cd += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 0x0314, *head, len(comment),
                          0, 0, attr, len(body)) + name + extra + comment  # fmt: skip
        body += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", *head) + name + extra + raw
    return body + cd + struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members),
                                   len(members), len(cd), len(body), 0)  # fmt: skip


def _resigned_sig(data: bytes, edit: Callable[[dict[str, Any]], None], raw: bool = False) -> bytes:
    members = read_members_bytes(data)
    bundle = json.loads(members["model.sig"])
    edit(bundle)
    members["model.sig"] = json.dumps(bundle, separators=None if raw else (",", ":")).encode()
    from viewer.bundle.archive import archive_bytes

    return archive_bytes(members)


def read_members_bytes(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _high_s(bundle: dict[str, Any]) -> None:
    import base64

    from cryptography.hazmat.primitives.asymmetric.utils import (
        decode_dss_signature,
        encode_dss_signature,
    )

    n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    sig = bundle["dsseEnvelope"]["signatures"][0]
    r, s = decode_dss_signature(base64.b64decode(sig["sig"]))
    sig["sig"] = base64.b64encode(encode_dss_signature(r, n - s)).decode()


def _set_hint(bundle: dict[str, Any]) -> None:
    bundle["verificationMaterial"]["publicKey"]["hint"] = "0" * 64


def _extra_key(bundle: dict[str, Any]) -> None:
    bundle["note"] = "same signature"


SAME_CONTENT_OTHER_BYTES: dict[str, tuple[Callable[[bytes], bytes], str, str]] = {
    "trailing-after-deflate": (
        lambda d: _rezip(d, trailing=b"\0\0"),
        "archive",
        "after the end of its compressed data",
    ),
    "timestamp": (lambda d: _rezip(d, date=0x5A21), "archive", "timestamp other than 1980-01-01"),
    "extra-field": (lambda d: _rezip(d, extra=b"\xfe\xca\x00\x00"), "archive", "an extra field"),
    "file-comment": (lambda d: _rezip(d, comment=b"hi"), "archive", "a file comment"),
    "other-mode": (lambda d: _rezip(d, attr=0o100600 << 16), "archive", "file attributes"),
    "text-stored": (
        lambda d: _rezip(d, method={"LICENSE.txt": 0}),
        "archive",
        "compression method",
    ),
    "tensor-deflated": (
        lambda d: _rezip(d, method={"weights.safetensors": 8}),
        "archive",
        "compression method",
    ),
    "reordered": (lambda d: _rezip(d, reorder=True), "archive", "not in name order"),
    "high-s-signature": (lambda d: _resigned_sig(d, _high_s), "signature", "high-S form"),
    "spaced-signature-json": (
        lambda d: _resigned_sig(d, lambda b: None, raw=True),
        "signature",
        "not in the one form",
    ),
    "extra-signature-key": (
        lambda d: _resigned_sig(d, _extra_key),
        "signature",
        "not in the one form",
    ),
    "other-key-hint": (lambda d: _resigned_sig(d, _set_hint), "signature", "does not name it"),
}


@pytest.mark.parametrize("name", list(SAME_CONTENT_OTHER_BYTES))
def test_same_signed_content_in_other_bytes_is_refused(
    good: Path, trust: Any, marker: Path, tmp_path: Path, name: str
) -> None:
    """Each of these is the signed content (every member, and the signature, still valid) in
    other zip bytes: it would be installed under another file digest, so it is refused."""
    make, code, match = SAME_CONTENT_OTHER_BYTES[name]
    data = make(good.read_bytes())
    assert read_members_bytes(data).keys() == read_members(good).keys()
    path = tmp_path / f"{name}.bundle"
    path.write_bytes(data)
    refused(path, trust, marker, code, match)


def test_rezip_helper_writes_the_canonical_form(good: Path, trust: Any) -> None:
    """Unchanged, the helper reproduces the file byte for byte (so each case changes one thing)."""
    assert _rezip(good.read_bytes()) == good.read_bytes()
    assert _resigned_sig(good.read_bytes(), lambda b: None) == good.read_bytes()
