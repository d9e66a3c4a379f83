"""``bedside dicom info`` and ``dicom scan`` print the same bytes with and without the header
fast path (viewer.dicom.header, which imports no pydicom; issue 19).

The reference is the full pydicom path, reached by switching the accelerator off
(``fast_metadata`` answering None is exactly what it does for any file it does not handle). The
corpora: every file pydicom ships for its tests and character sets, the synthetic demo set, and
hostile variants (byte flips, cuts and insertions, deep and undefined-length sequences, text in
each character set the fast path decodes itself and in one it hands over).
"""

from __future__ import annotations

import contextlib
import random
import warnings
from pathlib import Path

import numpy as np
import pydicom.data
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ImplicitVRLittleEndian

from tests.dicom.helpers import make_ds
from viewer.cli.main import main
from viewer.dicom import metadata
from viewer.dicom.synthetic import write_demo_set
from viewer.errors import DicomError

DATA = Path(pydicom.data.__file__).parent
PYDICOM_FILES = sorted(
    [p for p in (DATA / "test_files").rglob("*") if p.is_file()]
    + [Path(p) for p in pydicom.data.get_charset_files()]
)


def _no_fast_path(path: Path, limits: object, header: object = None) -> None:
    return None


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _both(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    fast = _run(argv, capsys)
    with monkeypatch.context() as patch:
        patch.setattr(metadata, "fast_metadata", _no_fast_path)
        slow = _run(argv, capsys)
    return fast, slow


def _nested(depth: int) -> Sequence:
    inner = Dataset()
    inner.CodeValue = "X"
    for _ in range(depth):
        outer = Dataset()
        outer.ReferencedImageSequence = Sequence([inner])
        inner = outer
    return Sequence([inner])


def _base_files(folder: Path) -> list[Path]:
    """Files the fast path answers for, and neighbours it must hand to pydicom."""
    arr = np.arange(24 * 20, dtype=np.uint16).reshape(24, 20)
    variants: dict[str, Dataset] = {
        "latin1": make_ds(arr, SpecificCharacterSet="ISO_IR 100", PatientName="Müller^Jörg"),
        "utf8": make_ds(arr, SpecificCharacterSet="ISO_IR 192", PatientName="山田^太郎=やまだ"),
        "greek": make_ds(arr, SpecificCharacterSet="ISO_IR 126", PatientName="Διονυσιος"),
        "default": make_ds(
            arr,
            PatientName="A^B==",
            StudyDescription="chest  ",
            PixelSpacing=[0.1, 0.2],
            SeriesNumber="7",
            InstanceNumber="12",
        ),
        "imager": make_ds(
            arr, ImagerPixelSpacing=[0.15, 0.15], EstimatedRadiographicMagnificationFactor=1.2
        ),
        "nested": make_ds(arr, ReferencedImageSequence=_nested(30)),
        "too-deep": make_ds(arr, ReferencedImageSequence=_nested(70)),
    }
    odd_meta = make_ds(arr)  # a control character in (0002,0002), no (0008,0016)
    del odd_meta.SOPClassUID
    odd_meta.file_meta.MediaStorageSOPClassUID = "1.2.840\x0f10008.5.1.4.1.1.1"
    variants["meta-uid"] = odd_meta
    paths = []
    for name, ds in variants.items():
        path = folder / f"{name}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    implicit = variants["latin1"]
    implicit.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    path = folder / "implicit.dcm"
    implicit.save_as(path, enforce_file_format=True)
    paths.append(path)
    undefined = folder / "undefined.dcm"
    pydicom.dcmwrite(undefined, variants["nested"], enforce_file_format=True)
    paths.append(undefined)
    return paths


def _mutants(folder: Path, bases: list[Path], count: int) -> list[Path]:
    rng = random.Random(19)
    out = []
    for i in range(count):
        data = bytearray(rng.choice(bases).read_bytes())
        kind = i % 3
        if kind == 0:
            for _ in range(rng.randint(1, 6)):
                data[rng.randrange(128, min(len(data), 900))] = rng.randrange(256)
        elif kind == 1:
            del data[rng.randrange(132, len(data)) :]
        else:
            at = rng.randrange(132, min(len(data), 900))
            data[at:at] = rng.randbytes(rng.randint(1, 16))
        path = folder / f"mutant{i:03d}.dcm"
        path.write_bytes(bytes(data))
        out.append(path)
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    root = tmp_path_factory.mktemp("parity")
    demo = write_demo_set(root / "demo", n=6, size=(64, 64))
    made = root / "made"
    made.mkdir()
    with warnings.catch_warnings():  # pydicom notes on odd values (PN "A^B==")
        warnings.simplefilter("ignore")
        bases = _base_files(made)
    return {"demo": demo, "made": bases, "mutants": _mutants(made, bases, 240)}


@pytest.mark.parametrize(
    "path", PYDICOM_FILES, ids=[str(p.relative_to(DATA)) for p in PYDICOM_FILES]
)
def test_info_is_byte_identical_on_pydicom_files(
    path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fast, slow = _both(["dicom", "info", str(path)], monkeypatch, capsys)
    assert fast == slow


@pytest.mark.parametrize("group", ["demo", "made", "mutants"])
def test_info_is_byte_identical_on_made_and_hostile_files(
    group: str,
    corpus: dict[str, list[Path]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    answered = 0
    for path in corpus[group]:
        with contextlib.suppress(DicomError):  # refused before parsing: both paths refuse
            answered += metadata.fast_metadata(path, metadata.DEFAULT_LIMITS) is not None
        for json in ([], ["--json"]):
            fast, slow = _both(["dicom", "info", *json, str(path)], monkeypatch, capsys)
            assert fast == slow, path.name
    assert answered >= len(corpus[group]) // 4  # the fast path was exercised, not skipped


def test_scan_is_byte_identical(
    corpus: dict[str, list[Path]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folders = sorted({str(p.parent) for paths in corpus.values() for p in paths})
    for json in ([], ["--json"]):
        fast, slow = _both(["dicom", "scan", *json, *folders, str(DATA)], monkeypatch, capsys)
        assert fast == slow
    assert "image(s)" in fast[1] or fast[1].startswith("{")
