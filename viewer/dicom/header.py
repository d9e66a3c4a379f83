"""A fast, bounded reader of the header fields the study index needs (PS3.5 7, PS3.10 7).

Why: indexing a 1,000-file CD must run at >= 1,000 files/s, and pydicom's general parser plus its
value conversion cost ~0.7 ms per file. This reader walks the data elements with ``struct``,
keeps the raw bytes of the ~35 tags of :class:`~viewer.dicom.model.ImageMetadata`, skips every
other value (sequences included, iteratively, with a nesting limit) and stops after group 0028.

It is only an accelerator: whenever anything is unusual (no DICM preamble, big endian, deflated,
a malformed element) it returns None and the caller uses the pydicom path, which gives the
precise error. Text in a Specific Character Set is decoded by pydicom's ``decode_bytes``.

:func:`file_meta` is the one parser of the File Meta group (0002, PS3.10 7.1): the safe reader
(safe_read.py) uses it too, to find deflated files before pydicom sees them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from pydicom.charset import convert_encodings, decode_bytes
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.valuerep import PersonName

IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
DEFLATED = "1.2.840.10008.1.2.1.99"

_LONG = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT", b"SV", b"UV"}
)
_UNDEFINED = 0xFFFFFFFF
_ITEM, _ITEM_END, _SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_SPECIES_CODES = 0x00102202  # Patient Species Code Sequence, PS3.3 C.7.1.1
_LAST_GROUP = 0x0028  # everything ImageMetadata needs is in groups 0008..0028
_TEXT_DELIMS = {0x5C}
_CHARSET_VRS = frozenset({"PN", "LO", "SH", "ST", "LT", "UT", "UC"})


class _MalformedError(Exception):
    """Anything unexpected: the caller falls back to pydicom."""


class NeedMoreError(Exception):
    """The header continues past the bytes given: call again with more of the file."""


def _keywords() -> dict[int, tuple[str, str]]:
    names = [
        "SpecificCharacterSet",
        "SOPClassUID",
        "SOPInstanceUID",
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "AccessionNumber",
        "PatientID",
        "PatientName",
        "PatientBirthDate",
        "PatientSex",
        "StudyDate",
        "StudyDescription",
        "SeriesDescription",
        "SeriesNumber",
        "InstanceNumber",
        "Modality",
        "ViewPosition",
        "ImageLaterality",
        "Laterality",
        "BodyPartExamined",
        "PatientSpeciesDescription",
        "PatientOrientation",
        "PhotometricInterpretation",
        "BitsStored",
        "BitsAllocated",
        "PixelRepresentation",
        "Rows",
        "Columns",
        "SamplesPerPixel",
        "NumberOfFrames",
        "PixelSpacing",
        "ImagerPixelSpacing",
        "EstimatedRadiographicMagnificationFactor",
        "Manufacturer",
        "ManufacturerModelName",
    ]
    out: dict[int, tuple[str, str]] = {}
    for name in names:
        tag = tag_for_keyword(name)
        if tag is not None:
            out[int(tag)] = (name, dictionary_VR(tag))
    return out


_WANTED = _keywords()
_BY_NAME = {name: tag for tag, (name, _) in _WANTED.items()}


class RawHeader:
    """The wanted top-level elements as raw bytes; ``get`` decodes like fields._get."""

    def __init__(
        self,
        values: dict[int, tuple[str, bytes]],
        little: bool,
        transfer_syntax: str,
        meta_sop_class: str,
    ) -> None:
        self._values = values
        self._little = little
        self.transfer_syntax = transfer_syntax
        self.meta_sop_class = meta_sop_class
        self._encodings: list[str] | None = None

    def has(self, keyword: str) -> bool:
        return _BY_NAME.get(keyword, -1) in self._values

    def _charset(self) -> list[str]:
        if self._encodings is None:
            raw = self._values.get(_BY_NAME["SpecificCharacterSet"], ("CS", b""))[1]
            terms = [t.strip() for t in raw.decode("ascii", "replace").split("\\")]
            terms = [t for t in terms if t] or ["ISO_IR 6"]
            try:
                self._encodings = convert_encodings(terms)
            except Exception:
                self._encodings = ["iso8859"]
        return self._encodings

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
            return struct.unpack(("<" if self._little else ">") + "H", raw[:2])[0]
        if vr in _CHARSET_VRS:
            try:
                if vr == "PN":  # pydicom's own rendering of the component groups
                    text = str(PersonName(raw.rstrip(b"\x00 "), self._charset()))
                else:
                    text = decode_bytes(raw, self._charset(), _TEXT_DELIMS)
            except Exception:
                text = raw.decode("latin-1")
            text = text.rstrip("\x00 ")
        else:
            text = raw.decode("ascii", "replace").strip("\x00 ")
        if not text:
            return default
        if vr in ("IS", "DS") and "\\" in text:
            return [part.strip() for part in text.split("\\")]
        return text


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


def file_meta(data: bytes) -> FileMeta:
    """Walk the File Meta elements after the preamble and 'DICM' (``data`` starts the file).

    The one parser of group 0002 (always explicit VR little endian, PS3.10 7.1): the fast
    header scan treats an ``overrun`` as malformed (pydicom judges the file); the safe reader
    uses the transfer syntax and its place to spot and rewrite deflated files (PS3.5 A.5).
    """
    pos, tsyntax, sop, ts_at, ts_len = 132, "", "", 0, 0
    overrun = False
    while pos + 8 <= len(data):
        group, element = struct.unpack_from("<HH", data, pos)
        if group != 0x0002:
            break
        vr = data[pos + 4 : pos + 6]
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
    return FileMeta(pos, tsyntax, sop, ts_at, ts_len, overrun)


def _skip_undefined(data: bytes, pos: int, implicit: bool, max_depth: int) -> int:
    """Position after an undefined-length value (a sequence of items), iteratively."""
    depth = 1
    # stack of "inside an item with undefined length" flags per level is not needed: any
    # element inside is parsed the same way; delimiters close the current level.
    while depth > 0:
        if pos + 8 > len(data):
            raise NeedMoreError
        group, element = struct.unpack_from("<HH", data, pos)
        tag = (group << 16) | element
        if tag in (_ITEM, _ITEM_END, _SEQ_END):
            (length,) = struct.unpack_from("<I", data, pos + 4)
            pos += 8
            if tag in (_SEQ_END, _ITEM_END):
                depth -= 1
            elif length == _UNDEFINED:
                depth += 1  # an item whose elements follow until its delimiter
            else:
                pos += length  # a defined-length item: skipped whole
            if depth > 2 * max_depth:
                raise _MalformedError("nesting")
            continue
        if implicit:
            (length,) = struct.unpack_from("<I", data, pos + 4)
            pos += 8
        else:
            vr = data[pos + 4 : pos + 6]
            if vr in _LONG:
                (length,) = struct.unpack_from("<I", data, pos + 8)
                pos += 12
            else:
                (length,) = struct.unpack_from("<H", data, pos + 6)
                pos += 8
        if length == _UNDEFINED:
            depth += 1  # a nested sequence
            if depth > 2 * max_depth:
                raise _MalformedError("nesting")
        else:
            pos += length
    return pos


def scan_header(data: bytes, *, complete: bool, max_depth: int) -> RawHeader | None:
    """Parse ``data`` (the start of a file, DICM preamble required); None = use pydicom.

    ``complete`` says ``data`` is the whole file; otherwise :class:`NeedMoreError` asks for
    more when the header goes on past it.
    """
    try:
        return _scan(data, max_depth, complete)
    except NeedMoreError:
        if complete:
            return None
        raise
    except (_MalformedError, struct.error, IndexError, ValueError, UnicodeError):
        return None


def _scan(data: bytes, max_depth: int, complete: bool) -> RawHeader | None:
    if len(data) < 140 or data[128:132] != b"DICM":
        return None
    meta = file_meta(data)
    if meta.overrun:
        raise _MalformedError("file meta")
    pos, tsyntax, meta_sop = meta.end, meta.transfer_syntax, meta.sop_class
    if not tsyntax or tsyntax in (EXPLICIT_BE, DEFLATED):
        return None
    implicit = tsyntax == IMPLICIT_LE
    values: dict[int, tuple[str, bytes]] = {}
    size = len(data)
    while pos + 8 <= size:
        group, element = struct.unpack_from("<HH", data, pos)
        if group > _LAST_GROUP:
            break
        tag = (group << 16) | element
        if tag == _SPECIES_CODES:
            # a coded species (veterinary imaging) is read by pydicom's path, which resolves it
            raise _MalformedError("coded species")
        if implicit:
            (length,) = struct.unpack_from("<I", data, pos + 4)
            value_at = pos + 8
            want = _WANTED.get(tag)
            vr = want[1] if want else ""
        else:
            raw_vr = data[pos + 4 : pos + 6]
            if not (raw_vr.isalpha() and raw_vr.isupper()):
                raise _MalformedError("VR")
            if raw_vr in _LONG:
                (length,) = struct.unpack_from("<I", data, pos + 8)
                value_at = pos + 12
            else:
                (length,) = struct.unpack_from("<H", data, pos + 6)
                value_at = pos + 8
            vr = raw_vr.decode("ascii")
            want = _WANTED.get(tag)
        if length == _UNDEFINED:
            if want and vr != "SQ":
                raise _MalformedError("undefined length on a wanted tag")
            pos = _skip_undefined(data, value_at, implicit or vr == "UN", max_depth)
            continue
        end = value_at + length
        if want:
            if end > size:
                raise NeedMoreError
            if vr == "SQ" or vr == "UN":
                vr = want[1]
            values[tag] = (vr, data[value_at:end])
        pos = end
    else:
        # Ran out of data before group 0028 ended: the file is a header only (it ends in
        # these groups), or it goes on past what we were given.
        if pos != size or not complete:
            raise NeedMoreError
    return RawHeader(values, True, tsyntax, meta_sop)
