"""Opening files: limits before allocation, broken and hostile input, syntaxes, metadata."""

from __future__ import annotations

import io
import re
import struct
import tracemalloc
from pathlib import Path

import imagecodecs
import numpy as np
import pydicom
import pytest
from pydicom import uid
from pydicom.encaps import encapsulate

from tests.dicom.helpers import make_ds, save
from viewer.dicom import Limits, read_image, read_metadata
from viewer.dicom.codecs import decoder_order
from viewer.dicom.synthetic import make_cxr
from viewer.errors import DicomError


def _bytes_of(ds: pydicom.Dataset) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


# --- Limits before allocation ----------------------------------------------------------------


def test_huge_declared_image_in_a_tiny_file_is_refused_before_allocation(tmp_path: Path) -> None:
    ds = make_ds(np.zeros((2, 2), dtype=np.uint16))
    ds.Rows = 65535
    ds.Columns = 65535
    path = save(ds, tmp_path / "huge.dcm")
    assert path.stat().st_size < 2048
    tracemalloc.start()
    try:
        with pytest.raises(DicomError, match=r"65535 x 65535 pixels, larger than the 12000"):
            read_image(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20


def test_declared_bytes_over_the_limit(tmp_path: Path) -> None:
    ds = make_ds(np.zeros((2, 2), dtype=np.uint16))
    ds.Rows = ds.Columns = 4000
    ds.NumberOfFrames = 8
    with pytest.raises(DicomError, match=r"244 MiB of pixel data .* above the 192 MiB limit"):
        read_image(save(ds, tmp_path / "frames.dcm"))


def test_file_size_limit(tmp_path: Path, ramp16: np.ndarray) -> None:
    path = save(make_ds(ramp16), tmp_path / "a.dcm")
    with pytest.raises(DicomError, match=r"larger than the .* limit for one DICOM file"):
        read_metadata(path, limits=Limits(max_file_bytes=1000))


def _nested_file(tmp_path: Path, depth: int, tag: tuple[int, int] = (0x0040, 0xA730)) -> Path:
    """A header ending in a sequence nested ``depth`` levels (undefined lengths); by default
    the Content Sequence (0040,A730)."""
    ds = make_ds(np.zeros((2, 2), dtype=np.uint8))
    del ds.PixelData
    for keyword in ("Rows", "Columns", "BitsAllocated", "BitsStored", "HighBit"):
        delattr(ds, keyword)
    if tag[0] <= 0x0020:
        for keyword in ("StudyInstanceUID", "SeriesInstanceUID"):
            delattr(ds, keyword)
    head = _bytes_of(ds)
    seq_start = struct.pack("<HH2sHI", tag[0], tag[1], b"SQ", 0, 0xFFFFFFFF)
    item_start = struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
    item_end = struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
    seq_end = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    body = (seq_start + item_start) * depth + (item_end + seq_end) * depth
    path = tmp_path / f"nested{depth}.dcm"
    path.write_bytes(head + body)
    return path


@pytest.mark.parametrize("depth", [70, 5000], ids=["over-limit", "recursion-bomb"])
def test_deep_sequence_nesting_refused(tmp_path: Path, depth: int) -> None:
    with pytest.raises(DicomError, match="nested"):
        read_image(_nested_file(tmp_path, depth))


@pytest.mark.parametrize("depth", [70, 5000], ids=["over-limit", "recursion-bomb"])
def test_deep_nesting_in_the_indexed_groups_refused(tmp_path: Path, depth: int) -> None:
    # (0020,000D) is parsed by the index's fast header reader: the nesting is refused there
    # too (the fast reader hands the file to pydicom, which applies the limit).
    with pytest.raises(DicomError, match="nested"):
        read_metadata(_nested_file(tmp_path, depth, tag=(0x0020, 0x000D)))


def test_index_refuses_deep_nesting_after_the_fields_it_shows(tmp_path: Path) -> None:
    # Group 0040 is after everything the index shows, but the header fast path walks every
    # element up to Pixel Data as pydicom's header-only read does, so listing refuses the file
    # as opening does (and both paths say the same, tests/cli/test_fast_header_parity.py).
    with pytest.raises(DicomError, match="nested too deeply"):
        read_metadata(_nested_file(tmp_path, 5000))


def test_moderate_nesting_allowed(tmp_path: Path) -> None:
    meta = read_metadata(_nested_file(tmp_path, 10))
    assert meta.patient_id == "T1" and not meta.is_image


# --- Broken input ----------------------------------------------------------------------------


def test_truncated_pixel_data(tmp_path: Path, ramp16: np.ndarray) -> None:
    data = _bytes_of(make_ds(ramp16))
    path = tmp_path / "cut.dcm"
    path.write_bytes(data[:-100])
    with pytest.raises(DicomError, match=r"truncated pixel data \(8092 of 8192 bytes\)"):
        read_image(path)


def test_truncated_header(tmp_path: Path, ramp16: np.ndarray) -> None:
    data = _bytes_of(make_ds(ramp16))
    path = tmp_path / "cut.dcm"
    path.write_bytes(data[:200])
    with pytest.raises(DicomError) as info:
        read_image(path)
    assert str(path) in str(info.value)


def test_missing_rows(tmp_path: Path, ramp16: np.ndarray) -> None:
    ds = make_ds(ramp16)
    del ds.Rows
    with pytest.raises(DicomError, match=r"Computed Radiography .* without a usable Image Pixel"):
        read_image(save(ds, tmp_path / "norows.dcm"))


def test_invalid_vr_bytes(tmp_path: Path, ramp16: np.ndarray) -> None:
    data = _bytes_of(make_ds(ramp16))
    pos = data.index(b"\x08\x00\x60\x00CS")  # Modality (0008,0060) CS
    broken = data[: pos + 4] + b"\x01\x02" + data[pos + 6 :]
    path = tmp_path / "badvr.dcm"
    path.write_bytes(broken)
    with pytest.raises(DicomError):
        read_image(path)


def test_colour_refused(tmp_path: Path) -> None:
    ds = make_ds(np.zeros((4, 4), dtype=np.uint8))
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.PixelData = bytes(48)
    with pytest.raises(DicomError, match=r"colour image .*RGB.*greyscale radiographs only"):
        read_image(save(ds, tmp_path / "rgb.dcm"))


def test_multiframe_refused_with_frame_count(tmp_path: Path) -> None:
    ds = make_ds(np.zeros((8, 4), dtype=np.uint8))
    ds.Rows = 4
    ds.NumberOfFrames = 2
    with pytest.raises(DicomError, match=r"multi-frame image \(2 frames\)"):
        read_image(save(ds, tmp_path / "mf.dcm"))


@pytest.mark.parametrize(
    "content",
    [b"", b"hello world, not dicom at all" * 10, b"\x89PNG\r\n\x1a\n" + bytes(200), bytes(300)],
    ids=["empty", "text", "png", "zeros"],
)
def test_non_dicom(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.dcm"
    path.write_bytes(content)
    with pytest.raises(DicomError, match="is not a DICOM file"):
        read_metadata(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DicomError, match="is not a file"):
        read_image(tmp_path / "nope.dcm")
    with pytest.raises(DicomError, match="is not a file"):
        read_image(tmp_path)


@pytest.mark.parametrize(
    ("tsyntax", "fragment"),
    [
        ("1.2.840.10008.1.2.4.100", "MPEG2 Main Profile / Main Level .* is not supported"),
        ("1.2.3.4", "'1.2.3.4' is not a known DICOM transfer syntax"),
    ],
    ids=["mpeg2", "unknown"],
)
def test_unsupported_syntax_named(tmp_path: Path, tsyntax: str, fragment: str) -> None:
    ds = make_ds(np.zeros((4, 4), dtype=np.uint8))
    ds.file_meta.TransferSyntaxUID = tsyntax
    ds.PixelData = encapsulate([b"\x00" * 16])
    ds["PixelData"].VR = "OB"
    path = tmp_path / "ts.dcm"
    pydicom.dcmwrite(path, ds, enforce_file_format=True, little_endian=True, implicit_vr=False)
    with pytest.raises(DicomError, match=fragment):
        read_image(path)


# --- Files without preamble / file meta (old CR exports) -------------------------------------


@pytest.mark.parametrize(
    ("implicit", "little"),
    [(True, True), (False, True), (False, False)],
    ids=["implicit-le", "explicit-le", "explicit-be"],
)
def test_no_preamble_no_meta(
    tmp_path: Path, ramp16: np.ndarray, implicit: bool, little: bool
) -> None:
    ds = make_ds(ramp16, bits_stored=12)
    del ds.file_meta
    ds.preamble = None
    if not little:
        ds.PixelData = ramp16.astype(">u2").tobytes()
    path = tmp_path / "raw.dcm"
    pydicom.dcmwrite(
        path, ds, implicit_vr=implicit, little_endian=little, enforce_file_format=False
    )
    assert path.read_bytes()[:2] == (b"\x08\x00" if little else b"\x00\x08")
    img = read_image(path)
    assert np.array_equal(img.stored, ramp16)
    assert img.stored.dtype.isnative


# --- Compressed syntaxes decode to the exact stored values -----------------------------------


def _encapsulated(arr: np.ndarray, frame: bytes, tsyntax: str, tmp_path: Path) -> Path:
    ds = make_ds(arr, bits_stored=12)
    ds.file_meta.TransferSyntaxUID = tsyntax
    ds.PixelData = encapsulate([frame])
    ds["PixelData"].VR = "OB"
    path = tmp_path / "enc.dcm"
    pydicom.dcmwrite(path, ds, enforce_file_format=True, little_endian=True, implicit_vr=False)
    return path


@pytest.fixture
def noise12() -> np.ndarray:
    return np.random.default_rng(7).integers(0, 4096, size=(48, 40)).astype(np.uint16)


@pytest.mark.parametrize(
    "tsyntax",
    [uid.RLELossless, uid.JPEGLSLossless, uid.JPEG2000Lossless],
    ids=["rle", "jpeg-ls", "j2k"],
)
def test_pydicom_encoded_syntaxes_roundtrip(
    tmp_path: Path, noise12: np.ndarray, tsyntax: str
) -> None:
    ds = make_ds(noise12, bits_stored=12)
    ds.compress(tsyntax)
    path = save(ds, tmp_path / "c.dcm")
    assert np.array_equal(read_image(path).stored, noise12)


def test_jpeg_lossless_sv1(tmp_path: Path, noise12: np.ndarray) -> None:
    frame = imagecodecs.ljpeg_encode(noise12, bitspersample=12)
    path = _encapsulated(noise12, frame, uid.JPEGLosslessSV1, tmp_path)
    assert np.array_equal(read_image(path).stored, noise12)


def test_jpeg_extended_12bit_through_our_plugin(tmp_path: Path, noise12: np.ndarray) -> None:
    smooth = (np.add.outer(np.arange(48), np.arange(40)) * 40).astype(np.uint16)
    frame = imagecodecs.jpeg8_encode(smooth, level=95, bitspersample=12)
    path = _encapsulated(smooth, frame, uid.JPEGExtended12Bit, tmp_path)
    img = read_image(path)
    assert img.stored.dtype == np.uint16
    assert np.abs(img.stored.astype(int) - smooth).max() < 60  # lossy, but 12-bit


# --- Metadata ---------------------------------------------------------------------------------


def test_metadata_from_synthetic_cr(tmp_path: Path) -> None:
    ds = make_cxr(3, opacity=False, modality="CR", photometric="MONOCHROME1", size=(64, 48))
    path = tmp_path / "cr.dcm"
    ds.save_as(path, enforce_file_format=True)
    meta = read_metadata(path)
    assert (meta.modality, meta.photometric, meta.rows, meta.columns) == (
        "CR",
        "MONOCHROME1",
        64,
        48,
    )
    assert meta.is_image and meta.bits_stored == 12 and meta.view_position == "PA"
    assert meta.pixel_spacing is not None
    assert meta.transfer_syntax_uid == uid.ExplicitVRLittleEndian
    assert meta.sop_instance_uid == ds.SOPInstanceUID
    assert meta.path == str(path)


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        ({"PixelSpacing": [0.2, 0.3]}, (0.2, 0.3, "PixelSpacing")),
        (
            {"PixelSpacing": [0.2, 0.2], "ImagerPixelSpacing": [0.15, 0.15]},
            (0.2, 0.2, "PixelSpacing"),
        ),
        ({"ImagerPixelSpacing": [0.15, 0.15]}, (0.15, 0.15, "ImagerPixelSpacing")),
        (
            {"ImagerPixelSpacing": [0.15, 0.125], "EstimatedRadiographicMagnificationFactor": 1.25},
            (0.12, 0.1, "ImagerPixelSpacingCorrected"),
        ),
        ({}, None),
        ({"PixelSpacing": [0, 0]}, None),
    ],
    ids=["ps", "ps-wins", "ips", "ips-corrected", "none", "zero"],
)
def test_pixel_spacing_source(
    tmp_path: Path, ramp16: np.ndarray, attrs: dict[str, object], expected: tuple | None
) -> None:
    meta = read_metadata(save(make_ds(ramp16, **attrs), tmp_path / "ps.dcm"))
    if expected is None:
        assert meta.pixel_spacing is None
    else:
        ps = meta.pixel_spacing
        assert ps is not None
        assert (ps.row_mm, ps.col_mm, ps.source) == pytest.approx(expected)


