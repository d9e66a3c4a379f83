"""Read and write the one-file ``.bundle`` (a zip of the signed directory), in memory, with limits.

Reading never touches the file system beyond reading the archive itself: no extraction, so a
hostile name (absolute, ``..``, a backslash or drive letter, a symlink) is refused before it could
matter. ``zipfile`` never parses a bundle: the end record is read first and refused by member
count, directory size and offsets (a directory listing millions of entries is never read), then
the directory (names unique, also ignoring case as Windows and macOS would; declared sizes, total
and ratio bounded), then the members are streamed, each inflated no further than it declares, so
memory stays within the total limit. Members that look like pickles or torch archives
(TorchScript / ``torch.export`` ``.pt2`` / ``torch.save`` files are zips of pickles) are refused
by name and by content.

One file digest per signed content: writing is deterministic (sorted names, 1980-01-01 dates, mode
0644, no extra fields or comments, tensors stored and text deflated), and reading accepts only that
form with every byte of the file inside a member's record: nothing before, between or after
them, no archive or file comment, no extra field, no bytes after a deflate stream. What stays
open is the deflate encoding itself: another encoder (or zlib build) compresses a text member to
other valid bytes, so the file digest is one per content and encoder, and the signed per-file
digests (``signed_digests``) are the identity of the content.
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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from viewer.errors import BundleError

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
SIGNATURE_NAME = "model.sig"  # the OMS signature (viewer.bundle.signing), read first
# A member's SHA-256 as it is read -> raises when it does not match what was signed.
DigestCheck = Callable[[str, str], None]
# (model.sig or None, member names) -> the check for each member; called before other members
# are inflated.
Verifier = Callable[[bytes | None, Sequence[str]], DigestCheck]
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
    max_deflated_member_bytes: int = 16 * 1024 * 1024  # text; tensors are stored


@dataclass(frozen=True)
class BundleArchive:
    """The members of a bundle, read into memory; ``digest`` is SHA-256 of the whole file,
    ``digests`` each member's SHA-256 (taken while it was read)."""

    digest: str
    members: dict[str, bytes] = field(repr=False)
    path: Path | None = None
    digests: dict[str, str] = field(default_factory=dict, repr=False)

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


def read_archive(
    path: str | Path, *, limits: Limits | None = None, verify: Verifier | None = None
) -> BundleArchive:
    """Read a ``.bundle`` file, applying every limit; BundleError(code="archive").

    The end record and the directory are read and checked first (counts, sizes, offsets, the
    canonical form), then the members are streamed in file order, each inflated no further than
    it declares. With ``verify``, ``model.sig`` is read first and handed over with the member
    names before any other member is inflated; the checker it returns gets each member's SHA-256
    as soon as its last byte is read, so an unsigned or altered member stops the read there.
    """
    limits = limits or Limits()
    p = Path(path)
    try:
        st = p.stat()
        if not stat.S_ISREG(st.st_mode):
            raise _refuse("The bundle is not a regular file.", p)
        if st.st_size > limits.max_archive_bytes:
            raise _refuse(
                f"The bundle is {st.st_size} bytes, over the {limits.max_archive_bytes} byte "
                "limit.",
                p,
            )
        with p.open("rb") as fh:
            return _read(fh, os.fstat(fh.fileno()).st_size, limits, p, verify)
    except FileNotFoundError as exc:
        raise _refuse("The bundle file does not exist.", p) from exc
    except OSError as exc:
        raise _refuse(f"The bundle file cannot be read ({exc.strerror}).", p) from exc


def read_archive_bytes(
    data: bytes,
    *,
    path: Path | None = None,
    limits: Limits | None = None,
    verify: Verifier | None = None,
) -> BundleArchive:
    """Same as :func:`read_archive` on bytes already in memory."""
    return _read(io.BytesIO(data), len(data), limits or Limits(), path, verify)


