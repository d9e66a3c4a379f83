"""A fast, bounded reader of the header fields the study index needs (PS3.5 7, PS3.10 7).

Why: indexing a 1,000-file CD must run at >= 1,000 files/s, and pydicom's general parser plus its
value conversion cost ~0.7 ms per file. This reader walks the data elements with ``struct``,
keeps the raw bytes of the ~35 tags of :class:`~viewer.dicom.model.ImageMetadata` and skips
every other value (sequences included, iteratively, with a nesting limit) up to Pixel Data: it
walks every top-level element pydicom's header-only read walks, so that damage anywhere in the
header is pydicom's to judge (the deflate budget, which needs only the image size, stops after
group 0028).

It is only an accelerator: whenever anything is unusual (no DICM preamble, big endian, deflated,
a malformed or out-of-order element, an undefined length that is not a plain sequence, a wanted
element with another VR than the dictionary's, a character set other than the default, ISO_IR
100 or ISO_IR 192, an ISO 2022 escape in a text value) the metadata comes from the pydicom
path, which gives the precise error; ``bedside dicom info``/``scan`` print the same bytes either
way (tests/cli/test_fast_header_parity.py).

It imports no pydicom (~0.35 s, issue 19): its tags and VRs come from dictionary.py, generated
from pydicom's dictionary and tested against it, and text is decoded as pydicom's
``decode_bytes`` and ``PersonName`` do for those three character sets (parity tested in
tests/dicom/test_header.py).

:func:`file_meta` is the one parser of the File Meta group (0002, PS3.10 7.1): the safe reader
(safe_read.py) uses it too, to find deflated files before pydicom sees them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

from viewer.dicom.dictionary import GREY_TAGS, HEADER_TAGS

IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
DEFLATED = "1.2.840.10008.1.2.1.99"

_LONG = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT", b"SV", b"UV"}
)
_UNDEFINED = 0xFFFFFFFF
UNDEFINED_LENGTH = _UNDEFINED  # PS3.5 7.1.1
_ITEM, _ITEM_END, _SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_SPECIES_CODES = 0x00102202  # Patient Species Code Sequence, PS3.3 C.7.1.1
_EXPLICIT = struct.Struct("<HH2sH")  # tag, VR, 16-bit length (PS3.5 7.1.2)
_IMPLICIT = struct.Struct("<HHI")  # tag, 32-bit length (PS3.5 7.1.3)
_U32 = struct.Struct("<I")
_LAST_GROUP = 0x0028  # ImageMetadata's elements are all in groups 0008..0028
PIXEL_DATA = 0x7FE00010  # Pixel Data (PS3.3 C.7.6.3); 0008 / 0009: Float / Double Float
_PIXEL_TAGS = frozenset({0x7FE00008, 0x7FE00009, PIXEL_DATA})  # where a header-only read stops
# Values longer than this are deferred by pydicom (left unread) in the header pass (safe_read).
DEFER_BYTES = 64 * 1024
VALID_VRS = frozenset(
    b"AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN "
    b"UR US UT UV".split()
)
_CHARSET_VRS = frozenset({"PN", "LO", "SH", "ST", "LT", "UT", "UC"})
# Specific Character Set (0008,0005) -> the Python codec pydicom uses (pydicom.charset
# python_encoding; PS3.3 C.12.1.1.2). Any other value goes to pydicom.
_ENCODINGS = {"": "iso8859", "ISO_IR 6": "iso8859", "ISO_IR 100": "latin_1", "ISO_IR 192": "UTF8"}
_ESC = b"\x1b"  # an ISO 2022 code extension (PS3.5 6.1.2.5): pydicom decodes those


class _MalformedError(Exception):
    """Anything unexpected: the caller falls back to pydicom."""


class NeedMoreError(Exception):
    """The header continues past the bytes given: call again with more of the file."""


# ImageMetadata's elements, and the grey-scale pipeline's for the pydicom-free render (direct.py)
_WANTED = {**HEADER_TAGS, **GREY_TAGS}
_US_OR_SS = (b"US", b"SS")  # an element whose VR follows Pixel Representation (PS3.5 6.2)
_BY_NAME = {name: tag for tag, (name, _) in _WANTED.items()}


@dataclass(frozen=True)
class PixelElement:
    """Where the Pixel Data (7FE0,0010) value starts and its declared length (PS3.5 7.1.2;
    :data:`UNDEFINED_LENGTH`: encapsulated, PS3.5 A.4). ``value_at`` is -1 when the file
    ends inside the element's own tag, VR and length (a cut copy)."""

    value_at: int
    length: int