def test_header_keeps_no_pixel_data(tmp_path: Path, ramp16: np.ndarray) -> None:
    img = read_image(save(make_ds(ramp16), tmp_path / "a.dcm"))
    assert "PixelData" not in img.header
    assert img.header.PatientID == "T1"


@pytest.mark.parametrize("charset", ["ISO_IR 100", "ISO_IR 144"], ids=["fast-path", "pydicom"])
def test_large_element_before_pixel_data_is_read(
    tmp_path: Path, ramp16: np.ndarray, charset: str
) -> None:
    """A value over the 64 KiB deferral size (a vendor's private header) before Pixel Data: the
    header-only pass left it unread, then read it back from its closed file and refused a valid
    file as damaged; listed and opened now, by either header path."""
    ds = make_ds(ramp16, SpecificCharacterSet=charset)
    ds.add_new(0x00191010, "OB", bytes(100_000))
    path = save(ds, tmp_path / "large.dcm")
    assert read_metadata(path).patient_id == "T1"
    img = read_image(path)
    assert img.stored.shape == ramp16.shape and len(img.header[0x00191010].value) == 100_000


def test_jpeg_lossless_process14_other_predictor(tmp_path: Path, noise12: np.ndarray) -> None:
    frame = imagecodecs.jpeg8_encode(noise12, lossless=True, predictor=6, bitspersample=12)
    path = _encapsulated(noise12, frame, uid.JPEGLossless, tmp_path)
    assert np.array_equal(read_image(path).stored, noise12)


