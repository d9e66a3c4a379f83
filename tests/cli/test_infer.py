"""``bedside infer``: files, folders, DICOMDIRs; JSON lines; refusals; heatmaps; exit status."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from viewer.cli.infer import _Progress
from viewer.cli.main import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict[str, Any]], str]:
    code = main(["infer", *argv, "--json"])
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines() if line.strip()]
    return code, lines, captured.err


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """Three generated images (CR/DX, MONOCHROME1/2), a CT slice and a non-DICOM file."""
    from viewer.dicom.synthetic import make_cxr, write_demo_set

    folder = tmp_path / "study"
    write_demo_set(folder, n=3, seed=2, size=(200, 180))
    ct = make_cxr(11, opacity=False, size=(160, 160))
    ct.Modality = "CT"
    ct.save_as(folder / "ct.dcm", enforce_file_format=True)
    (folder / "README.txt").write_text("not DICOM", encoding="utf-8")
    return folder


def test_folder_gives_one_object_per_image_and_refuses_ct(
    make_bundle: Callable[..., Path], study: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = make_bundle()
    code, results, err = _run(capsys, str(study), "--bundle", str(bundle))
    assert code == 1  # the CT slice got no score
    by_file = {Path(r["file"]).name: r for r in results}
    assert set(by_file) == {"SYN0000.dcm", "SYN0001.dcm", "SYN0002.dcm", "ct.dcm"}
    digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
    for name in ("SYN0000.dcm", "SYN0001.dcm", "SYN0002.dcm"):
        r = by_file[name]
        assert r["status"] == "scored"
        assert r["model"] == {"id": "infer-test", "version": "1.0.0", "bundle_digest": digest}
        assert r["sop_instance_uid"].startswith("1.2.826.0.1.3680043.10.1398.")
        (label,) = r["labels"]
        assert label["label"] == "opacity" and 0.0 <= label["score"] <= 1.0
        assert label["positive"] == (label["score"] >= label["threshold"])
        assert label["operating_point"].startswith("sensitivity 0.90")
        assert {c["name"] for c in r["checks"]} >= {"modality", "view", "photometric"}
        assert set(r["timings_ms"]) >= {"decode", "preprocess", "forward", "postprocess", "total"}
        assert r["threads"] in (1, 2)  # "auto" (the default): the cores free just then
    ct = by_file["ct.dcm"]
    assert ct["status"] == "refused" and "CT" in ct["error"] and "labels" not in ct
    assert "Traceback" not in err


def test_all_scored_exits_zero_and_scores_match_the_library(
    make_bundle: Callable[..., Path], cxr_path: Path, settings: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from viewer.bundle.loader import load_bundle
    from viewer.bundle.trust import TrustStore
    from viewer.dicom import read_image
    from viewer.inference.predict import Predictor

    bundle = make_bundle()
    code, (result,), _ = _run(capsys, str(cxr_path), "--bundle", str(bundle), "--threads", "2")
    assert code == 0 and result["status"] == "scored"
    loaded = load_bundle(bundle, TrustStore.from_settings(settings))
    direct = Predictor(loaded, threads=2).predict(read_image(cxr_path))
    assert result["labels"][0]["score"] == direct.labels[0].score


def test_missing_and_broken_files_are_errors_not_crashes(
    make_bundle: Callable[..., Path], tmp_path: Path, cxr_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from viewer.dicom.synthetic import make_cxr

    whole = tmp_path / "whole.dcm"
    make_cxr(5, opacity=False, size=(256, 256)).save_as(whole, enforce_file_format=True)
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(whole.read_bytes()[:4000])  # header intact, pixel data cut short
    code, results, err = _run(
        capsys, str(cxr_path), str(tmp_path / "missing.dcm"), str(broken),
        "--bundle", str(make_bundle()),
    )  # fmt: skip
    assert code == 1
    statuses = {Path(r["file"]).name: r["status"] for r in results}
    assert statuses["cxr.dcm"] == "scored"
    assert statuses["missing.dcm"] == "error" and statuses["broken.dcm"] == "error"
    assert all(r.get("error") for r in results if r["status"] == "error")
    assert "Traceback" not in err


def test_dicomdir(make_bundle: Callable[..., Path], tmp_path: Path,
                  capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from pydicom.fileset import FileSet

    from viewer.dicom.synthetic import make_cxr

    fs = FileSet()
    for seed in (1, 2):
        fs.add(make_cxr(seed, opacity=bool(seed % 2), size=(160, 160), patient_index=seed))
    cd = tmp_path / "cd"
    try:
        fs.write(cd)
    finally:
        fs._stage["t"].cleanup()  # pydicom stages in a TemporaryDirectory it never cleans up
    code, results, _ = _run(capsys, str(cd / "DICOMDIR"), "--bundle", str(make_bundle()))
    assert code == 0
    assert len(results) == 2 and {r["status"] for r in results} == {"scored"}


def test_heatmaps_for_positive_labels(
    make_bundle: Callable[..., Path], cxr_path: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from PIL import Image

    bundle = make_bundle(labels=(("opacity", 0.0), ("effusion", 1.0)))
    out = tmp_path / "heat"
    code, (result,), _ = _run(capsys, str(cxr_path), "--bundle", str(bundle), "--heatmap",
                              str(out))  # fmt: skip
    assert code == 0
    assert set(result["heatmaps"]) == {"opacity"}  # effusion (threshold 1.0) is negative
    png = Image.open(result["heatmaps"]["opacity"])
    assert png.size == (256, 256) and png.mode == "L"
    assert np.asarray(png).max() in (0, 255)  # normalised to its maximum (or nothing raised it)
    assert "not a localisation" in result["heatmap_caption"]


def test_model_from_the_store(
    make_bundle: Callable[..., Path], settings: Any, cxr_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from viewer.bundle.store import ModelStore

    bundle = make_bundle()
    ModelStore(settings).install(bundle)
    code, (result,), _ = _run(capsys, str(cxr_path), "--model", "infer-test")
    assert code == 0 and result["model"]["id"] == "infer-test"
    code, (result,), _ = _run(capsys, str(cxr_path))  # the most recently activated model
    assert code == 0
    code, results, err = _run(capsys, str(cxr_path), "--model", "no-such-model")
    assert code == 1 and results == [] and "no-such-model" in err


def test_untrusted_bundle_is_refused_before_any_image(
    make_bundle: Callable[..., Path], tmp_path: Path, cxr_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from viewer.bundle.keys import generate_keypair, load_private_key

    other = generate_keypair(tmp_path / "stranger")
    bundle = make_bundle(key=load_private_key(other.private_path))
    code, results, err = _run(capsys, str(cxr_path), "--bundle", str(bundle))
    assert code == 1 and results == []
    assert err.startswith("bedside: error:") and "Traceback" not in err


def test_human_output(make_bundle: Callable[..., Path], cxr_path: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    code = main(["infer", str(cxr_path), "--bundle", str(make_bundle())])
    captured = capsys.readouterr()
    assert code == 0
    assert "opacity" in captured.out and "threshold 0.50)" in captured.out
    assert "1 of 1 image(s) scored" in captured.err


def test_no_progress_bar_when_stderr_is_not_a_terminal(
    make_bundle: Callable[..., Path], cxr_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(capsys, str(cxr_path), "--bundle", str(make_bundle()))
    assert "\r" not in capsys.readouterr().err


def test_progress_bar_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    progress = _Progress(stream)
    progress.show(1, 4, "scoring", "/x/a.dcm")
    progress.show(4, 4, "scoring", "/x/b.dcm")
    progress.clear()
    text = stream.getvalue()
    assert "\r[######" in text and "4/4 scoring b.dcm" in text and text.endswith("\r")


def test_bad_thread_count_is_a_clear_error(
    make_bundle: Callable[..., Path], cxr_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, str(cxr_path), "--bundle", str(make_bundle()), "--threads", "0")
    assert code == 1 and "--threads" in err


def test_registered_in_the_root_cli(
    make_bundle: Callable[..., Path], cxr_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from viewer.cli.main import main as bedside

    code = bedside(["infer", str(cxr_path), "--bundle", str(make_bundle()), "--json"])
    (line,) = capsys.readouterr().out.splitlines()
    assert code == 0 and json.loads(line)["status"] == "scored"


def test_demo_mode_falls_back_to_the_shipped_demo_bundle(
    cxr_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from viewer.bundle.resources import DEMO_BUNDLE, resource_path

    if not resource_path(*DEMO_BUNDLE).is_file():
        pytest.skip("resources/demo/demo-cxr.bundle is not built (make demo-bundle)")
    code = main(["--demo", "infer", str(cxr_path), "--json"])
    (line,) = capsys.readouterr().out.splitlines()
    assert code == 0 and json.loads(line)["model"]["id"] == "bedside-demo-cxr"
    # without --demo the demo key is not trusted and nothing is installed
    assert main(["infer", str(cxr_path), "--json"]) == 1


def test_blank_tiny_and_invalid_window_images(
    make_bundle: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hostile-input findings 4-6 end to end: refused with a reason, or scored with a warning."""
    from viewer.dicom.synthetic import make_cxr

    folder = tmp_path / "hostile"
    folder.mkdir()
    blank = make_cxr(1, opacity=True, size=(256, 256))
    blank.PixelData = b"\x00" * len(blank.PixelData)
    blank.save_as(folder / "blank.dcm", enforce_file_format=True)
    tiny = make_cxr(2, opacity=True, size=(256, 256))
    tiny.Rows, tiny.Columns, tiny.PixelData = 1, 1, b"\x00\x00"
    tiny.save_as(folder / "tiny.dcm", enforce_file_format=True)
    flat = make_cxr(3, opacity=True, size=(256, 256))
    flat.WindowCenter, flat.WindowWidth = "100", "1e308"
    flat.save_as(folder / "flat.dcm", enforce_file_format=True)
    bad_window = make_cxr(4, opacity=True, size=(256, 256))
    bad_window.WindowCenter, bad_window.WindowWidth = "100", "0"
    bad_window.save_as(folder / "bad-window.dcm", enforce_file_format=True)
    code, results, err = _run(capsys, str(folder), "--bundle", str(make_bundle()))
    assert code == 1 and "Traceback" not in err
    by_file = {Path(r["file"]).name: r for r in results}
    for name, expected in (("blank.dcm", "blank_image"), ("tiny.dcm", "size_too_small"),
                           ("flat.dcm", "window_flat")):  # fmt: skip
        r = by_file[name]
        assert r["status"] == "refused" and "labels" not in r, name
        assert [c["code"] for c in r["checks"] if c["level"] == "refusal"] == [expected]
    scored = by_file["bad-window.dcm"]
    assert scored["status"] == "scored"
    (warning,) = [c for c in scored["checks"] if c["level"] == "warning"]
    assert warning["code"] == "stored_window_invalid_minmax"
    assert warning["params"] == {"center": "100", "width": "0"}


