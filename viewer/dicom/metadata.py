"""The typed metadata of one file (:class:`~viewer.dicom.model.ImageMetadata`) from its header.

Why its own module: the same ImageMetadata must come from two parsers, pydicom's Dataset
(:func:`metadata_from_dataset`) and the index's fast raw header scan (header.py,
:func:`fast_metadata`), so both go through one :func:`build_metadata` over a
:class:`~viewer.dicom.fields.FieldSource` (parity tested in tests/dicom/test_header.py). It also
decides what is an image: a pixel module (Rows, Columns, Bits Allocated, PS3.3 C.7.6.3) and not
a non-image object (SR, presentation state, key object selection, DICOMDIR). Pixel spacing
follows PS3.3 C.8.11.4 (Imager Pixel Spacing corrected by the magnification factor).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from viewer.dicom.dictionary import IMAGE_STORAGE_NAMES
from viewer.dicom.fields import (
    FieldSource,
    as_source,
    clean_text,
    field_int,
    field_text,
    field_uid,
    valid_uid,
)
from viewer.dicom.header import (
    EXPLICIT_BE,
    EXPLICIT_LE,
    IMPLICIT_LE,
    UNDEFINED_LENGTH,
    NeedMoreError,
    RawHeader,
    fragments_cut,
    scan_header,
)
from viewer.dicom.model import ImageMetadata, PixelSpacing
from viewer.dicom.safe_read import (
    CUT_SHORT,
    DEFAULT_LIMITS,
    Limits,
    check_file,
    quiet,
    read_dataset,
    short_error,
)
from viewer.errors import DicomError

if TYPE_CHECKING:  # pydicom is loaded only when a file needs it (issue 19)
    from pydicom.dataset import Dataset

# SOP classes / modalities that are listed but never opened as images.
NON_IMAGE_MODALITIES = frozenset({"SR", "PR", "KO", "DOC", "RTPLAN", "RTSTRUCT", "ECG", "REG"})
MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"


def _pixel_spacing(ds: Dataset | FieldSource) -> PixelSpacing | None:
    """Pixel Spacing (0028,0030), else Imager Pixel Spacing (0018,1164), corrected by the
    Estimated Radiographic Magnification Factor (0018,1114) when present (PS3.3 C.8.11.4)."""

    src = as_source(ds)

    def pair(keyword: str) -> tuple[float, float] | None:
        value = src.get(keyword)
        try:
            row, col = float(value[0]), float(value[1])
        except (TypeError, ValueError, IndexError, KeyError):
            return None
        if not (0 < row < 1e3 and 0 < col < 1e3):
            return None
        return row, col

    ps = pair("PixelSpacing")
    if ps:
        return PixelSpacing(ps[0], ps[1], "PixelSpacing")
    ips = pair("ImagerPixelSpacing")
    if not ips:
        return None
    try:
        factor = float(src.get("EstimatedRadiographicMagnificationFactor", 0) or 0)
    except (TypeError, ValueError):
        factor = 0.0
    if factor > 0 and factor != 1.0 and factor < 100:
        return PixelSpacing(ips[0] / factor, ips[1] / factor, "ImagerPixelSpacingCorrected")
    return PixelSpacing(ips[0], ips[1], "ImagerPixelSpacing")


def _transfer_syntax(ds: Dataset) -> str:
    meta = getattr(ds, "file_meta", None)
    tsyntax = field_uid(meta, "TransferSyntaxUID") if meta is not None else ""
    if tsyntax:
        return tsyntax
    # No file meta: pydicom worked out the encoding while reading.
    implicit, little = ds.is_implicit_VR, ds.is_little_endian
    if implicit:
        return IMPLICIT_LE
    return EXPLICIT_LE if little else EXPLICIT_BE


def metadata_from_dataset(ds: Dataset, path: str | Path) -> ImageMetadata:
    """The typed metadata of a parsed header (no pixel access)."""
    from pydicom.dataset import Dataset

    meta_sop = field_uid(getattr(ds, "file_meta", Dataset()), "MediaStorageSOPClassUID")
    meta = build_metadata(as_source(ds), path, _transfer_syntax(ds), meta_sop)
    if not meta.patient_species:
        coded = _species_code_meaning(ds)
        if coded:
            meta = replace(meta, patient_species=coded)
    return meta


def _species_code_meaning(ds: Dataset) -> str:
    """Code Meaning of the first Patient Species Code Sequence (0010,2202) item, or its Code
    Value when the meaning is empty (a species given only as a code is still a species)."""
    try:
        items = ds.get("PatientSpeciesCodeSequence") or []
        first = items[0] if len(items) else None
    except (TypeError, ValueError, IndexError, AttributeError):
        return "(coded species)" if "PatientSpeciesCodeSequence" in ds else ""
    if first is None:
        return ""
    text = field_text(as_source(first), "CodeMeaning") or field_text(as_source(first), "CodeValue")
    return text or "(coded species)"


def build_metadata(
    ds: FieldSource, path: str | Path, transfer_syntax: str, meta_sop_class: str
) -> ImageMetadata:
    """ImageMetadata from any field source (shared by the pydicom and the fast header path)."""
    sop_class = field_uid(ds, "SOPClassUID") or meta_sop_class
    modality = field_text(ds, "Modality").upper()
    rows = field_int(ds, "Rows") or 0
    columns = field_int(ds, "Columns") or 0
    has_pixel_module = ds.has("Rows") and ds.has("Columns") and ds.has("BitsAllocated")
    is_image = (
        has_pixel_module
        and modality not in NON_IMAGE_MODALITIES
        and sop_class != MEDIA_STORAGE_DIRECTORY
        and not sop_class.startswith("1.2.840.10008.5.1.4.1.1.88.")  # SR, KOS
        and not sop_class.startswith("1.2.840.10008.5.1.4.1.1.11.")  # presentation states
    )
    laterality = field_text(ds, "ImageLaterality") or field_text(ds, "Laterality")
    return ImageMetadata(
        path=str(path),
        sop_class_uid=sop_class,
        sop_instance_uid=field_uid(ds, "SOPInstanceUID"),
        study_instance_uid=field_uid(ds, "StudyInstanceUID"),
        series_instance_uid=field_uid(ds, "SeriesInstanceUID"),
        accession_number=field_text(ds, "AccessionNumber"),
        patient_id=field_text(ds, "PatientID"),
        patient_name=field_text(ds, "PatientName"),
        patient_birth_date=field_text(ds, "PatientBirthDate"),
        patient_sex=field_text(ds, "PatientSex"),
        study_date=field_text(ds, "StudyDate"),
        study_description=field_text(ds, "StudyDescription"),
        series_description=field_text(ds, "SeriesDescription"),
        series_number=field_int(ds, "SeriesNumber"),
        instance_number=field_int(ds, "InstanceNumber"),
        modality=modality,
        view_position=field_text(ds, "ViewPosition").upper(),
        laterality=laterality.upper(),
        body_part=field_text(ds, "BodyPartExamined").upper(),
        patient_species=field_text(ds, "PatientSpeciesDescription"),
        patient_orientation=field_text(ds, "PatientOrientation"),
        photometric=field_text(ds, "PhotometricInterpretation").upper(),
        bits_stored=field_int(ds, "BitsStored") or 0,
        bits_allocated=field_int(ds, "BitsAllocated") or 0,
        pixel_representation=field_int(ds, "PixelRepresentation") or 0,
        rows=rows,
        columns=columns,
        samples_per_pixel=field_int(ds, "SamplesPerPixel") or 1,
        number_of_frames=field_int(ds, "NumberOfFrames") or 1,
        pixel_spacing=_pixel_spacing(ds),
        manufacturer=field_text(ds, "Manufacturer"),
        model_name=field_text(ds, "ManufacturerModelName"),
        transfer_syntax_uid=transfer_syntax,
        is_image=bool(is_image),
    )


_FAST_HEAD = 64 * 1024


def raw_header(path: Path, limits: Limits) -> RawHeader | None:
    """The fast reader's walk of the file (header.py), even when its values are not ``exact``
    or the file is ``cut``; None when only pydicom can read it (no preamble, deflated, big
    endian, malformed). Raises DicomError for what the safe reader refuses before parsing."""
    checked = check_file(path, limits, head_size=_FAST_HEAD)
    if checked.force or checked.deflated:
        return None
    data, complete = checked.head, checked.complete
    last = _last
    if last is not None and last[2] == limits and data.startswith(last[0]):
        # the same bytes up to Pixel Data's value as the file before (a copy, or a series
        # written alike), under the same limits: the same walk, which is not repeated
        hit = copy.copy(last[1])
        hit.file_size = len(data) if complete else checked.size
        return hit
    header: RawHeader | None
    try:
        header = scan_header(
            data, complete=complete, max_depth=limits.max_sequence_depth, meta=checked.meta
        )
    except NeedMoreError:
        try:
            with path.open("rb") as fh:
                data = fh.read(limits.max_header_bytes)
        except OSError:
            return None
        complete = len(data) < limits.max_header_bytes
        try:
            header = scan_header(data, complete=complete, max_depth=limits.max_sequence_depth)
        except NeedMoreError:
            return None
    if header is not None:
        header.file_size = len(data) if complete else checked.size
        _remember(header, data, limits)
    return header


#: the last walked header's bytes up to Pixel Data's value, its walk, the limits it was walked
#: under and, once built, its metadata (the path aside): a folder of copies (bench_cli_parity:
#: 1,000 real-size copies) or of one series written by one device repeats them; one entry,
#: replaced whole (threads read it safely)
_last: tuple[bytes, RawHeader, Limits, ImageMetadata | None] | None = None


def _remember(header: RawHeader, data: bytes, limits: Limits) -> None:
    global _last
    pixel = header.pixel
    if header.exact and pixel is not None and pixel.value_at > 0:
        header.key = data[: pixel.value_at]
        _last = (header.key, header, limits, None)


def _built(header: RawHeader, path: Path, tsyntax: str, meta_sop: str) -> ImageMetadata:
    """:func:`build_metadata`, or the last file's metadata when its header bytes were these."""
    global _last
    last = _last
    if not header.key or last is None or last[0] is not header.key:
        return build_metadata(header, path, tsyntax, meta_sop)
    if last[3] is not None:
        return replace(last[3], path=str(path))
    meta = build_metadata(header, path, tsyntax, meta_sop)
    _last = (last[0], last[1], last[2], meta)
    return meta