@pytest.mark.parametrize(
    "tsyntax",
    [uid.JPEG2000Lossless, uid.JPEG2000, uid.JPEGLSLossless, uid.JPEGLossless, uid.RLELossless],
    ids=["j2k-lossless", "j2k", "jpeg-ls", "jpeg-lossless", "rle"],
)
def test_gdcm_is_never_the_first_decoder(tsyntax: str) -> None:
    # python-gdcm abort()s the process on some corrupt streams (found by the fuzz test).
    order = decoder_order(tsyntax)
    assert order and order[0] != "gdcm" and "gdcm" not in order


def test_corrupt_compressed_data_is_a_dicom_error(tmp_path: Path, noise12: np.ndarray) -> None:
    ds = make_ds(noise12, bits_stored=12)
    ds.compress(uid.RLELossless)
    path = save(ds, tmp_path / "rle.dcm")
    data = bytearray(path.read_bytes())
    start = data.index(b"\xe0\x7f\x10\x00") + 40  # inside the RLE header / first segment
    data[start : start + 40] = b"\xff" * 40
    path.write_bytes(bytes(data))
    with pytest.raises(DicomError, match="pixel data could not be decoded"):
        read_image(path)


def test_element_bomb_header_refused(tmp_path: Path) -> None:
    """Millions of tiny elements would parse for minutes: the header read is bounded."""
    ds = make_ds(np.zeros((2, 2), dtype=np.uint8))
    del ds.PixelData
    head = _bytes_of(ds)
    # 20,000 empty private elements (0009,xxxx) in group order after the 0008 group... placed
    # at the end as group 0x0099 (explicit VR 'UN' would need 12 bytes; 'LO' empty is 8).
    body = b"".join(struct.pack("<HH2sH", 0x0099, 0x1000 + i, b"LO", 0) for i in range(20000))
    path = tmp_path / "bomb.dcm"
    path.write_bytes(head + body)
    with pytest.raises(DicomError, match=r"header .* larger than 0 MiB; refused"):
        read_image(path, limits=Limits(max_header_bytes=64 * 1024))
    # Within the default limit the same file is fine (it is only unusual).
    assert read_metadata(path).patient_id == "T1"


