"""The DICOM objects a reading sends to PACS (issue 17 items 1-2): the SR's content tree read back
equals what was sent, patient and study are copied, dciodvfy finds no error, Japanese survives
byte for byte, UIDs are deterministic, the capture carries its banner, and a hostile source header
is refused with a sentence."""

from __future__ import annotations

import copy
import io
import shutil
import subprocess
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset

from tests.pacs.helpers import PATIENT_STUDY
from tests.pacs.reports import JA_NAME, JA_REASON, JA_TEXT, make_report
from viewer.pacs.model import AiReport, PacsObjectError
from viewer.pacs.objects import build_objects, encode


def _read(ds: Dataset) -> Dataset:
    return dcmread(io.BytesIO(encode(ds)))


def _by_kind(report: AiReport, kinds: tuple[str, ...] = ("sr", "sc", "gsps")) -> dict[str, Any]:
    built = build_objects(report, set(kinds))
    modalities = {"SR": "sr", "OT": "sc", "PR": "gsps"}
    return {modalities[str(ds.Modality)]: _read(ds) for ds in built}


# --- an independent reader of the SR content tree (pydicom only, not the writer's code) --------


def _concept(item: Dataset) -> tuple[str, str]:
    code = item.ConceptNameCodeSequence[0]
    return (str(code.CodingSchemeDesignator), str(code.CodeValue))


def _value(item: Dataset) -> Any:
    kind = item.ValueType
    if kind == "TEXT":
        return str(item.TextValue)
    if kind == "CODE":
        code = item.ConceptCodeSequence[0]
        return (str(code.CodingSchemeDesignator), str(code.CodeValue))
    if kind == "NUM":
        measured = item.MeasuredValueSequence[0]
        unit = measured.MeasurementUnitsCodeSequence[0]
        return (float(measured.NumericValue), str(unit.CodingSchemeDesignator), unit.CodeValue)
    if kind == "UIDREF":
        return str(item.UID)
    if kind == "PNAME":
        return str(item.PersonName)
    if kind == "IMAGE":
        ref = item.ReferencedSOPSequence[0]
        return (str(ref.ReferencedSOPClassUID), str(ref.ReferencedSOPInstanceUID))
    return kind


def _items(node: Dataset) -> list[tuple[tuple[str, str], Any, Dataset]]:
    return [(_concept(i), _value(i), i) for i in node.get("ContentSequence", [])]


def _one(node: Dataset, concept: tuple[str, str]) -> Any:
    found = [v for c, v, _ in _items(node) if c == concept]
    assert len(found) == 1, f"{concept}: {found}"
    return found[0]


def _groups(sr: Dataset) -> dict[str, Dataset]:
    measurements = [i for c, _, i in _items(sr) if c == ("DCM", "126010")]
    assert len(measurements) == 1
    out: dict[str, Dataset] = {}
    for concept, _, group in _items(measurements[0]):
        assert concept == ("DCM", "125007")  # Measurement Group
        out[_one(group, ("DCM", "112039"))] = group  # Tracking Identifier
    return out


PRESENT, ABSENT = ("SCT", "52101004"), ("SCT", "272519000")
DCIODVFY = shutil.which("dciodvfy")  # Debian dicom3tools
KNOWN_WARNINGS = (
    "Unrecognized defined term <99BEDSIDE>",  # our private coding scheme, declared in 0008,0110
    "(0x0018,0x1002) UI Device UID",  # IHE AIR's Device UID in Contributing Equipment
    "this is a Standard Extended SOP Class",  # ... which follows from it
)