class RawHeader:
    """The wanted top-level elements as raw bytes; ``get`` decodes like fields._get.

    ``exact`` is False when some value would not read as pydicom reads it (text in a character
    set left to pydicom, a wanted element with another VR than the dictionary's): the
    metadata then comes from pydicom; the image size (integers) is still usable."""

    def __init__(
        self,
        values: dict[int, tuple[str, bytes]],
        encoding: str | None,
        transfer_syntax: str,
        meta_sop_class: str,
        exact: bool = True,
        pixel_at: int = -1,
        pixel: PixelElement | None = None,
        cut: bool = False,
    ) -> None:
        self._values = values
        self.pixel_at = pixel_at  # where the Pixel Data element starts (-1: not reached)
        # the Pixel Data (7FE0,0010) element, None when the walk stopped at another pixel tag
        # (Float / Double Float Pixel Data) or found none
        self.pixel = pixel
        # the whole file was given and it ends inside a data element before Pixel Data (a
        # cut copy): the values before the cut are here, but not ``exact`` (pydicom judges)
        self.cut = cut
        self.file_size = -1  # the file's size, when the caller knows it
        self.key = b""  # the file's bytes up to Pixel Data's value, when the caller keeps them
        self._encoding = encoding or _ENCODINGS[""]
        self.exact = exact and encoding is not None
        self.transfer_syntax = transfer_syntax
        self.meta_sop_class = meta_sop_class

    def has(self, keyword: str) -> bool:
        return _BY_NAME.get(keyword, -1) in self._values

    def raw(self, keyword: str) -> tuple[str, bytes] | None:
        """(VR, value bytes) as found: the VR is the dictionary's, or for a "US or SS" element
        the file's (explicit VR) or "US or SS" (implicit VR); a sequence is ("SQ", b"")."""
        return self._values.get(_BY_NAME.get(keyword, -1))

    def text(self, raw: bytes) -> str:
        """``raw`` decoded in the file's character set (only when ``exact``)."""
        return self._decode(raw)

    def _decode(self, raw: bytes) -> str:
        """pydicom's ``decode_bytes`` for one encoding and no escape: bad bytes replaced."""
        try:
            return raw.decode(self._encoding)
        except UnicodeError:
            return raw.decode(self._encoding, errors="replace")

    def get(self, keyword: str, default: Any = None) -> Any:
        item = self._values.get(_BY_NAME.get(keyword, -1))
        if item is None:
            return default
        vr, raw = item
        if not raw:
            return default
        if vr == "US":
            if len(raw) < 2:
                return default
            return struct.unpack("<H", raw[:2])[0]
        if vr == "PN":
            # str(pydicom's PersonName): the "=" component groups (PS3.5 6.2.1.1) decoded one
            # by one, empty groups at the end dropped
            groups = [self._decode(g) for g in raw.rstrip(b"\x00 ").split(b"=")]
            while groups and not groups[-1]:
                groups.pop()
            text = "=".join(groups).rstrip("\x00 ")
        elif vr in _CHARSET_VRS:
            text = self._decode(raw).rstrip("\x00 ")
        else:
            text = raw.decode("ascii", "replace").strip("\x00 ")
        if not text:
            return default
        if vr in ("IS", "DS") and "\\" in text:
            return [part.strip() for part in text.split("\\")]
        return text


def _encoding(values: dict[int, tuple[str, bytes]]) -> str | None:
    """The codec of Specific Character Set (0008,0005), or None when pydicom must decode:
    another character set, several (code extensions), or an escape in a text value."""
    raw = values.get(_BY_NAME["SpecificCharacterSet"], ("CS", b""))[1]
    term = raw.decode("ascii", "replace").strip("\x00 ")
    encoding = _ENCODINGS.get(term)
    if encoding is None or "\\" in term:
        return None
    for vr, value in values.values():
        if _ESC in value and vr in _CHARSET_VRS:
            return None
    return encoding