def test_element_bomb_in_indexed_groups_refused(tmp_path: Path) -> None:
    ds = make_ds(np.zeros((2, 2), dtype=np.uint8))
    del ds.PixelData
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "Rows", "Columns"):
        delattr(ds, keyword)
    for keyword in ("BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation"):
        delattr(ds, keyword)
    for keyword in ("SamplesPerPixel", "PhotometricInterpretation"):
        delattr(ds, keyword)
    head = _bytes_of(ds)
    body = b"".join(struct.pack("<HH2sH", 0x0019, 0x1000 + i, b"LO", 0) for i in range(20000))
    path = tmp_path / "bomb19.dcm"
    path.write_bytes(head + body)
    with pytest.raises(DicomError, match=r"header .* larger than 0 MiB; refused"):
        read_metadata(path, limits=Limits(max_header_bytes=64 * 1024))


def test_deflate_bomb_refused(tmp_path: Path) -> None:
    import zlib

    ds = make_ds(np.zeros((2, 2), dtype=np.uint8))
    ds.file_meta.TransferSyntaxUID = uid.DeflatedExplicitVRLittleEndian
    data = _bytes_of(ds)
    assert data[132:138] == b"\x02\x00\x00\x00UL"  # (0002,0000) File Meta Group Length
    meta_end = 144 + struct.unpack_from("<I", data, 140)[0]
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    bomb = compressor.compress(bytes(40 * 2**20)) + compressor.flush()
    path = tmp_path / "deflate.dcm"
    path.write_bytes(data[:meta_end] + bomb)
    assert path.stat().st_size < 100_000
    with pytest.raises(DicomError, match="is deflated and inflates beyond 1 MiB, more than"):
        read_metadata(path, limits=Limits(max_deflate_allowance=2**20, max_header_bytes=2**20))