def test_sr_content_tree_reads_back_as_sent() -> None:
    report = make_report()
    sr = _by_kind(report, ("sr",))["sr"]
    assert sr.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.33"  # Comprehensive SR
    assert sr.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    assert _concept(sr) == ("DCM", "126000")
    assert _one(sr, ("DCM", "121058")) == ("SCT", "399208008")  # procedure: plain chest X-ray
    # observers: the clinician (name + role) and the model as a device
    assert _one(sr, ("DCM", "121008")) == JA_NAME
    assert _one(sr, ("DCM", "121010")) == ("SCT", "66862007")  # Radiologist
    assert _one(sr, ("DCM", "121012")) == report.algorithm.device_uid
    assert _one(sr, ("DCM", "121013")) == report.algorithm.name

    groups = _groups(sr)
    assert list(groups) == ["opacity", "Pneumothorax", "Weird_Label-X", "nodule", "Input checks"]
    source_ref = (str(report.source.SOPClassUID), str(report.source.SOPInstanceUID))
    for label in report.labels:
        g = groups[label.label]
        assert _one(g, ("DCM", "111001")) == report.algorithm.name  # Algorithm Name
        assert _one(g, ("DCM", "111003")) == report.algorithm.version
        assert _one(g, ("DCM", "122405")) == report.algorithm.manufacturer
        assert _one(g, ("DCM", "122157")) == (label.probability, "UCUM", "1")
        assert _one(g, ("DCM", "122411")) == (label.threshold, "UCUM", "1")
        finding = _one(g, ("DCM", "121071"))  # Finding (type): the label's code
        assert _one(g, finding) == (PRESENT if label.positive else ABSENT)
        source = "SITE" if label.threshold_source == "site" else "BUNDLE"
        assert _one(g, ("99BEDSIDE", "THRSRC")) == ("99BEDSIDE", source)
        if label.operating_point:
            assert _one(g, ("99BEDSIDE", "OPPOINT")) == label.operating_point
        assert _one(g, ("DCM", "121112")) == source_ref  # Source of Measurement
    assert _one(groups["opacity"], ("DCM", "121071")) == ("DCM", "112001")
    assert _one(groups["Pneumothorax"], ("DCM", "121071")) == ("SCT", "36118008")
    weird = _one(groups["Weird_Label-X"], ("DCM", "121071"))
    assert weird[0] == "99BEDSIDE" and weird[1].startswith("F") and len(weird[1]) == 13
    assert (sr.ContentDate, sr.ContentTime, sr.TimezoneOffsetFromUTC) == (
        "20261206",
        "140530",
        "+0900",
    )
    assert _one(groups["Pneumothorax"], ("99BEDSIDE", "CLINDEC")) == ("99BEDSIDE", "NOTDECIDED")
    for decision in report.decisions:
        g = groups[decision.label]
        assert _one(g, ("99BEDSIDE", "CLINDEC")) == ("99BEDSIDE", decision.meaning.upper())
        assert _one(g, ("99BEDSIDE", "CLINFIND")) == (
            PRESENT if decision.final_positive else ABSENT
        )
        reasons = [v for c, v, _ in _items(g) if c == ("99BEDSIDE", "REASON")]
        assert reasons == ([decision.reason] if decision.reason else [])
    # the finding the AI missed: no score, the clinician's finding and reason
    assert not [c for c, _, _ in _items(groups["nodule"]) if c == ("DCM", "122157")]
    assert _one(groups["nodule"], ("DCM", "121071")) == ("SCT", "27925004")

    checks = [i for c, _, i in _items(groups["Input checks"]) if c == ("99BEDSIDE", "INCHECK")]
    read_back = [
        (
            _one(i, ("99BEDSIDE", "CHKCODE")),
            _value(i)[1],
            _one(i, ("99BEDSIDE", "CHKMSG")),
        )
        for i in checks
    ]
    assert read_back == [
        ("modality", "CHKPASS", "CR is accepted"),
        ("pixel_spacing_missing", "CHKWARN", "No pixel spacing in the file"),
    ]
    # the private scheme is declared; the source image is the evidence
    schemes = [str(s.CodingSchemeDesignator) for s in sr.CodingSchemeIdentificationSequence]
    assert "99BEDSIDE" in schemes
    evidence = sr.CurrentRequestedProcedureEvidenceSequence[0]
    assert evidence.StudyInstanceUID == report.source.StudyInstanceUID
    ref = evidence.ReferencedSeriesSequence[0].ReferencedSOPSequence[0]
    assert (ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID) == source_ref
    assert sr.CompletionFlag == "COMPLETE" and sr.VerificationFlag == "UNVERIFIED"