@dataclass(frozen=True)
class FileMeta:
    """What the File Meta group (0002) says, and where it ends (PS3.10 7.1)."""

    end: int  # where the data set starts (or where the walk stopped, see ``overrun``)
    transfer_syntax: str  # Transfer Syntax UID (0002,0010), "" when absent
    sop_class: str  # Media Storage SOP Class UID (0002,0002), "" when absent
    syntax_at: int  # where the Transfer Syntax UID value sits in the data (0 when absent)
    syntax_len: int  # its length in bytes, padding included
    # An element's header or value runs past the data, or its length is undefined (0xFFFFFFFF):
    # the walk stopped there. Damaged, or only the start of a long file meta was given.
    overrun: bool
    valid_vrs: bool = True  # every element's VR is one of PS3.5 6.2 (pydicom refuses others)


def file_meta(data: bytes) -> FileMeta:
    """Walk the File Meta elements after the preamble and 'DICM' (``data`` starts the file).

    The one parser of group 0002 (always explicit VR little endian, PS3.10 7.1): the fast
    header scan treats an ``overrun`` as malformed (pydicom judges the file); the safe reader
    uses the transfer syntax and its place to spot and rewrite deflated files (PS3.5 A.5).
    """
    pos, tsyntax, sop, ts_at, ts_len = 132, "", "", 0, 0
    overrun, valid = False, True
    while pos + 8 <= len(data):
        group, element = struct.unpack_from("<HH", data, pos)
        if group != 0x0002:
            break
        vr = data[pos + 4 : pos + 6]
        valid = valid and vr in VALID_VRS
        if vr in _LONG:
            if pos + 12 > len(data):
                overrun = True
                break
            (length,) = struct.unpack_from("<I", data, pos + 8)
            value_at = pos + 12
        else:
            (length,) = struct.unpack_from("<H", data, pos + 6)
            value_at = pos + 8
        if element in (0x0002, 0x0010):
            value = data[value_at : value_at + length].decode("ascii", "replace").strip("\x00 ")
            if element == 0x0010:
                tsyntax, ts_at, ts_len = value, value_at, length
            else:
                sop = value
        pos = value_at + length
        if length == _UNDEFINED or pos > len(data):
            overrun = True
            break
    return FileMeta(pos, tsyntax, sop, ts_at, ts_len, overrun, valid)


def _element(data: bytes, pos: int, implicit: bool) -> tuple[int, bytes, int, int]:
    """Tag, VR (b"" when implicit or a delimiter), value length and value offset at ``pos``
    (PS3.5 7.1.2, 7.1.3; item and delimiter tags have no VR, PS3.5 7.5)."""
    if pos + 8 > len(data):
        raise NeedMoreError
    group, element = struct.unpack_from("<HH", data, pos)
    tag = (group << 16) | element
    if implicit or group == 0xFFFE:
        (length,) = struct.unpack_from("<I", data, pos + 4)
        return tag, b"", length, pos + 8
    vr = data[pos + 4 : pos + 6]
    if vr not in VALID_VRS:
        raise _MalformedError("VR")
    if vr in _LONG:
        if pos + 12 > len(data):
            raise NeedMoreError
        (length,) = struct.unpack_from("<I", data, pos + 8)
        return tag, vr, length, pos + 12
    (length,) = struct.unpack_from("<H", data, pos + 6)
    return tag, vr, length, pos + 8


def _is_sequence(data: bytes, tag: int, vr: bytes, at: int, implicit: bool) -> bool:
    """An undefined length value that pydicom reads as a sequence: VR SQ, or (implicit VR) a
    private element whose value starts with an item. Anything else (UN, a standard element in
    implicit VR, whose VR only the full dictionary knows) is left to pydicom."""
    if not implicit:
        return vr == b"SQ"
    if not tag & 0x00010000:
        return False
    if at + 4 > len(data):
        raise NeedMoreError
    group, element = struct.unpack_from("<HH", data, at)
    first: int = (group << 16) | element
    return first == _ITEM


