"""Read and write the one-file ``.bundle`` (a zip of the signed directory), in memory, with limits.

Reading never touches the file system beyond reading the archive itself: no extraction, so a
hostile name (absolute, ``..``, a backslash or drive letter, a symlink) is refused before it could
matter. Sizes are bounded before and while inflating (zip bombs), names must be unique (also
ignoring case, as Windows and macOS would), and members that look like pickles or torch archives
(TorchScript / ``torch.export`` ``.pt2`` / ``torch.save`` files are zips of pickles) are refused by
name and by content. Writing is deterministic: sorted names, fixed timestamps and attributes.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from viewer.errors import BundleError

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
# What zipfile raises on damaged input (found by fuzzing: zlib errors, unknown versions ...).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    zlib.error,
    struct.error,
    KeyError,
    IndexError,
    OverflowError,
)
_NAME_RE = re.compile(
    r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}(/[A-Za-z0-9_][A-Za-z0-9._-]{0,127}){0,3}$"
)
_FORBIDDEN_SUFFIXES = (
    ".pkl", ".pickle", ".pt", ".pth", ".pt2", ".ckpt", ".jit", ".torchscript", ".ts", ".zip",
    ".npy", ".npz", ".joblib", ".dill", ".py", ".pyc", ".so", ".dll", ".exe", ".sh", ".bat",
)  # fmt: skip


@dataclass(frozen=True)
class Limits:
    """Bounds for reading a bundle; defaults fit a ResNet-50 (about 100 MB) with room to spare."""

    max_archive_bytes: int = 1024 * 1024 * 1024
    max_members: int = 32
    max_member_bytes: int = 768 * 1024 * 1024
    max_total_bytes: int = 1024 * 1024 * 1024
    max_ratio: float = 50.0  # uncompressed / compressed, for members above 1 MiB


@dataclass(frozen=True)
class BundleArchive:
    """The members of a bundle, read into memory; ``digest`` is SHA-256 of the whole file."""

    digest: str
    members: dict[str, bytes] = field(repr=False)
    path: Path | None = None

    def names(self) -> list[str]:
        return sorted(self.members)


def _refuse(message: str, path: Path | None) -> BundleError:
    return BundleError(message, code="archive", path=path)


def sniff_code(name: str, data: bytes) -> str | None:
    """Why a member must never be in a bundle, or None: pickles and torch/zip archives."""
    lower = name.lower()
    if lower.endswith(".safetensors") and looks_like_safetensors(data):
        return None  # its 8-byte header length can start with 0x80 like a pickle does
    if lower.endswith((".pt2", ".jit", ".torchscript")) or "torchscript" in lower:
        return (
            f"'{name}' is a TorchScript or torch.export program (code), which bundles may not hold"
        )
    if lower.endswith(_FORBIDDEN_SUFFIXES):
        return f"'{name}' has a file type bundles may not hold (pickled or executable content)"
    if data[:4] == b"PK\x03\x04":
        return (
            f"'{name}' is itself a zip archive, as torch.save, TorchScript and torch.export "
            "files are (they run code when loaded)"
        )
    if len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5:
        return f"'{name}' holds a Python pickle, which can run code when loaded"
    if lower.endswith(".safetensors"):
        return f"'{name}' is not a safetensors file"
    return None


def looks_like_safetensors(data: bytes) -> bool:
    """Header shape only: u64 little-endian JSON length, then a JSON object within the file."""
    if len(data) < 10:
        return False
    n = int.from_bytes(data[:8], "little")
    return 2 <= n <= len(data) - 8 and data[8:9] == b"{"


def check_name(name: str, path: Path | None = None) -> None:
    """Refuse names that could escape a folder or mean something else on another OS."""
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        raise _refuse(f"The bundle holds a member with an absolute name ('{name}').", path)
    if "\\" in name or "\x00" in name:
        raise _refuse(f"The bundle holds a member name with a backslash ('{name!r}').", path)
    if ".." in name.split("/"):
        raise _refuse(f"The bundle holds a member whose name climbs out ('{name}').", path)
    if name.endswith("/"):
        raise _refuse(f"The bundle holds a folder entry ('{name}'); only files are allowed.", path)
    if not _NAME_RE.match(name):
        raise _refuse(
            f"The bundle holds a member with a name that is not allowed ('{name}').", path
        )


def _is_link(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return info.create_system == 3 and stat.S_ISLNK(mode)


def read_archive(path: str | Path, *, limits: Limits | None = None) -> BundleArchive:
    """Read a ``.bundle`` file into memory, applying every limit; BundleError(code="archive")."""
    limits = limits or Limits()
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > limits.max_archive_bytes:
            raise _refuse(
                f"The bundle is {size} bytes, over the {limits.max_archive_bytes} byte limit.", p
            )
        with p.open("rb") as fh:
            data = fh.read(limits.max_archive_bytes + 1)
    except FileNotFoundError as exc:
        raise _refuse("The bundle file does not exist.", p) from exc
    except OSError as exc:
        raise _refuse(f"The bundle file cannot be read ({exc.strerror}).", p) from exc
    return read_archive_bytes(data, path=p, limits=limits)


def read_archive_bytes(
    data: bytes, *, path: Path | None = None, limits: Limits | None = None
) -> BundleArchive:
    """Same as :func:`read_archive` on bytes already in memory."""
    limits = limits or Limits()
    if len(data) > limits.max_archive_bytes:
        raise _refuse(f"The bundle is over the {limits.max_archive_bytes} byte limit.", path)
    digest = hashlib.sha256(data).hexdigest()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as exc:
        raise _refuse("The file is not a model bundle (not a readable zip archive).", path) from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_members:
            raise _refuse(
                f"The bundle holds {len(infos)} members, over the limit of {limits.max_members}.",
                path,
            )
        seen: set[str] = set()
        seen_folded: set[str] = set()
        total = 0
        for info in infos:
            name = info.filename
            check_name(name, path)
            if name in seen or name.casefold() in seen_folded:
                raise _refuse(f"The bundle holds the name '{name}' twice.", path)
            seen.add(name)
            seen_folded.add(name.casefold())
            if _is_link(info):
                raise _refuse(f"The bundle member '{name}' is a symbolic link.", path)
            if info.flag_bits & 0x1:
                raise _refuse(f"The bundle member '{name}' is encrypted.", path)
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise _refuse(
                    f"The bundle member '{name}' uses an unsupported compression method.", path
                )
            if info.file_size > limits.max_member_bytes:
                raise _refuse(
                    f"The bundle member '{name}' is {info.file_size} bytes, over the "
                    f"{limits.max_member_bytes} byte limit.",
                    path,
                )
            if info.file_size > 1024 * 1024 and info.file_size > limits.max_ratio * max(
                info.compress_size, 1
            ):
                ratio = info.file_size / max(info.compress_size, 1)
                raise _refuse(
                    f"The bundle member '{name}' expands {ratio:.0f}"
                    f" times (a zip bomb?); the limit is {limits.max_ratio:.0f}.",
                    path,
                )
            total += info.file_size
            if total > limits.max_total_bytes:
                raise _refuse(
                    f"The bundle's members add up to over {limits.max_total_bytes} bytes.", path
                )
        check_layout(data, zf, path)
        members: dict[str, bytes] = {}
        for info in infos:
            members[info.filename] = _read_member(zf, info, limits, path)
    for name, content in members.items():
        reason = sniff_code(name, content)
        if reason:
            raise BundleError(f"The bundle was refused: {reason}.", code="archive", path=path)
    return BundleArchive(digest=digest, members=dict(sorted(members.items())), path=path)


_LOCAL_SIG = b"PK\x03\x04"
_EOCD_SIG = b"PK\x05\x06"
_DESCRIPTOR_SIG = b"PK\x07\x08"


def check_layout(data: bytes, zf: zipfile.ZipFile, path: Path | None = None) -> None:
    """Every byte of the file belongs to the zip: nothing before, between or after its records.

    zipfile tolerates bytes prepended (self-extracting archives), appended, or hidden between
    members and in the archive comment, and none of them is covered by the signature: the same
    signed content could then be installed under many file digests (the digest the audit log
    records). So the layout must be exact (APPNOTE 4.3.6): local file records from offset 0, back
    to back, then the central directory, then one end-of-central-directory record ending at EOF.
    ZIP64 records are refused: a bundle is far below the sizes that need them.
    """
    if len(data) < 22:
        raise _refuse("The bundle is too short to be a zip archive.", path)
    loc = len(data) - 22
    if data[loc : loc + 4] != _EOCD_SIG:
        raise _refuse(
            "The bundle has data after the end of its zip archive (or an archive comment); a "
            "bundle must end exactly where its archive ends.",
            path,
        )
    (disk, cd_disk, n_disk, n_total, cd_size, cd_offset, comment_len) = struct.unpack(
        "<HHHHIIH", data[loc + 4 : loc + 22]
    )
    if (
        0xFFFF in (n_disk, n_total)
        or 0xFFFFFFFF in (cd_size, cd_offset)
        or (loc >= 20 and data[loc - 20 : loc - 16] == b"PK\x06\x07")
    ):
        raise _refuse("The bundle uses ZIP64 records, which a bundle never needs.", path)
    if disk or cd_disk or n_disk != n_total or comment_len:
        raise _refuse("The bundle's zip end record is not that of a single plain archive.", path)
    if cd_offset + cd_size != loc:
        raise _refuse(
            "The bundle holds data that is not part of its zip archive (before the archive, or "
            "between its directory and its end record).",
            path,
        )
    pos = 0
    for info in sorted(zf.infolist(), key=lambda i: i.header_offset):
        if info.header_offset != pos:
            where = "before its first member" if pos == 0 else f"before member '{info.filename}'"
            raise _refuse(f"The bundle holds data that is not part of its archive ({where}).", path)
        if data[pos : pos + 4] != _LOCAL_SIG:
            raise _refuse(f"The bundle's record of '{info.filename}' is damaged.", path)
        name_len, extra_len = struct.unpack("<HH", data[pos + 26 : pos + 30])
        pos += 30 + name_len + extra_len + info.compress_size
        if info.flag_bits & 0x8:  # data descriptor (APPNOTE 4.3.9), optionally signed
            pos += 16 if data[pos : pos + 4] == _DESCRIPTOR_SIG else 12
    if pos != cd_offset:
        raise _refuse(
            "The bundle holds data that is not part of its archive (after its last member).",
            path,
        )


def _read_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits, path: Path | None
) -> bytes:
    cap = min(info.file_size, limits.max_member_bytes)
    try:
        with zf.open(info) as fh:
            chunks = []
            got = 0
            while True:
                chunk = fh.read(min(1 << 20, cap + 1 - got))
                if not chunk:
                    break
                got += len(chunk)
                if got > cap:
                    raise _refuse(
                        f"The bundle member '{info.filename}' is larger than it declares.", path
                    )
                chunks.append(chunk)
    except _ZIP_ERRORS as exc:
        raise _refuse(
            f"The bundle member '{info.filename}' is damaged ({exc}); the file was altered or "
            "truncated.",
            path,
        ) from exc
    return b"".join(chunks)


def archive_bytes(members: Mapping[str, bytes]) -> bytes:
    """A deterministic zip: sorted names, 1980-01-01 dates, mode 0644, text deflated at level 9."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(members):
            check_name(name)
            # Tensors barely compress and deflating tens of MB costs seconds at create and
            # load: they are stored; text is deflated.
            method = zipfile.ZIP_STORED if name.endswith(".safetensors") else zipfile.ZIP_DEFLATED
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = method
            info.create_system = 3
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            zf.writestr(info, members[name], compress_type=method, compresslevel=9)
    return buf.getvalue()