def test_every_object_names_the_algorithm_per_ihe_air() -> None:
    report = make_report()
    for kind, ds in _by_kind(report).items():
        items = [
            e
            for e in ds.ContributingEquipmentSequence
            if e.PurposeOfReferenceCodeSequence[0].CodeValue == "109103"
        ]
        assert len(items) == 1, kind
        item = items[0]
        code = item.PurposeOfReferenceCodeSequence[0]
        assert (code.CodingSchemeDesignator, code.CodeMeaning) == ("DCM", "Processing Algorithm")
        assert item.Manufacturer == report.algorithm.manufacturer
        assert report.algorithm.name in item.ManufacturerModelName
        assert report.algorithm.bundle_id in item.ManufacturerModelName
        assert item.SoftwareVersions == report.algorithm.version
        assert item.DeviceUID == report.algorithm.device_uid
        assert report.algorithm.digest in item.ContributionDescription


def test_patient_and_study_are_copied_into_a_new_series() -> None:
    report = make_report()
    objects = _by_kind(report)
    assert set(objects) == {"sr", "sc", "gsps"}
    series = set()
    for kind, ds in objects.items():
        for keyword in PATIENT_STUDY:
            assert str(ds.get(keyword, "")) == str(report.source.get(keyword, "")), (kind, keyword)
        assert ds.SeriesInstanceUID != report.source.SeriesInstanceUID
        assert ds.SeriesDescription == "AI second reader \u2014 not a diagnosis"
        assert ds.SpecificCharacterSet == "ISO_IR 192"
        series.add(ds.SeriesInstanceUID)
    assert len(series) == 3


def test_resend_gives_the_same_uids_and_another_reading_new_ones() -> None:
    def uids(report: AiReport) -> list[tuple[str, str]]:
        return [(d.SOPInstanceUID, d.SeriesInstanceUID) for d in build_objects(report)]

    first = uids(make_report())
    assert first == uids(make_report())
    other = uids(make_report(reading_id="reading-0002"))
    assert not {u for pair in first for u in pair} & {u for pair in other for u in pair}
    assert all(u.startswith("2.25.") and len(u) <= 64 for pair in first for u in pair)


def test_japanese_text_survives_byte_for_byte() -> None:
    report = make_report()
    objects = build_objects(report)
    sr_bytes, _, gsps_bytes = (encode(ds) for ds in objects)
    for text in (JA_REASON, JA_NAME):
        assert text.encode("utf-8") in sr_bytes
    assert JA_TEXT.encode("utf-8") in gsps_bytes
    sr = dcmread(io.BytesIO(sr_bytes))
    groups = _groups(sr)
    assert _one(groups["opacity"], ("99BEDSIDE", "REASON")) == JA_REASON
    assert _one(sr, ("DCM", "121008")) == JA_NAME
    # a second round trip writes the same bytes
    assert encode(sr) == sr_bytes
    gsps = dcmread(io.BytesIO(gsps_bytes))
    texts = [t.UnformattedTextValue for t in gsps.GraphicAnnotationSequence[0].TextObjectSequence]
    assert JA_TEXT in texts


def test_a_japanese_source_in_iso_2022_is_copied_as_utf8(tmp_path: Path) -> None:
    report = make_report()
    source = copy.deepcopy(report.source)
    source.SpecificCharacterSet = ["", "ISO 2022 IR 87"]
    source.PatientName = "Yamada^Tarou=山田^太郎=やまだ^たろう"
    path = tmp_path / "jis.dcm"
    source.save_as(path, enforce_file_format=True)
    assert "山田".encode("iso2022_jp")[3:-3] in path.read_bytes()  # JIS X 0208, not UTF-8
    jis = dcmread(path)
    for ds in build_objects(replace(report, source=jis)):
        back = _read(ds)
        assert str(back.PatientName) == "Yamada^Tarou=山田^太郎=やまだ^たろう"