# APPNOTE.TXT 6.3: end of central directory (4.3.16), central file header (4.3.12), local file
# header (4.3.7), ZIP64 end locator (4.3.15) and ZIP64 end record (4.3.14).
_EOCD = struct.Struct("<4sHHHHIIH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_ZIP64_LOCATOR = struct.Struct("<4sIQI")
_ZIP64_EOCD = struct.Struct("<4sQHHIIQQQQ")
_LOCAL_SIG = b"PK\x03\x04"
_CENTRAL_SIG = b"PK\x01\x02"
_EOCD_SIG = b"PK\x05\x06"
_ZIP64_LOCATOR_SIG = b"PK\x06\x07"
_ZIP64_EOCD_SIG = b"PK\x06\x06"
_MAX_CENTRAL_RECORD = _CENTRAL.size + 4 * 129  # the longest name check_name lets through
_EOCD_SEARCH = _EOCD.size + 0xFFFF  # an end record with the longest comment
_CHUNK = 1 << 20
# What archive_bytes writes, and the only form read: version 2.0, made by Unix, no flags,
# 1980-01-01 00:00 (FIXED_DATE), no extra field or comment, a regular file of mode 0644; tensors
# stored, other files deflated; names in sorted order, records back to back.
_VERSION = 20
_MADE_BY = (3 << 8) | _VERSION
_DOS_TIME = 0
_DOS_DATE = ((FIXED_DATE[0] - 1980) << 9) | (FIXED_DATE[1] << 5) | FIXED_DATE[2]
_EXTERNAL_ATTR = (stat.S_IFREG | 0o644) << 16
_DAMAGE = (struct.error, zlib.error, ValueError, OverflowError, EOFError, UnicodeError)


def _method_for(name: str) -> int:
    """Tensors barely compress and deflating tens of MB costs seconds: stored; text deflated."""
    return zipfile.ZIP_STORED if name.endswith(".safetensors") else zipfile.ZIP_DEFLATED


@dataclass(frozen=True)
class _Entry:
    """One central directory record, already checked."""

    name: str
    raw_name: bytes
    method: int
    crc: int
    csize: int
    usize: int
    offset: int

    def local_header(self) -> bytes:
        return (
            _LOCAL.pack(
                _LOCAL_SIG,
                _VERSION,
                0,
                self.method,
                _DOS_TIME,
                _DOS_DATE,
                self.crc,
                self.csize,
                self.usize,
                len(self.raw_name),
                0,
            )
            + self.raw_name
        )

    @property
    def end(self) -> int:
        return self.offset + _LOCAL.size + len(self.raw_name) + self.csize


def _read(
    fh: BinaryIO, size: int, limits: Limits, path: Path | None, verify: Verifier | None
) -> BundleArchive:
    if size > limits.max_archive_bytes:
        raise _refuse(f"The bundle is over the {limits.max_archive_bytes} byte limit.", path)
    try:
        eocd, cd_offset, count = _end_record(fh, size, limits, path)
        cd = _read_at(fh, cd_offset, size - _EOCD.size - cd_offset, path)
        entries = _directory(cd, count, limits, path)
        _check_layout(entries, cd_offset, path)
        return _stream_members(fh, entries, cd + eocd, limits, path, verify)
    except _DAMAGE as exc:
        raise _refuse(
            f"The bundle is damaged ({type(exc).__name__}: {exc}); the file was altered or "
            "truncated.",
            path,
        ) from exc


def _read_at(fh: BinaryIO, offset: int, n: int, path: Path | None) -> bytes:
    fh.seek(offset)
    data = fh.read(n)
    if len(data) != n:
        raise _refuse("The bundle file is truncated (or changed while it was read).", path)
    return data


def _end_record(
    fh: BinaryIO, size: int, limits: Limits, path: Path | None
) -> tuple[bytes, int, int]:
    """The end record, checked before anything it points to is read: (record, offset, count)."""
    if size < _EOCD.size:
        raise _refuse("The file is not a model bundle (too short to be a zip archive).", path)
    eocd = _read_at(fh, size - _EOCD.size, _EOCD.size, path)
    if eocd[:4] != _EOCD_SIG:
        n = min(size, _EOCD_SEARCH)
        tail = _read_at(fh, size - n, n, path)
        at = tail.rfind(_EOCD_SIG)
        if at < 0:
            raise _refuse(
                "The file is not a model bundle (no zip end record: not a zip archive, or "
                "truncated).",
                path,
            )
        if n - at < _EOCD.size:
            raise _refuse("The bundle is truncated: its zip end record is cut short.", path)
        raise _refuse(
            "The bundle has data after the end of its zip archive (or an archive comment); a "
            "bundle must end exactly where its archive ends.",
            path,
        )
    _, disk, cd_disk, n_disk, n_total, cd_size, cd_offset, comment_len = _EOCD.unpack(eocd)
    has_locator = size >= _EOCD.size + _ZIP64_LOCATOR.size and (
        _read_at(fh, size - _EOCD.size - _ZIP64_LOCATOR.size, 4, path) == _ZIP64_LOCATOR_SIG
    )
    if has_locator or 0xFFFF in (n_disk, n_total) or 0xFFFFFFFF in (cd_size, cd_offset):
        raise _refuse(_zip64_message(fh, size, has_locator, path), path)
    if comment_len:
        raise _refuse(
            f"The bundle's zip end record announces a {comment_len}-byte comment past the end "
            "of the file (truncated, or a second end record hidden in a comment).",
            path,
        )
    if disk or cd_disk or n_disk != n_total:
        raise _refuse("The bundle's zip end record is not that of a single plain archive.", path)
    if n_total > limits.max_members:
        raise _refuse(
            f"The bundle's directory lists {n_total} members, over the limit of "
            f"{limits.max_members}.",
            path,
        )
    if n_total == 0:
        raise _refuse("The bundle holds no members.", path)
    if cd_size > n_total * _MAX_CENTRAL_RECORD:
        raise _refuse(
            f"The bundle's zip directory claims {cd_size} bytes, more than {n_total} members "
            f"can need ({n_total * _MAX_CENTRAL_RECORD}).",
            path,
        )
    end = size - _EOCD.size
    if cd_offset + cd_size > end:
        raise _refuse(
            f"The bundle's zip end record points outside the file (a {cd_size}-byte directory "
            f"at offset {cd_offset} in a {size}-byte file): the file is truncated or damaged.",
            path,
        )
    if cd_offset + cd_size != end:
        raise _refuse(
            "The bundle holds data that is not part of its zip archive (before the archive, or "
            "between its directory and its end record).",
            path,
        )
    return eocd, cd_offset, n_total


def _zip64_message(fh: BinaryIO, size: int, has_locator: bool, path: Path | None) -> str:
    claim = ""
    if has_locator:
        loc = _read_at(fh, size - _EOCD.size - _ZIP64_LOCATOR.size, _ZIP64_LOCATOR.size, path)
        _, _, offset, _ = _ZIP64_LOCATOR.unpack(loc)
        if offset + _ZIP64_EOCD.size <= size - _EOCD.size - _ZIP64_LOCATOR.size:
            rec = _read_at(fh, offset, _ZIP64_EOCD.size, path)
            if rec[:4] == _ZIP64_EOCD_SIG:
                *_, count, cd_size, cd_offset = _ZIP64_EOCD.unpack(rec)
                claim = (
                    f" (claiming {count} members in a {cd_size}-byte directory at offset "
                    f"{cd_offset})"
                )
        else:
            claim = " (its ZIP64 end record lies outside the file)"
    return f"The bundle uses ZIP64 records{claim}, which a bundle never needs; it is refused."


def _directory(cd: bytes, count: int, limits: Limits, path: Path | None) -> list[_Entry]:
    """Parse and check every central record: first what is hostile, then the canonical form."""
    records = []
    pos = 0
    for _ in range(count):
        if cd[pos : pos + 4] != _CENTRAL_SIG or pos + _CENTRAL.size > len(cd):
            raise _refuse(
                "The bundle's zip directory is damaged (fewer member records than its end "
                "record counts).",
                path,
            )
        fields = _CENTRAL.unpack_from(cd, pos)
        name_len, extra_len, comment_len = fields[10:13]
        start = pos + _CENTRAL.size
        pos = start + name_len + extra_len + comment_len
        if pos > len(cd):
            raise _refuse("The bundle's zip directory is damaged (a record runs past it).", path)
        records.append((fields, cd[start : start + name_len]))
    if pos != len(cd):
        raise _refuse("The bundle's zip directory holds data that is not a member record.", path)

    entries = []
    seen: set[str] = set()
    seen_folded: set[str] = set()
    total = 0
    for fields, raw_name in records:
        made_by, flags, method, crc, csize, usize = (fields[i] for i in (1, 3, 4, 7, 8, 9))
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
        check_name(name, path)
        if name in seen or name.casefold() in seen_folded:
            raise _refuse(f"The bundle holds the name '{name}' twice.", path)
        seen.add(name)
        seen_folded.add(name.casefold())
        if made_by >> 8 == 3 and stat.S_ISLNK(fields[15] >> 16):
            raise _refuse(f"The bundle member '{name}' is a symbolic link.", path)
        if flags & 0x1:
            raise _refuse(f"The bundle member '{name}' is encrypted.", path)
        if method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _refuse(
                f"The bundle member '{name}' uses an unsupported compression method.", path
            )
        if method == zipfile.ZIP_STORED and csize != usize:
            raise _refuse(f"The bundle's record of '{name}' is damaged (sizes differ).", path)
        if usize > limits.max_member_bytes:
            raise _refuse(
                f"The bundle member '{name}' is {usize} bytes, over the "
                f"{limits.max_member_bytes} byte limit.",
                path,
            )
        if method == zipfile.ZIP_DEFLATED:
            if usize > 1024 * 1024 and usize > limits.max_ratio * max(csize, 1):
                raise _refuse(
                    f"The bundle member '{name}' expands {usize / max(csize, 1):.0f}"
                    f" times (a zip bomb?); the limit is {limits.max_ratio:.0f}.",
                    path,
                )
            if usize > limits.max_deflated_member_bytes:
                raise _refuse(
                    f"The bundle member '{name}' is {usize} bytes of compressed data, over the "
                    f"{limits.max_deflated_member_bytes} byte limit for compressed members "
                    "(tensors are stored uncompressed).",
                    path,
                )
        total += usize
        if total > limits.max_total_bytes:
            raise _refuse(
                f"The bundle's members add up to over {limits.max_total_bytes} bytes.", path
            )
        entries.append(_Entry(name, raw_name, method, crc, csize, usize, fields[16]))

    for (fields, _), entry in zip(records, entries, strict=True):
        _check_canonical(fields, entry, path)
    names = [e.name for e in entries]
    if names != sorted(names):
        raise _not_canonical(names[0], "members not in name order", path)
    return entries


def _not_canonical(name: str, what: str, path: Path | None) -> BundleError:
    return _refuse(
        f"The bundle's record of '{name}' is not written as `bundle create` writes it ({what}). "
        "The same signed content in other zip bytes would be installed under another file "
        "digest, so only the canonical form is read; `bedside bundle sign` rewrites a bundle "
        "in it.",
        path,
    )


def _check_canonical(fields: tuple[int, ...], e: _Entry, path: Path | None) -> None:
    made_by, version, flags, method, time_, date_ = fields[1:7]
    extra_len, comment_len, disk, internal, external = fields[11:16]
    problems = [
        (made_by != _MADE_BY or version != _VERSION, "zip versions"),
        (flags != 0, f"general purpose flags {flags:#06x}"),
        (method != _method_for(e.name), "compression method: tensors stored, other files deflated"),
        ((time_, date_) != (_DOS_TIME, _DOS_DATE), "a timestamp other than 1980-01-01 00:00"),
        (extra_len != 0, "an extra field"),
        (comment_len != 0, "a file comment"),
        (disk != 0 or internal != 0 or external != _EXTERNAL_ATTR, "file attributes"),
    ]
    for bad, what in problems:
        if bad:
            raise _not_canonical(e.name, what, path)


def _check_layout(entries: list[_Entry], cd_offset: int, path: Path | None) -> None:
    """Every byte of the file belongs to a record: local records from offset 0, back to back, in
    directory order, then the directory, then the end record ending at EOF (APPNOTE 4.3.6).

    zipfile tolerates bytes prepended (self-extracting archives), appended, hidden between
    members and in comments; no signature covers them, so the same signed content could be
    installed under many file digests (the digest the audit log records).
    """
    pos = 0
    for e in entries:
        if e.offset != pos:
            where = "before its first member" if pos == 0 else f"before member '{e.name}'"
            raise _refuse(f"The bundle holds data that is not part of its archive ({where}).", path)
        pos = e.end
    if pos != cd_offset:
        raise _refuse(
            "The bundle holds data that is not part of its archive (after its last member).",
            path,
        )


def _stream_members(
    fh: BinaryIO,
    entries: list[_Entry],
    tail: bytes,
    limits: Limits,
    path: Path | None,
    verify: Verifier | None,
) -> BundleArchive:
    check: DigestCheck | None = None
    early: bytes | None = None
    if verify is not None:
        sig = next((e for e in entries if e.name == SIGNATURE_NAME), None)
        if sig is not None:
            early = _read_member(fh, sig, None, path)
        check = verify(early, [e.name for e in entries])
    file_hash = hashlib.sha256()
    members: dict[str, bytes] = {}
    digests: dict[str, str] = {}
    for e in entries:  # in file order: the file digest is taken while reading
        content = _read_member(fh, e, file_hash, path)
        if early is not None and e.name == SIGNATURE_NAME and content != early:
            raise _refuse("The bundle file changed while it was read.", path)
        reason = sniff_code(e.name, content)
        if reason:
            raise BundleError(f"The bundle was refused: {reason}.", code="archive", path=path)
        digest = hashlib.sha256(content).hexdigest()
        if check is not None:
            check(e.name, digest)
        members[e.name] = content
        digests[e.name] = digest
    file_hash.update(tail)
    return BundleArchive(digest=file_hash.hexdigest(), members=members, path=path, digests=digests)


def _read_member(fh: BinaryIO, e: _Entry, file_hash: Any, path: Path | None) -> bytes:
    """One member, never more than it declares; ``file_hash`` gets every byte of its record."""
    header = _read_at(fh, e.offset, _LOCAL.size + len(e.raw_name), path)
    if header != e.local_header():
        raise _refuse(
            f"The bundle's record of '{e.name}' is damaged (its header differs from the zip "
            "directory).",
            path,
        )
    if file_hash is not None:
        file_hash.update(header)
    if e.method == zipfile.ZIP_STORED:
        content = fh.read(e.csize)
        if len(content) != e.csize:
            raise _refuse("The bundle file is truncated (or changed while it was read).", path)
        if file_hash is not None:
            file_hash.update(content)
    else:
        content = _inflate(fh, e, file_hash, path)
    if zlib.crc32(content) != e.crc:
        raise _refuse(
            f"The bundle member '{e.name}' is damaged (CRC differs); the file was altered or "
            "truncated.",
            path,
        )
    return content


def _inflate(fh: BinaryIO, e: _Entry, file_hash: Any, path: Path | None) -> bytes:
    d = zlib.decompressobj(-15)
    pieces: list[bytes] = []
    got = 0
    left = e.csize
    while left:
        comp = fh.read(min(_CHUNK, left))
        if not comp:
            raise _refuse("The bundle file is truncated (or changed while it was read).", path)
        left -= len(comp)
        if file_hash is not None:
            file_hash.update(comp)
        if d.eof:
            raise _trailing(e, len(comp) + left, path)
        buf = comp
        while buf:
            out = d.decompress(buf, e.usize + 1 - got)
            got += len(out)
            if got > e.usize:
                raise _refuse(
                    f"The bundle member '{e.name}' is larger than it declares ({e.usize} "
                    "bytes); reading stopped there.",
                    path,
                )
            pieces.append(out)
            if d.eof:
                if d.unused_data:
                    raise _trailing(e, len(d.unused_data) + left, path)
                break
            if not out and len(d.unconsumed_tail) == len(buf):
                raise _refuse(f"The bundle member '{e.name}' is damaged.", path)
            buf = d.unconsumed_tail
    if not d.eof:
        raise _refuse(
            f"The bundle member '{e.name}' is damaged (its compressed data ends early).", path
        )
    if got != e.usize:
        raise _refuse(f"The bundle member '{e.name}' is smaller than it declares.", path)
    return b"".join(pieces)


def _trailing(e: _Entry, n: int, path: Path | None) -> BundleError:
    return _refuse(
        f"The bundle member '{e.name}' has {n} bytes after the end of its compressed data, "
        "which no signature covers.",
        path,
    )


def archive_bytes(members: Mapping[str, bytes]) -> bytes:
    """A deterministic zip: sorted names, 1980-01-01 dates, mode 0644, text deflated at level 9."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(members):
            check_name(name)
            method = _method_for(name)
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
    """Write a ``.bundle`` atomically, members as given; returns its SHA-256.

    A folder signed by the ``model-signing`` tool is packed by
    :func:`viewer.bundle.signing.write_signed_folder`, which puts its ``model.sig`` in the one
    accepted (low-S) form first.
    """
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