def test_deflated_file_reads(tmp_path: Path, ramp16: np.ndarray) -> None:
    ds = make_ds(ramp16, bits_stored=12)
    ds.file_meta.TransferSyntaxUID = uid.DeflatedExplicitVRLittleEndian
    path = save(ds, tmp_path / "dfl.dcm")
    assert np.array_equal(read_image(path).stored, ramp16)


@pytest.mark.parametrize(
    ("charset", "name"), [("ISO_IR 100", "Müller^Jörg"), ("ISO_IR 144", "Люкceмбypг")]
)
def test_deflated_budget_reads_the_size_in_any_character_set(
    tmp_path: Path, charset: str, name: str
) -> None:
    """The deflate budget (declared pixel bytes + allowance) reads Rows/Columns with the fast
    header scan also when its text is left to pydicom (ISO_IR 144): small limits here, so the
    128 KiB image is over the allowance and must be granted from the header."""
    arr = np.arange(256 * 256, dtype=np.uint16).reshape(256, 256)
    ds = make_ds(arr, SpecificCharacterSet=charset, PatientName=name)
    ds.file_meta.TransferSyntaxUID = uid.DeflatedExplicitVRLittleEndian
    path = save(ds, tmp_path / "dfl.dcm")
    small = Limits(max_header_bytes=32 * 1024, max_deflate_allowance=16 * 1024)
    assert np.array_equal(read_image(path, limits=small).stored, arr)