def _dciodvfy(data: bytes, tmp_path: Path, name: str) -> list[str]:
    path = tmp_path / f"{name}.dcm"
    path.write_bytes(data)
    done = subprocess.run(
        [str(DCIODVFY), str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    return (done.stdout + done.stderr).splitlines()


@pytest.mark.skipif(DCIODVFY is None, reason="dciodvfy (Debian dicom3tools) is not installed")
def test_dciodvfy_finds_no_error(tmp_path: Path) -> None:
    report = make_report()
    expected_iod = {"sr": "ComprehensiveSR", "sc": "SCImage", "gsps": "GrayscaleSoftcopy"}
    for kind, ds in zip(("sr", "sc", "gsps"), build_objects(report), strict=True):
        lines = _dciodvfy(encode(ds), tmp_path, kind)
        assert lines and lines[0].startswith(expected_iod[kind]), lines[:3]
        errors = [line for line in lines if line.startswith("Error")]
        assert errors == [], (kind, errors)
        # the warnings left are the known ones (docs/pacs-objects.md "Validation"), no other
        unknown = [
            line
            for line in lines[1:]
            if not any(known in line for known in KNOWN_WARNINGS) and line.strip()
        ]
        assert unknown == [], (kind, unknown)


def test_capture_burns_in_banner_heatmap_and_text() -> None:
    plain = make_report(heatmap=None)
    sc = _by_kind(plain, ("sc",))["sc"]
    assert sc.BurnedInAnnotation == "YES"
    assert sc.PhotometricInterpretation == "RGB" and sc.SamplesPerPixel == 3
    assert sc.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7"
    assert sc.SourceImageSequence[0].ReferencedSOPInstanceUID == plain.source.SOPInstanceUID
    pixels = sc.pixel_array
    display = plain.display
    assert display is not None
    rows, cols = display.shape
    # the image sits between the banner and the panel, centred, grey (R = G = B = display)
    left = (pixels.shape[1] - cols) // 2
    tops = [
        r
        for r in range(pixels.shape[0] - rows)
        if np.array_equal(pixels[r : r + rows, left : left + cols, 0], display)
    ]
    assert len(tops) == 1
    top = tops[0]
    image = pixels[top : top + rows, left : left + cols]
    assert np.array_equal(image[..., 1], display) and np.array_equal(image[..., 2], display)
    # the banner: its red background and white text pixels above the image
    banner = pixels[:top]
    assert top > 10
    assert ((banner == (150, 20, 20)).all(axis=2)).mean() > 0.5
    assert (banner.min(axis=2) > 200).sum() > 50  # text drawn in white
    # the panel below holds the findings' text
    assert (pixels[top + rows :].max(axis=2) > 150).sum() > 100

    with_heat = _by_kind(make_report(), ("sc",))["sc"].pixel_array
    assert with_heat.shape[1] == pixels.shape[1]
    coloured = with_heat[top : top + rows, left : left + cols].astype(int)
    assert (np.abs(coloured[..., 0] - coloured[..., 2]) > 30).sum() > 100  # heatmap colours
    # the colour scale bar: a row running from blue to red somewhere under the image
    below = with_heat[top + rows :]
    bar_rows = [
        r
        for r in range(below.shape[0])
        if (below[r, :, 2] > 200).any()
        and (below[r, :, 0] > 200).any()
        and (below[r, :, 1] < 60).any()
    ]
    assert bar_rows


def test_capture_without_a_japanese_font_says_so() -> None:
    from viewer.pacs.sc import find_cjk_font, render_capture

    report = make_report()
    if find_cjk_font() is None:
        pytest.skip("no CJK font installed here: the fallback is all this machine can render")
    with_font = render_capture(report)
    without = render_capture(report, fonts=())
    # without a font every Japanese character is "?" and one more line says why
    assert without.shape[0] > with_font.shape[0]
    assert (
        render_capture(
            make_report(decisions=(), observer=replace(report.observer, name="A^B")), fonts=()
        ).shape[0]
        < without.shape[0]
    )


def test_gsps_draws_the_annotations_in_image_pixels() -> None:
    report = make_report()
    gsps = _by_kind(report, ("gsps",))["gsps"]
    annotation = gsps.GraphicAnnotationSequence[0]
    assert annotation.ReferencedImageSequence[0].ReferencedSOPInstanceUID == (
        report.source.SOPInstanceUID
    )
    graphics = annotation.GraphicObjectSequence
    assert all(g.GraphicAnnotationUnits == "PIXEL" for g in graphics)
    first = graphics[0]
    assert (first.GraphicType, list(first.GraphicData)) == ("POLYLINE", [10, 12, 110, 12])
    types = [g.GraphicType for g in graphics]
    # distance, angle, rect, ellipse, CTR (two lines), arrow (shaft + head)
    assert types == ["POLYLINE"] * 3 + ["ELLIPSE"] + ["POLYLINE"] * 4
    assert min(min(g.GraphicData) for g in graphics) >= 0  # the arrow's tail clipped at x=0
    texts = [t.UnformattedTextValue for t in annotation.TextObjectSequence]
    assert texts[0] == "20.0 mm"  # 100 px at 0.2 mm (the source's Pixel Spacing)
    assert texts[-1] == JA_TEXT and any(t.startswith("CTR ") for t in texts)
    assert gsps.PresentationLUTShape == "IDENTITY"
    assert gsps.SoftcopyVOILUTSequence[0].WindowWidth == report.source.WindowWidth[0]


def test_gsps_inverts_monochrome1_and_is_skipped_without_annotations() -> None:
    report = make_report()
    source = copy.deepcopy(report.source)
    source.PhotometricInterpretation = "MONOCHROME1"
    gsps = _by_kind(replace(report, source=source), ("gsps",))["gsps"]
    assert gsps.PresentationLUTShape == "INVERSE"
    assert build_objects(make_report(annotations=()), {"gsps"}) == []


def _without(report: AiReport, keyword: str) -> AiReport:
    source = copy.deepcopy(report.source)
    del source[keyword]
    return replace(report, source=source)


def _with(report: AiReport, **values: Any) -> AiReport:
    source = copy.deepcopy(report.source)
    with warnings.catch_warnings():  # hostile values, as a hostile file would hold
        warnings.simplefilter("ignore")  # pydicom warns on assignment and keeps the value
        for keyword, value in values.items():
            setattr(source, keyword, value)
    return replace(report, source=source)


def test_a_single_component_name_is_copied_exactly() -> None:
    report = _with(make_report(), PatientName="ANONYMOUS", ReferringPhysicianName="DOE")
    for ds in build_objects(replace(report, observer=replace(report.observer, name="Tanaka"))):
        back = _read(ds)
        assert (back.PatientName, back.ReferringPhysicianName) == ("ANONYMOUS", "DOE")


@pytest.mark.parametrize("keyword", ["StudyInstanceUID", "PatientID", "SOPInstanceUID"])
def test_a_source_without_identity_is_refused_not_orphaned(keyword: str) -> None:
    with pytest.raises(PacsObjectError, match=f"no {keyword}.*orphan"):
        build_objects(_without(make_report(), keyword), {"sr"})


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"Rows": 70000}, "Rows .*not a plausible image size"),
        ({"Columns": 0}, "Columns .*not a plausible image size"),
        ({"PatientID": "X" * 65}, "PatientID is 65 characters long"),
        ({"PatientID": "SYN\x1b[2J"}, "PatientID holds control"),
        ({"StudyInstanceUID": "1.2.abc"}, "StudyInstanceUID .*not a valid UI"),
        ({"StudyDate": "2026-12-06"}, "StudyDate .*not a valid DA"),
        ({"PatientID": ["SYN-1", "SYN-2"]}, "PatientID holds 2 values where DICOM allows one"),
    ],
)
def test_a_hostile_source_header_gets_a_sentence(values: dict[str, Any], message: str) -> None:
    with pytest.raises(PacsObjectError, match=message):
        build_objects(_with(make_report(), **values))


