"""Field access: one element's value as text, UID or integer, never an exception.

Why its own module: the metadata (metadata.py) and the deflate budget of the safe reader
(safe_read.py) read fields from two kinds of source, a pydicom Dataset or the fast raw header
scan (header.py), through one :class:`FieldSource` protocol, so both give the same values.
Everything here is defensive: a missing, empty or unconvertible value is the default, text is
bounded (``_MAX_TEXT``) with control characters dropped, and a UID that is not digits and dots
of at most 64 characters (PS3.5 9.1) is "".
"""

from __future__ import annotations

import functools
import struct
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pydicom.dataelem import RawDataElement
    from pydicom.dataset import Dataset

_MAX_TEXT = 1024

# VRs whose raw bytes we decode ourselves (ASCII only, no character set involved): pydicom's
# general conversion is most of the cost of a header-only read, and the index must do
# >= 1,000 files/s. Text VRs affected by Specific Character Set (PN, LO, SH ...) go through
# pydicom.
_ASCII_VRS = frozenset({"UI", "CS", "DA", "IS", "DS", "AS", "TM", "DT"})


@functools.lru_cache(maxsize=256)
def _tag_and_vr(keyword: str) -> tuple[int, str]:
    from pydicom.datadict import dictionary_VR, tag_for_keyword

    tag = tag_for_keyword(keyword)
    if tag is None:  # pragma: no cover - our own keywords
        raise KeyError(keyword)
    return tag, dictionary_VR(tag)


def _raw_value(elem: RawDataElement, vr: str) -> Any:
    raw = elem.value
    if not raw:
        return None
    if not isinstance(raw, bytes):  # pragma: no cover - already a value
        return raw
    if vr == "US":
        if len(raw) < 2:
            return None
        return struct.unpack(("<" if elem.is_little_endian else ">") + "H", raw[:2])[0]
    text = raw[: _MAX_TEXT * 4].decode("ascii", "replace").strip("\x00 ")
    if vr in ("IS", "DS") and "\\" in text:
        return [part.strip() for part in text.split("\\")]
    return text


def _get(ds: Dataset, keyword: str, default: Any = None) -> Any:
    """Element value, or ``default`` when absent, empty or not convertible."""
    from pydicom.dataelem import RawDataElement

    try:
        tag, dict_vr = _tag_and_vr(keyword)
        elem = ds.get_item(tag)
        if elem is None:
            return default
        if isinstance(elem, RawDataElement):
            vr = str(elem.VR or dict_vr)
            if vr in _ASCII_VRS or vr == "US":
                value = _raw_value(elem, vr)
                return default if value is None or value == "" else value
        value = ds.get(keyword, default)
    except Exception:
        return default
    if value is None or value == "":
        return default
    return value


class FieldSource(Protocol):
    """Where metadata fields come from: a pydicom Dataset or our fast raw header scan."""

    def get(self, keyword: str, default: Any = None) -> Any: ...

    def has(self, keyword: str) -> bool: ...


class _DatasetSource:
    def __init__(self, ds: Dataset) -> None:
        self.ds = ds

    def get(self, keyword: str, default: Any = None) -> Any:
        return _get(self.ds, keyword, default)

    def has(self, keyword: str) -> bool:
        return keyword in self.ds


def as_source(ds: Dataset | FieldSource) -> FieldSource:
    """``ds`` as a FieldSource (a Dataset is wrapped; a source is itself).

    A Dataset exists only once pydicom is loaded, so the fast header path (which never loads
    it) does not pay for the check's import."""
    dataset = sys.modules.get("pydicom.dataset")
    if dataset is not None and isinstance(ds, dataset.Dataset):
        return _DatasetSource(ds)
    return ds


def field_text(ds: Dataset | FieldSource, keyword: str) -> str:
    """Printable text of an element (control characters dropped, length bounded)."""
    return clean_text(as_source(ds).get(keyword, ""))


def clean_text(value: Any) -> str:
    """A value as :func:`field_text` gives it (also for values read outside a data set)."""
    if type(value) is str:  # the common case, first: ~20 calls a file while indexing
        text = value
    elif isinstance(value, bytes):
        text = value.decode("ascii", "replace")
    elif isinstance(value, str):  # pydicom's str subclasses (UID ...)
        text = str(value)
    elif isinstance(value, Sequence):  # list, tuple, pydicom's MultiValue
        text = "\\".join(str(v) for v in value)
    else:
        text = str(value)
    text = text[: _MAX_TEXT * 2]
    if not text.isprintable():
        text = "".join(ch for ch in text if ch.isprintable())
    return text.strip("\x00 ")[:_MAX_TEXT]


def field_uid(ds: Dataset | FieldSource, keyword: str) -> str:
    """A UID (PS3.5 9.1: digits and dots, at most 64 characters), or "" when invalid."""
    return valid_uid(field_text(ds, keyword))


def valid_uid(text: str) -> str:
    """``text`` (already :func:`clean_text`) when it is a UID, else ""."""
    if len(text) > 64 or not text.replace(".", "").isdigit():
        return ""
    return text


def field_int(ds: Dataset | FieldSource, keyword: str) -> int | None:
    """An integer element (IS, US ...), or None when absent or not an integer."""
    value = as_source(ds).get(keyword)
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