def test_json_gives_the_shown_and_the_raw_score_and_the_audit_row_both(
    make_bundle: Callable[..., Path], cxr_path: Path, settings: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """A calibrated bundle (op_norm): ``score`` is the shown (calibrated) score beside
    ``shown_threshold`` 0.5, ``raw_score`` beside the raw ``threshold``; both give the same
    finding. The audit row's detail holds both pairs per label (``labels_raw``)."""
    from viewer.audit import AuditLog
    from viewer.inference.postprocess import op_norm

    labels = (("opacity", 0.3), ("effusion", 0.8))
    bundle = make_bundle(labels=labels, calibration="op_norm")
    code, (result,), _ = _run(capsys, str(cxr_path), "--bundle", str(bundle))
    assert code == 0 and result["status"] == "scored"
    for r, (name, threshold) in zip(result["labels"], labels, strict=True):
        assert r["label"] == name and r["calibrated"] is True
        assert r["threshold"] == threshold and r["shown_threshold"] == 0.5
        assert r["score"] == op_norm(r["raw_score"], threshold)
        assert r["positive"] == (r["raw_score"] >= threshold) == (r["score"] >= 0.5)
    with AuditLog.open_readonly(settings.audit_db_path, settings=settings) as log:
        (shown,) = log.records(types=("ai_result_shown",))
    by_label = {x["label"]: x for x in shown.detail["labels_raw"]}
    for r in result["labels"]:
        assert by_label[r["label"]] == {
            k: r[k]
            for k in ("label", "raw_score", "threshold", "score", "shown_threshold",
                      "calibrated", "positive")
        }  # fmt: skip

    plain = make_bundle(labels=labels)
    code, (result,), _ = _run(capsys, str(cxr_path), "--bundle", str(plain))
    for r, (_, threshold) in zip(result["labels"], labels, strict=True):
        assert r["calibrated"] is False and r["score"] == r["raw_score"]
        assert r["threshold"] == r["shown_threshold"] == threshold


def test_human_output_of_a_calibrated_bundle_gives_the_raw_pair_too(
    make_bundle: Callable[..., Path], cxr_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = make_bundle(labels=(("opacity", 0.3),), calibration="op_norm")
    assert main(["infer", str(cxr_path), "--bundle", str(bundle)]) == 0
    out = capsys.readouterr().out
    assert "threshold 0.50; raw score " in out and "threshold 0.30)" in out


def test_nothing_is_scored_when_the_audit_log_cannot_be_opened(
    make_bundle: Callable[..., Path], cxr_path: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Every score is recorded: a log that cannot be opened stops the command first."""
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the data folder should be", encoding="utf-8")
    bundle = make_bundle()
    monkeypatch.setenv("BEDSIDE_DATA_DIR", str(blocker / "data"))
    code, results, err = _run(capsys, str(cxr_path), "--bundle", str(bundle))
    assert code == 1 and results == []
    assert "Nothing was scored, because every score must be recorded" in err
    assert "Traceback" not in err


def test_demo_refuses_an_image_unlike_its_reference_and_the_monitor_counts_it(
    tmp_path: Path, cxr_path: Path, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 15 item 2 end to end: the demo bundle's reference check refuses a picture that is
    not a chest radiograph (no score), the audit row says why (``out_of_distribution``), the
    drift monitor counts it in the OOD rate, and a synthetic chest image is still scored."""
    from viewer.audit import AuditLog
    from viewer.bundle.resources import DEMO_BUNDLE, resource_path
    from viewer.dicom.synthetic import make_cxr

    if not resource_path(*DEMO_BUNDLE).is_file():
        pytest.skip("resources/demo/demo-cxr.bundle is not built (make demo-bundle)")
    noise = make_cxr(5, opacity=False, size=(256, 256))
    noise.PixelData = (
        np.random.default_rng(0).integers(0, 4096, (256, 256)).astype(np.uint16).tobytes()
    )
    path = tmp_path / "noise.dcm"
    noise.save_as(path, enforce_file_format=True)
    code = main(["--demo", "infer", str(path), str(cxr_path), "--json"])
    refused, scored = (json.loads(x) for x in capsys.readouterr().out.splitlines())
    assert code == 1 and refused["status"] == "refused" and scored["status"] == "scored"
    assert "outside the images this model was validated on" in refused["error"]
    assert [c["code"] for c in refused["checks"] if c["level"] == "refusal"] == [
        "out_of_distribution"
    ]
    assert "labels" not in refused or not refused["labels"]
    with AuditLog.open_readonly(settings.audit_db_path, settings=settings) as log:
        rows = log.records(types=("ai_result_shown",))
    assert rows[0].detail["refusal_codes"] == ["out_of_distribution"] and rows[0].score is None
    assert rows[1].detail["ood"]["distance"] <= rows[1].detail["ood"]["threshold"]
    assert main(["--demo", "monitor", "report", "--window", "10", "--format", "json"]) == 0
    (model,) = json.loads(capsys.readouterr().out)["models"]
    assert model["reference"] == "reference (1000 images)"  # the bundle's own profile
    charts = {c["name"]: c for c in model["charts"]}
    assert charts["ood_rate"]["current"]["n"] == 2 and charts["ood_rate"]["current"]["rate"] == 0.5