def test_text_in_the_wrong_character_set_is_refused(tmp_path: Path) -> None:
    report = make_report()
    source = copy.deepcopy(report.source)
    del source.SpecificCharacterSet  # default repertoire: ASCII only
    source.PatientName = "PLACEHOLDER"  # one component: highdicom refuses it, we must not
    path = tmp_path / "latin.dcm"
    source.save_as(path, enforce_file_format=True)
    utf8 = "Müller^Zoë".encode()  # 12 bytes, as long as the padded placeholder
    raw = path.read_bytes()
    assert raw.count(b"PLACEHOLDER ") == 1
    path.write_bytes(raw.replace(b"PLACEHOLDER ", utf8))
    hostile = dcmread(path)
    with pytest.raises(PacsObjectError, match="PatientName is not valid text in its character set"):
        build_objects(replace(report, source=hostile), {"sr"})


def test_bad_pixels_and_report_fields_get_a_sentence() -> None:
    report = make_report()
    with pytest.raises(PacsObjectError, match="needs the displayed image"):
        build_objects(replace(report, display=None), {"sc"})
    with pytest.raises(PacsObjectError, match="heatmap does not have the displayed image's size"):
        build_objects(replace(report, heatmap=np.zeros((3, 3))), {"sc"})
    with pytest.raises(PacsObjectError, match="displayed image is 20000 x 1 pixels"):
        build_objects(replace(report, display=np.zeros((1, 20000), np.uint8), heatmap=None), {"sc"})
    with pytest.raises(PacsObjectError, match="no time zone"):
        build_objects(replace(report, reading_time=report.reading_time.replace(tzinfo=None)))
    with pytest.raises(PacsObjectError, match="reader's name is empty"):
        build_objects(replace(report, observer=replace(report.observer, name=" ")))
    with pytest.raises(PacsObjectError, match="Unknown PACS object kind pdf"):
        build_objects(report, {"sr", "pdf"})
    # the SR alone needs no pixels
    assert len(build_objects(replace(report, display=None, heatmap=None), {"sr"})) == 1


