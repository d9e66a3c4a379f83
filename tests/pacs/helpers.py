"""Objects and settings for the transport tests: a source chest X-ray, derived objects that
copy its patient and study (H1's builder in viewer.pacs.objects makes the real SR/SC; these are
plain pydicom objects of the same kinds, so the transport tests do not depend on it), and a site
file pointing at a test Orthanc."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from tests.pacs.orthanc import OrthancServer
from viewer.config import Settings, load_settings

SC_CLASS = "1.2.840.10008.5.1.4.1.1.7"
# what an object derived from an image copies of its patient and study (PS3.3 C.7.1.1, C.7.2.1)
PATIENT_STUDY = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyInstanceUID",
    "StudyDate",
    "StudyTime",
    "AccessionNumber",
    "ReferringPhysicianName",
    "StudyID",
)
BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"


def source_image(seed: int = 1, size: tuple[int, int] = (128, 128)) -> Dataset:
    """A synthetic chest X-ray of its own patient (patient index = seed) and study."""
    from viewer.dicom.synthetic import make_cxr

    return make_cxr(seed, opacity=True, size=size, patient_index=seed)


def _derived(source: Dataset, sop_class: str, modality: str, series_number: int) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SpecificCharacterSet = "ISO_IR 192"
    for keyword in PATIENT_STUDY:
        setattr(ds, keyword, source.get(keyword, ""))
    ds.Modality = modality
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = series_number
    ds.InstanceNumber = 1
    ds.SeriesDescription = "AI second reader — not a diagnosis"
    ds.Manufacturer = "Bedside"
    return ds


def secondary_capture(source: Dataset) -> Dataset:
    ds = _derived(source, SC_CLASS, "OT", 901)
    ds.ConversionType = "WSD"
    ds.BurnedInAnnotation = "YES"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = 64, 64
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = (np.arange(64 * 64, dtype=np.uint32) % 251).astype(np.uint8).tobytes()
    return ds


def text_report(source: Dataset, text: str = "所見: 異常影の疑い (AI, not a diagnosis)") -> Dataset:
    ds = _derived(source, BASIC_TEXT_SR, "SR", 902)
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "UNVERIFIED"
    concept = Dataset()
    concept.CodeValue, concept.CodingSchemeDesignator = "18748-4", "LN"
    concept.CodeMeaning = "Diagnostic Imaging Report"
    ds.ConceptNameCodeSequence = [concept]
    item = Dataset()
    item.RelationshipType, item.ValueType, item.TextValue = "CONTAINS", "TEXT", text
    finding = Dataset()
    finding.CodeValue, finding.CodingSchemeDesignator = "121071", "DCM"
    finding.CodeMeaning = "Finding"
    item.ConceptNameCodeSequence = [finding]
    ds.ContentSequence = [item]
    return ds


def write_site(site_file: Path, body: str) -> Settings:
    site_file.write_text(body, encoding="utf-8")
    return load_settings(demo=False)


def dimse_site(
    port: int,
    *,
    called_aet: str = "PACS",
    calling_aet: str = "BEDSIDE",
    connect_timeout_s: float = 5.0,
    timeout_s: float = 10.0,
    extra: str = "",
) -> str:
    """A [pacs] section sending and searching over DIMSE to a PACS of the test's own on
    127.0.0.1:``port``."""
    return (
        '[pacs]\nenabled = true\ntransport = "dimse"\nquery = "dimse"\n'
        f'host = "127.0.0.1"\nport = {port}\ncalled_aet = "{called_aet}"\n'
        f'calling_aet = "{calling_aet}"\nconnect_timeout_s = {connect_timeout_s}\n'
        f"timeout_s = {timeout_s}\n{extra}"
    )


def pacs_site(
    server: OrthancServer,
    *,
    transport: str = "both",
    query: str = "dicomweb",
    called_aet: str | None = None,
    port: int | None = None,
    url: str | None = None,
    extra: str = "",
) -> str:
    """A [pacs] section pointing at ``server`` (overrides for the bad-input tests)."""
    return (
        "[pacs]\n"
        "enabled = true\n"
        f'transport = "{transport}"\n'
        f'query = "{query}"\n'
        f'dicomweb_url = "{url or server.dicomweb_url}"\n'
        'host = "127.0.0.1"\n'
        f"port = {port or server.dicom_port}\n"
        f'called_aet = "{called_aet or server.aet}"\n'
        f'calling_aet = "{server.calling_aet}"\n'
        "connect_timeout_s = 3.0\n"
        "timeout_s = 20.0\n"
        f"{extra}"
    )


@contextlib.contextmanager
def hung_scp(hang_s: float = 60.0) -> Iterator[tuple[int, threading.Event]]:
    """A DIMSE PACS (pynetdicom) that accepts every association and then never answers a
    C-ECHO, C-STORE, C-FIND or C-GET (each handler waits ``hang_s`` or until the block ends).
    Yields its port and an event set once a request reached it."""
    from pynetdicom import AE, evt

    from viewer.pacs.dimse import STUDY_ROOT_FIND, STUDY_ROOT_GET, VERIFICATION

    release, reached = threading.Event(), threading.Event()

    def hang(_event: Any) -> int:
        reached.set()
        release.wait(hang_s)
        return 0xC000

    def hang_find(_event: Any) -> Iterator[tuple[int, Dataset | None]]:
        reached.set()
        release.wait(hang_s)
        yield 0xC000, None

    ae = AE(ae_title="PACS")
    for sop_class in (VERIFICATION, STUDY_ROOT_FIND, STUDY_ROOT_GET, BASIC_TEXT_SR, SC_CLASS):
        ae.add_supported_context(sop_class, ExplicitVRLittleEndian)
    ae.add_supported_context(source_image().SOPClassUID, ExplicitVRLittleEndian)
    handlers = [
        (evt.EVT_C_ECHO, hang),
        (evt.EVT_C_STORE, hang),
        (evt.EVT_C_FIND, hang_find),
        (evt.EVT_C_GET, hang_find),
    ]
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=handlers)
    assert server is not None
    try:
        yield int(server.server_address[1]), reached
    finally:
        release.set()
        server.shutdown()


def raw_answer(**values: tuple[str, bytes]) -> Dataset:
    """A C-FIND answer whose values are raw bytes (VR, bytes), exactly as a misbehaving PACS
    would write them."""
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    for keyword, (vr, value) in values.items():
        tag = Tag(keyword)
        ds[tag] = RawDataElement(tag, vr, len(value), value, 0, True, True)
    return ds


@contextlib.contextmanager
def c_find_scp(answers: list[Dataset]) -> Iterator[int]:
    """A C-FIND SCP of the test's own (pynetdicom, Implicit VR) answering every search with
    ``answers``; yields its port."""
    from pydicom.uid import ImplicitVRLittleEndian
    from pynetdicom import AE, evt

    from viewer.pacs.dimse import STUDY_ROOT_FIND

    def on_find(_event: Any) -> Iterator[tuple[int, Dataset | None]]:
        for ds in answers:
            yield 0xFF00, ds
        yield 0x0000, None

    ae = AE(ae_title="PACS")
    ae.add_supported_context(STUDY_ROOT_FIND, ImplicitVRLittleEndian)
    server = ae.start_server(
        ("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_FIND, on_find)]
    )
    assert server is not None
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()


def cancel_after(seconds: float) -> Callable[[], bool]:
    """A ``cancel`` callable that turns true after ``seconds`` (the window closing then)."""
    flag = threading.Event()
    threading.Timer(seconds, flag.set).start()
    return flag.is_set


def finished(work: Callable[[], object], *, within_s: float = 15.0) -> BaseException | None:
    """``work`` in a thread joined with a bound far below the tests' pacs.timeout_s: the
    exception it raised (None if none), or a failure if it is still waiting on PACS."""
    raised: list[BaseException] = []

    def target() -> None:
        try:
            work()
        except BaseException as exc:  # handed to the test
            raised.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(within_s)
    assert not thread.is_alive(), "still waiting on the silent PACS after cancel"
    return raised[0] if raised else None


def assert_stopped_drain_keeps_the_object(settings: Settings, seed: int) -> None:
    """A drain told to stop 0.3 s into a send PACS never answers ends (well before the tests'
    pacs.timeout_s) and the object is still pending, its last error the cancel."""
    from viewer.pacs.delivery import PacsDelivery

    with PacsDelivery(settings) as delivery:
        assert delivery.queue([source_image(seed=seed)], reading_id="r1") == 1
        stop = cancel_after(0.3)
        assert finished(lambda: delivery.drain(should_stop=stop)) is None
        status = delivery.status("r1")
    assert (status.pending, status.sent) == (1, 0)
    assert "was cancelled" in (status.last_error or "")