def _skip_sequence(data: bytes, pos: int, implicit: bool, max_depth: int) -> int:
    """Position after an undefined-length sequence whose first item starts at ``pos``.

    Its shape is checked as pydicom's ``read_sequence`` walks it: items (FFFE,E000) until the
    delimiter (FFFE,E0DD); an item's elements until its end (defined length) or its delimiter
    (FFFE,E00D); nested undefined-length values only as sequences. Anything else is malformed
    (pydicom judges the file). Iterative, with a nesting limit.
    """
    # frames: [True, 0] a sequence (expects items); [False, end] an item (end -1: undefined)
    stack: list[tuple[bool, int]] = [(True, 0)]
    while stack:
        if len(stack) > 2 * max_depth:
            raise _MalformedError("nesting")
        in_sequence, end = stack[-1]
        if not in_sequence and end >= 0 and pos >= end:
            if pos != end:
                raise _MalformedError("item length")
            stack.pop()
            continue
        tag, vr, length, at = _element(data, pos, implicit)
        if in_sequence:
            if tag == _SEQ_END:
                stack.pop()
            elif tag != _ITEM:
                raise _MalformedError("item expected")
            else:
                stack.append((False, -1 if length == _UNDEFINED else at + length))
            pos = at
            continue
        if tag == _ITEM_END and end < 0:
            stack.pop()
            pos = at
            continue
        if tag >> 16 == 0xFFFE:
            raise _MalformedError("delimiter out of place")
        if length == _UNDEFINED:
            if not _is_sequence(data, tag, vr, at, implicit):
                raise _MalformedError("undefined length")
            stack.append((True, 0))
            pos = at
            continue
        pos = at + length
        if pos > len(data):
            raise NeedMoreError
    return pos


def scan_header(
    data: bytes,
    *,
    complete: bool,
    max_depth: int,
    meta: FileMeta | None = None,
    whole: bool = True,
) -> RawHeader | None:
    """Parse ``data`` (the start of a file, DICM preamble required); None = use pydicom.

    ``complete`` says ``data`` is the whole file; otherwise :class:`NeedMoreError` asks for
    more when the header goes on past it. ``meta``: :func:`file_meta` of ``data`` when the
    caller has it already. ``whole``: walk every element up to Pixel Data (the metadata path,
    whose answer must be pydicom's); False stops after group 0028 (the image size is enough).
    """
    try:
        return _scan(data, max_depth, complete, meta, whole)
    except NeedMoreError:
        if complete:
            return None
        raise
    except (_MalformedError, struct.error, IndexError, ValueError, UnicodeError):
        return None


def _scan(
    data: bytes, max_depth: int, complete: bool, meta: FileMeta | None, whole: bool
) -> RawHeader | None:
    if len(data) < 140 or data[128:132] != b"DICM":
        return None
    meta = meta or file_meta(data)
    if meta.overrun or not meta.valid_vrs:
        raise _MalformedError("file meta")
    tsyntax, meta_sop = meta.transfer_syntax, meta.sop_class
    if not tsyntax or tsyntax in (EXPLICIT_BE, DEFLATED):
        return None
    values: dict[int, tuple[str, bytes]] = {}
    try:
        pixel_at, pixel, exact = _walk(
            data, meta.end, tsyntax == IMPLICIT_LE, values, max_depth, complete, whole
        )
    except _CutError as cut:
        if data[cut.pos : cut.pos + 4] != _PIXEL_TAG_BYTES:
            return RawHeader(values, None, tsyntax, meta_sop, False, cut=True)
        # the file ends inside the Pixel Data element's own header: no pixel byte at all
        pixel_at, pixel, exact = cut.pos, PixelElement(-1, 0), True
    return RawHeader(values, _encoding(values), tsyntax, meta_sop, exact, pixel_at, pixel)


class _CutError(Exception):
    """The whole file was given and it ends inside the data element starting at ``pos``."""

    def __init__(self, pos: int) -> None:
        super().__init__(pos)
        self.pos = pos


_PIXEL_TAG_BYTES = struct.pack("<HH", 0x7FE0, 0x0010)