def test_encode_writes_part_10() -> None:
    data = encode(build_objects(make_report(), {"sr"})[0])
    assert data[128:132] == b"DICM"
    assert dcmread(io.BytesIO(data)).file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"


def test_private_codes_are_stable_distinct_and_short() -> None:
    from viewer.pacs.sr import PRIVATE_CODES, finding_code, role_code

    assert finding_code("Pleural_Effusion").value == "60046008"
    assert finding_code("ETT").value == "ETT" and finding_code("ETT").meaning == "ETT"
    long_a, long_b = finding_code("Enlarged Cardiomediastinum"), finding_code("肺結節")
    assert long_a.value != long_b.value and long_b.meaning == "肺結節"
    assert finding_code("肺結節").value == long_b.value
    assert role_code("physician").value == "309343006"
    nurse, tech = role_code("Nurse practitioner"), role_code("技師")
    assert nurse.value != tech.value and tech.meaning == "技師"
    assert all(len(v) <= 16 for v in [*PRIVATE_CODES, long_a.value, nurse.value])


def test_awkward_values_of_ours_are_made_valid(tmp_path: Path) -> None:
    report = make_report()
    odd = replace(
        report,
        labels=(
            replace(report.labels[0], label="opacity\\left", probability=0.123456789012345678),
            *report.labels[1:],
        ),
        decisions=(),
        observer=replace(report.observer, name="Sato\\Ken", role="Nurse\\practitioner\x07"),
        algorithm=replace(report.algorithm, name="CXR\\net", version="2.0\\beta"),
    )
    sr, sc, gsps = (_read(ds) for ds in build_objects(odd))
    groups = _groups(sr)
    assert "opacity\\left" in groups  # the label itself is TEXT (UT): kept as it is
    probability = _one(groups["opacity\\left"], ("DCM", "122157"))[0]
    assert probability == pytest.approx(0.123456789012345678, rel=1e-12)
    role = next(i for c, _, i in _items(sr) if c == ("DCM", "121010")).ConceptCodeSequence[0]
    assert role.CodeMeaning == "Nurse/practitioner"
    assert _one(sr, ("DCM", "121008")) == "Sato/Ken^"
    if DCIODVFY is not None:
        for kind, ds in (("sr", sr), ("sc", sc), ("gsps", gsps)):
            errors = [x for x in _dciodvfy(encode(ds), tmp_path, kind) if x.startswith("Error")]
            assert errors == [], (kind, errors)
    nan = replace(report, labels=(replace(report.labels[0], probability=float("nan")),))
    with pytest.raises(PacsObjectError, match="score or threshold of 'opacity' is not a number"):
        build_objects(nan)