def fast_metadata(
    path: Path, limits: Limits, header: RawHeader | None = None
) -> ImageMetadata | None:
    """The index's fast path (viewer.dicom.header); None when pydicom must judge the file.
    ``header``: the file's :func:`raw_header` when the caller has it already."""
    found = fast_header(path, limits, header)
    return None if found is None else found[1]


def fast_header(
    path: Path, limits: Limits, header: RawHeader | None = None
) -> tuple[RawHeader, ImageMetadata] | None:
    """The raw header and its metadata without pydicom; None when pydicom must judge the file
    (the metadata path and the pydicom-free render, viewer.dicom.direct, share it)."""
    if header is None:
        header = raw_header(path, limits)
    if header is None or not header.exact:
        return None
    # cleaned as field_uid cleans pydicom's value of (0002,0002): control characters dropped
    meta_sop = valid_uid(clean_text(header.meta_sop_class))
    tsyntax = header.transfer_syntax
    if len(tsyntax) > 64 or not tsyntax.replace(".", "").isdigit():
        return None
    return header, _built(header, path, tsyntax, meta_sop)


def read_metadata(
    path: str | Path, *, limits: Limits = DEFAULT_LIMITS, check_pixels: bool = False
) -> ImageMetadata:
    """Header-only read (Pixel Data never touched), limits applied; raises DicomError.

    Here, not in reader.py, so that ``bedside dicom info``/``scan`` and the index load neither
    numpy nor pydicom for an ordinary file (the fast path above; issue 19). ``check_pixels``
    (the index, ``dicom info``, read_image): a file cut short, whose Pixel Data is shorter
    than its header declares (:func:`pixel_data_problem`), or an image class without a usable
    Image Pixel module (:func:`incomplete_image_message`) is refused with the words opening it
    would use, before it is listed as an image."""
    p = Path(path)
    header = None
    if check_pixels:
        header = raw_header(p, limits)
        problem = None if header is None else pixel_data_problem(p, header)
        if problem:
            raise DicomError(problem, path=p)
    meta = fast_metadata(p, limits, header)  # no pydicom, nothing to quiet
    if meta is None:
        notes: list[str] = []
        with quiet(notes):
            ds = read_dataset(path, header_only=True, limits=limits, notes=notes)
            try:
                meta = metadata_from_dataset(ds, path)
            except Exception as exc:
                raise DicomError(
                    f"has an unreadable header: {short_error(exc)}", path=path
                ) from exc
    problem = incomplete_image_message(meta) if check_pixels else None
    if problem:  # an image class cut (or written) without its Image Pixel module
        raise DicomError(problem, path=p)
    return meta