def write_atomic(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write through a temporary file in the same folder, fsync, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).chmod(mode)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_archive(members: Mapping[str, bytes], out: str | Path) -> str:
    """Write a ``.bundle`` atomically; returns its SHA-256."""
    data = archive_bytes(members)
    write_atomic(Path(out), data)
    return hashlib.sha256(data).hexdigest()


def read_directory(folder: str | Path, *, limits: Limits | None = None) -> dict[str, bytes]:
    """The files of a signed folder (for ``bundle sign`` and interop); links are refused."""
    limits = limits or Limits()
    root = Path(folder)
    members: dict[str, bytes] = {}
    total = 0
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_symlink():
            raise _refuse(f"'{rel}' is a symbolic link; bundles may not hold links.", root)
        if p.is_dir():
            continue
        check_name(rel, root)
        size = p.stat().st_size
        total += size
        if size > limits.max_member_bytes or total > limits.max_total_bytes:
            raise _refuse(f"'{rel}' makes the bundle larger than allowed.", root)
        if len(members) >= limits.max_members:
            raise _refuse(f"The folder holds more than {limits.max_members} files.", root)
        members[rel] = p.read_bytes()
    return members


def write_directory(members: Mapping[str, bytes], folder: str | Path) -> None:
    """Write members (names already checked) into an empty folder."""
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    for name, data in members.items():
        check_name(name)
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