def test_a_large_display_is_scaled_down_to_a_bounded_capture() -> None:
    from viewer.pacs.sc import MAX_OUTPUT_SIDE

    display = np.tile(np.arange(256, dtype=np.uint8), (3000, 12))[:, :2500]
    heat = np.zeros(display.shape, np.float32)
    heat[1000:1200, 1000:1200] = np.inf  # non-finite values count as the maximum, not a crash
    report = make_report(display=display, heatmap=heat)
    sc = build_objects(report, {"sc"})[0]
    assert sc.Rows < MAX_OUTPUT_SIDE + 1000  # the image (2048 rows) plus banner and panel
    assert sc.Columns <= MAX_OUTPUT_SIDE


def test_highdicom_parses_the_sr_as_a_tid_1500_report() -> None:
    """A second, strict TID 1500 reader (highdicom's, as viewers like OHIF parse it) finds every
    measurement group with its tracking id, finding, scores and evaluations."""
    import highdicom as hd

    report = make_report()
    parsed = hd.sr.srread(io.BytesIO(encode(build_objects(report, {"sr"})[0])))
    groups = parsed.content.get_image_measurement_groups()
    assert [g.tracking_identifier for g in groups] == [
        "opacity",
        "Pneumothorax",
        "Weird_Label-X",
        "nodule",
        "Input checks",
    ]
    first = groups[0]
    assert [(m.name.value, m.value) for m in first.get_measurements()] == [
        ("122157", 0.8125),
        ("122411", 0.43),
    ]
    evaluations = {q.name.meaning: q.value.meaning for q in first.get_qualitative_evaluations()}
    assert evaluations["Opacity"] == "Present"
    assert evaluations["Clinician finding"] == "Absent"
    assert all(
        g.source_images[0].referenced_sop_instance_uid == report.source.SOPInstanceUID
        for g in groups
    )
    observers = [o.observer_type.meaning for o in parsed.content.get_observer_contexts()]
    assert observers == ["Person", "Device"]


def _charset_files() -> list[str]:
    from pydicom.data import get_charset_files

    return sorted(get_charset_files("chr*.dcm"))  # shipped in pydicom's wheel: no network


@pytest.mark.parametrize("path", _charset_files(), ids=lambda p: Path(p).name)
def test_pydicom_character_set_files_are_copied_as_utf8_or_refused(path: str) -> None:
    """pydicom's character set test files (Latin-1, Greek, Arabic, Hebrew, Cyrillic, ISO 2022
    Japanese and Korean, GB18030, UTF-8) as sources: the name arrives in UTF-8 as the source
    means it, or the source is refused with a sentence (no Patient ID)."""
    source = dcmread(path, stop_before_pixels=True)
    report = replace(make_report(), source=source)
    if not source.get("PatientID"):
        with pytest.raises(PacsObjectError, match=r"no PatientID.*orphan"):
            build_objects(report, {"sr"})
        return
    for ds in build_objects(report, {"sr", "gsps"}):
        back = _read(ds)
        assert back.SpecificCharacterSet == "ISO_IR 192"
        assert str(back.PatientName) == str(source.PatientName)
        assert str(back.PatientName).encode("utf-8") in encode(ds)