def test_parallel_readers_keep_warnings_state(tmp_path: Path, ramp16: np.ndarray) -> None:
    """Readers in several threads (GUI: decode + scan) collect their own warnings and leave
    the process's warning filters exactly as they found them."""
    import threading
    import warnings

    bad = make_ds(ramp16, bits_stored=12, WindowCenter=10, WindowWidth=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bad.PatientID = "X" * 80  # longer than LO allows: pydicom warns when it reads it
        path = save(bad, tmp_path / "warn.dcm")
    before = list(warnings.filters)
    errors: list[BaseException] = []
    notes: list[tuple[str, ...]] = []

    def work() -> None:
        try:
            for _ in range(20):
                image = read_image(path)
                notes.append(image.notes)
                read_metadata(path)
        except BaseException as exc:  # the test reports anything at all
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert list(warnings.filters) == before
    assert len(notes) == 80
    assert all(any("stored window 1 ignored" in n for n in ns) for ns in notes)
    assert all(any("exceeds the maximum length of 64" in n for n in ns) for ns in notes)


# --- hostile-input findings (deflate bomb, oversized RLE, damaged headers) --------------------


def _deflated_file(path: Path, ds: pydicom.Dataset, body_chunks: int, chunk: bytes) -> Path:
    """File meta of ``ds`` (deflated syntax) + ``body_chunks`` x ``chunk`` raw-deflated, built
    in a stream so the test never holds the inflated size."""
    import zlib

    ds.file_meta.TransferSyntaxUID = uid.DeflatedExplicitVRLittleEndian
    data = _bytes_of(ds)
    meta_end = 144 + struct.unpack_from("<I", data, 140)[0]
    body = bytearray(data[meta_end:])  # the real data set, deflated by pydicom
    inflated = zlib.decompress(bytes(body), -zlib.MAX_WBITS)
    compressor = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)
    with path.open("wb") as fh:
        fh.write(data[:meta_end])
        fh.write(compressor.compress(inflated))
        for _ in range(body_chunks):
            fh.write(compressor.compress(chunk))
        fh.write(compressor.flush())
    return path