_NATIVE = (IMPLICIT_LE, EXPLICIT_LE)  # the fast reader's native syntaxes (PS3.5 A.1, A.2)


_HALF_CHROMA = ("YBR_FULL_422", "YBR_PARTIAL_422")  # horizontally subsampled chroma


def expected_pixel_bytes(header: RawHeader) -> int | None:
    """Native Pixel Data size: Rows x Columns x Samples per Pixel x Number of Frames x Bits
    Allocated / 8 (YBR_FULL_422: two samples a pixel), a Bits Allocated of 1 packed eight
    pixels a byte (PS3.5 8.1.1, 8.2); None
    without a usable Image Pixel module (PS3.3 C.7.6.3) or for another Bits Allocated. Read
    as field_int reads (an integer, else absent), straight from the raw header: once a file."""
    get = header.get
    numbers = []
    for keyword in ("Rows", "Columns", "BitsAllocated", "SamplesPerPixel", "NumberOfFrames"):
        try:
            numbers.append(int(get(keyword, 0)))
        except (TypeError, ValueError):
            numbers.append(0)
    rows, columns, bits, samples, frames = numbers
    if rows <= 0 or columns <= 0 or bits <= 0 or (bits != 1 and bits % 8):
        return None
    if str(get("PhotometricInterpretation", "")).strip(" \x00") in _HALF_CHROMA and samples == 3:
        samples = 2  # Cb and Cr once for two pixels: Y Y Cb Cr (PS3.3 C.7.6.3.1.2)
    count = rows * columns * max(samples, 1) * max(frames, 1)
    return -(-count // 8) if bits == 1 else count * (bits // 8)


def pixel_data_problem(path: Path, header: RawHeader) -> str | None:
    """What is missing from a file the fast reader walked, in the words opening it uses
    (reader.read_image), or None: cut short inside its header, image or not (or inside encapsulated
    fragments, whose item lengths are followed, PS3.5 A.4), no Pixel Data (7FE0,0010), native
    Pixel Data shorter than its declared image size, or declared longer than the file holds.
    A file longer than its Pixel Data (trailing padding, PS3.10 7.2) is fine."""
    if header.cut:  # an image or not: its values end mid-element, the last one maybe cut
        return CUT_SHORT
    expected = expected_pixel_bytes(header)
    if expected is None:
        return None  # not an image (yet): incomplete_image_message, or pydicom, judges
    pixel = header.pixel
    if pixel is None:
        return "has no Pixel Data (7FE0,0010)" if header.pixel_at < 0 else None
    size = header.file_size
    available = max(size - pixel.value_at, 0) if pixel.value_at >= 0 else 0
    if header.transfer_syntax not in _NATIVE:
        if pixel.value_at < 0:
            return CUT_SHORT
        if pixel.length != UNDEFINED_LENGTH:
            return None  # encapsulated with a defined length: the decoder judges
        try:
            with path.open("rb") as fh:
                cut = fragments_cut(fh, pixel.value_at, size)
        except OSError:
            return None  # opening it says why
        return CUT_SHORT if cut else None
    if pixel.length == UNDEFINED_LENGTH and pixel.value_at >= 0:
        return None  # native with an undefined length: pydicom's message
    got = min(pixel.length, available)
    if got < expected:
        return f"has truncated pixel data ({got} of {expected} bytes)"
    if pixel.length > available:
        return (
            f"has truncated pixel data ({available} of the {pixel.length} bytes its Pixel Data "
            "(7FE0,0010) declares)"
        )
    return None


def incomplete_image_message(meta: ImageMetadata) -> str | None:
    """An image SOP class without a usable Image Pixel module (truncated or broken header)."""
    if meta.is_image:
        return None
    name = IMAGE_STORAGE_NAMES.get(meta.sop_class_uid)
    if name is None:
        return None
    return (
        f"is an image object ({name}) without a usable Image Pixel module (Rows, Columns or "
        "Bits Allocated missing: truncated or broken header)"
    )


def check_image_size(meta: ImageMetadata, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse, before any pixel allocation, an image Bedside will not or must not decode: its
    declared size (Rows x Columns x frames x samples x bytes, PS3.3 C.7.6.3) over the limits,
    Bits Allocated/Stored it cannot hold, colour, several frames. Part of
    ``reader.check_image_header``; pydicom-free for the direct render (viewer.dicom.direct)."""
    path = meta.path
    if meta.rows <= 0 or meta.columns <= 0:
        raise DicomError("has no valid Rows (0028,0010) / Columns (0028,0011)", path=path)
    if meta.rows > limits.max_dimension or meta.columns > limits.max_dimension:
        raise DicomError(
            f"declares {meta.rows} x {meta.columns} pixels, larger than the "
            f"{limits.max_dimension} x {limits.max_dimension} limit; refused",
            path=path,
        )
    if meta.rows * meta.columns > limits.max_pixels:
        raise DicomError(
            f"declares {meta.rows} x {meta.columns} pixels "
            f"({meta.rows * meta.columns / 1e6:.0f} megapixels), more than the "
            f"{limits.max_pixels / 1e6:.0f} megapixel limit for one radiograph; refused",
            path=path,
        )
    if meta.bits_allocated not in (8, 16, 32):
        raise DicomError(
            f"has Bits Allocated (0028,0100) = {meta.bits_allocated}; only 8, 16 or 32 bits are "
            "supported",
            path=path,
        )
    if not 1 <= meta.bits_stored <= meta.bits_allocated:
        raise DicomError(
            f"has Bits Stored (0028,0101) = {meta.bits_stored} with Bits Allocated "
            f"{meta.bits_allocated}; invalid",
            path=path,
        )
    if meta.pixel_representation not in (0, 1):  # PS3.3 C.7.6.3.1.1 (pydicom's words otherwise)
        raise DicomError(
            f"has Pixel Representation (0028,0103) = {meta.pixel_representation}; only 0 "
            "(unsigned) or 1 (two's complement) exist",
            path=path,
        )
    if meta.number_of_frames < 0:  # PS3.3 C.7.6.6: a count (0 is read as one frame)
        raise DicomError(
            f"has Number of Frames (0028,0008) = {meta.number_of_frames}; a count of frames "
            "cannot be negative",
            path=path,
        )
    frames = max(meta.number_of_frames, 1)
    total = meta.rows * meta.columns * frames * max(meta.samples_per_pixel, 1)
    total *= meta.bits_allocated // 8
    if total > limits.max_pixel_bytes:
        raise DicomError(
            f"declares {total / 2**20:.0f} MiB of pixel data ({meta.rows} x {meta.columns} x "
            f"{frames} frames), above the {limits.max_pixel_bytes / 2**20:.0f} MiB limit; refused",
            path=path,
        )
    if meta.photometric not in ("MONOCHROME1", "MONOCHROME2") or meta.samples_per_pixel != 1:
        raise DicomError(
            f"is a colour image ({meta.photometric or 'unknown'}, {meta.samples_per_pixel} "
            "samples per pixel); Bedside shows greyscale radiographs only",
            path=path,
        )
    if frames > 1:
        raise DicomError(
            f"is a multi-frame image ({frames} frames); Bedside shows single-frame radiographs "
            "only",
            path=path,
        )