def _walk(
    data: bytes,
    pos: int,
    implicit: bool,
    values: dict[int, tuple[str, bytes]],
    max_depth: int,
    complete: bool,
    whole: bool,
) -> tuple[int, PixelElement | None, bool]:
    """The top-level elements from ``pos`` into ``values``: (where the pixel element starts
    or -1, the Pixel Data element, exact). :class:`_CutError` when ``data`` is the whole file
    and it ends inside an element."""
    size = len(data)
    previous = 0x0002FFFF  # the data set follows the file meta, tags ascending (PS3.5 7.1)
    exact = True
    # Every top-level element up to Pixel Data is walked, as pydicom's header-only read does,
    # so that a damaged element after the wanted ones is pydicom's to judge too.
    start = pos
    try:
        while pos < size or not complete:
            # _element, inlined: ~40 elements a file, 1,000 files a second (issue 19 item 2)
            start = pos
            if pos + 8 > size:
                raise NeedMoreError
            if implicit:
                group, element, length = _IMPLICIT.unpack_from(data, pos)
                raw_vr, value_at = b"", pos + 8
            else:
                group, element, raw_vr, length = _EXPLICIT.unpack_from(data, pos)
                if raw_vr in _LONG:
                    if pos + 12 > size:
                        raise NeedMoreError
                    (length,) = _U32.unpack_from(data, pos + 8)
                    value_at = pos + 12
                elif raw_vr in VALID_VRS:
                    value_at = pos + 8
                else:
                    raise _MalformedError("VR")  # or a stray delimiter (no VR): pydicom judges
            tag = (group << 16) | element
            if tag in _PIXEL_TAGS:
                pixel = PixelElement(value_at, length) if tag == PIXEL_DATA else None
                return pos, pixel, exact
            if group > _LAST_GROUP and not whole:
                return -1, None, exact
            if tag <= previous or tag >> 16 == 0xFFFE or tag == _SPECIES_CODES:
                # out of order, a stray delimiter, or a coded species (veterinary imaging),
                # which pydicom's path resolves
                raise _MalformedError("element")
            previous = tag
            want = _WANTED.get(tag)
            if want is not None and want[1] == "SQ":
                values[tag] = ("SQ", b"")  # present (a LUT sequence): left to pydicom
                want = None
            if length == _UNDEFINED:
                if want or not _is_sequence(data, tag, raw_vr, value_at, implicit):
                    raise _MalformedError("undefined length")
                pos = _skip_sequence(data, value_at, implicit, max_depth)
                continue
            end = value_at + length
            if end > size:
                raise NeedMoreError  # a value past the end of what was given
            if want:
                if length > DEFER_BYTES:
                    raise _MalformedError("deferred")  # pydicom leaves it unread
                vr = want[1]
                if vr == "US or SS" and raw_vr in _US_OR_SS:
                    vr = raw_vr.decode()
                elif raw_vr and raw_vr != vr.encode():
                    # another VR than the dictionary's (UN included): pydicom converts it by
                    # that VR, which this reader does not imitate
                    exact = False
                values[tag] = (vr, data[value_at:end])
            pos = end
    except NeedMoreError:
        if complete:
            raise _CutError(start) from None
        raise
    return -1, None, exact


_MAX_FRAGMENTS = 100_000  # items walked at most (a frame each, or a few): more is left alone


def fragments_cut(fh: BinaryIO, value_at: int, size: int) -> bool:
    """Whether a file of ``size`` bytes ends inside the items of encapsulated Pixel Data whose
    value starts at ``value_at`` (PS3.5 A.4: a Basic Offset Table item, then fragment items,
    then a Sequence Delimitation Item): each item's declared length is followed, no fragment
    is read or decoded. False for anything else malformed (the decoder judges it)."""
    pos = value_at
    for _ in range(_MAX_FRAGMENTS):
        if pos + 8 > size:
            return True
        fh.seek(pos)
        head = fh.read(8)
        if len(head) < 8:
            return True
        group, element, length = _IMPLICIT.unpack(head)
        tag = (group << 16) | element
        if tag == _SEQ_END:
            return False
        if tag != _ITEM or length == _UNDEFINED:
            return False
        pos += 8 + length
        if pos > size:
            return True
    return False