@pytest.mark.parametrize("reader", ["read_metadata", "read_image"])
@pytest.mark.parametrize(
    "trailer",
    [bytes(2**20), b"\x08\x00\x10\x00\x02\x00" * (2**20 // 6)],
    ids=["zeros", "tiny_elements"],
)
def test_deflate_bomb_is_refused_within_bounded_memory(
    tmp_path: Path, reader: str, trailer: bytes
) -> None:
    """A small deflated file inflating to 256 MiB (PS3.5 A.5): refused by the declared-size
    budget, holding no more than about the allowance (64 MiB) in memory."""
    ds = make_ds(np.zeros((16, 16), dtype=np.uint16))
    path = _deflated_file(tmp_path / "bomb.dcm", ds, 256, trailer)
    assert path.stat().st_size < 8 * 2**20
    read = {"read_metadata": read_metadata, "read_image": read_image}[reader]
    tracemalloc.start()
    try:
        with pytest.raises(DicomError, match=r"is deflated and inflates beyond 64 MiB, more than"):
            read(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20


def test_deflated_file_with_header_only_read_and_bounded_parse(
    tmp_path: Path, ramp16: np.ndarray
) -> None:
    """A genuine deflated image: metadata (bounded pass) and pixels both read."""
    ds = make_ds(ramp16, bits_stored=12, PatientID="DFL")
    path = _deflated_file(tmp_path / "ok.dcm", ds, 0, b"")
    meta = read_metadata(path)
    assert (
        meta.patient_id == "DFL" and meta.transfer_syntax_uid == uid.DeflatedExplicitVRLittleEndian
    )
    assert np.array_equal(read_image(path).stored, ramp16)


@pytest.mark.parametrize(
    ("rows", "columns", "message"),
    [
        (16384, 16384, "larger than the 12000 x 12000 limit"),
        (8000, 8000, "64 megapixels), more than the 50 megapixel limit"),
        (12000, 4500, "54 megapixels), more than the 50 megapixel limit"),
    ],
    ids=["16k_square_rle", "8k_square", "long_length_too_big"],
)
def test_oversized_rle_radiograph_refused_before_decoding(
    tmp_path: Path, rows: int, columns: int, message: str
) -> None:
    """An RLE file declaring far more pixels than a radiograph has (a 16384 x 16384 x 16-bit
    RLE file costs 2-3 GB downstream) is refused from its header, before any decode."""
    ds = make_ds(np.zeros((2, 2), dtype=np.uint16))
    ds.Rows, ds.Columns = rows, columns
    ds.file_meta.TransferSyntaxUID = uid.RLELossless
    ds.PixelData = encapsulate([bytes(64)])
    path = save(ds, tmp_path / "big_rle.dcm")
    tracemalloc.start()
    try:
        with pytest.raises(DicomError, match=re.escape(message)):
            read_image(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20


@pytest.mark.parametrize(
    ("rows", "columns"),
    [(4300, 4300), (6000, 5000), (11900, 4000)],
    ids=["cxr_max", "mammography", "long_length"],
)
def test_real_radiograph_sizes_pass_the_header_check(rows: int, columns: int) -> None:
    from dataclasses import replace

    from viewer.dicom.reader import check_image_header

    template = read_metadata(pydicom.data.get_testdata_file("CT_small.dcm"))
    meta = replace(
        template,
        rows=rows,
        columns=columns,
        bits_allocated=16,
        bits_stored=12,
        photometric="MONOCHROME2",
        samples_per_pixel=1,
        number_of_frames=1,
        transfer_syntax_uid=str(uid.ExplicitVRLittleEndian),
    )
    check_image_header(meta)  # raises DicomError when refused


def _damaged(kind: str, tmp_path: Path) -> Path:
    ds = make_ds(np.zeros((8, 8), dtype=np.uint16))
    pixels = ds.PixelData
    del ds.PixelData
    data = bytearray(_bytes_of(ds))  # the header without Pixel Data
    if kind == "random_after_dicm":
        import random

        rng = random.Random(7)
        data = data[:132] + bytearray(rng.randbytes(5000))
    elif kind == "huge_un_length":  # an element claiming 0xFFFFFFF0 bytes in a tiny file
        data += struct.pack("<HH2sHI", 0x0040, 0x1001, b"UN", 0, 0xFFFFFFF0) + b"abc"
    elif kind == "huge_pixel_length":
        data += struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, 0xFFFFFFF0) + pixels[:100]
    path = tmp_path / f"{kind}.dcm"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("kind", ["random_after_dicm", "huge_un_length", "huge_pixel_length"])
def test_damaged_header_messages_are_sentences(tmp_path: Path, kind: str) -> None:
    path = _damaged(kind, tmp_path)
    with pytest.raises(DicomError) as info:
        read_image(path)
    message = info.value.message
    for jargon in ("seek of closed file", "MemoryError", "unpack", "Traceback"):
        assert jargon not in message
    assert info.value.path == str(path)


def test_a_file_cut_inside_encapsulated_pixel_data_is_called_cut_short(tmp_path: Path) -> None:
    """pydicom drops the whole data set (a warning only) when encapsulated Pixel Data runs into
    the end of the file; the file was reported as having a broken header (no Rows/Columns)."""
    from tests.dicom.test_preview import _j2k

    whole = tmp_path / "whole.dcm"
    _j2k(whole, (256, 256))
    data = whole.read_bytes()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(data[: data.find(b"\xff\x4f\xff\x51") + 2000])
    with pytest.raises(DicomError, match="is cut short: the file ends inside its data"):
        read_image(cut)
    assert read_image(whole).stored.shape == (256, 256)
