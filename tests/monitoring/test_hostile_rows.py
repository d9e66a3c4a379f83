"""The drift monitor over a legitimately written audit log whose detail fields are hostile (any
program with the log open can append them): huge strings, NaN, nested lists, thousands of
distinct manufacturers. The report must come out, bounded in memory, as JSON and PDF."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_monitor import DEMO
from viewer.audit import AuditEvent, AuditLog, EventType
from viewer.cli.main import main
from viewer.config import Settings

N = 200


def _opened(kind: str, i: int) -> dict[str, Any]:
    base: dict[str, Any] = {"modality": "DX", "view": "PA", "manufacturer": "Bedside Synthetic",
                            "photometric": "MONOCHROME2", "patient_sex": "F", "bits_stored": 12,
                            "rows": 512, "columns": 512, "pixel_spacing_mm": 0.2}  # fmt: skip
    if kind == "huge-strings":
        base.update(manufacturer=f"{i}" + "M" * 200_000, view="V" * 100_000)
    elif kind == "distinct-manufacturers":
        base.update(manufacturer=f"Vendor {i:05d} " + "x" * 100)
    elif kind == "nested":
        base.update(manufacturer=[[["a"] * 50] * 50], rows=[[1, 2], [3]], view={"a": {"b": [1]}})
    elif kind == "non-finite":
        base.update(rows=float("nan"), columns=float("inf"), pixel_spacing_mm=-1e308,
                    bits_stored=float("nan"))  # fmt: skip
    elif kind == "wrong-types":
        base.update(manufacturer=None, rows="many", columns=True, pixel_spacing_mm=[0.2, "x"],
                    patient_sex=12, bits_stored={"x": 1})  # fmt: skip
    elif kind == "huge-integers":
        base.update(
            rows=10**400, columns=-(10**400), pixel_spacing_mm=[10**400], bits_stored=10**400
        )
    elif kind == "escapes":
        base.update(manufacturer="\x1b[2J\u202eEVIL\u0000\u009b31m", view="<b>&amp;</b>")
    return base


def _shown(kind: str, i: int) -> dict[str, Any]:
    if kind == "non-finite":
        return {"labels": {"opacity": float("nan")}, "channel": "cli"}
    if kind == "wrong-types":
        return {"labels": ["opacity", 0.5] if i % 2 else "opacity", "channel": None}
    if kind == "nested":
        return {"labels": {"opacity": [[0.5]], "other": {"x": 1}}}
    if kind == "huge-strings":
        return {"labels": {"L" * 50_000: 0.5, "opacity": 0.2}}
    return {"labels": {"opacity": 0.02 + (i % 50) / 100}, "channel": "cli"}


def _fill(settings: Settings, kind: str, n: int) -> None:
    events: list[AuditEvent] = []
    for i in range(n):
        ids = {"patient_id": f"P{i}", "sop_uid": f"1.2.3.{i}"}
        common = {"model_id": DEMO[0], "model_version": DEMO[1], "threshold": 0.087,
                  "score": 0.02 + (i % 50) / 100}  # fmt: skip
        events += [
            AuditEvent(type=EventType.IMAGE_OPENED, detail=_opened(kind, i), **ids),
            AuditEvent(type=EventType.AI_RESULT_SHOWN, detail=_shown(kind, i), **common, **ids),
            AuditEvent(type=EventType.DECISION, meaning="overrode" if i % 7 == 0 else "confirmed",
                       detail={"label": "opacity", "provisional_finding": None},
                       **common, **ids),
        ]  # fmt: skip
    with AuditLog.open(settings) as log:
        log.append_all(events)


KINDS = ["huge-strings", "distinct-manufacturers", "nested", "non-finite", "huge-integers",
         "wrong-types", "escapes"]  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_details_still_give_a_bounded_report(
    demo_settings: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path, kind: str
) -> None:
    _fill(demo_settings, kind, N)
    tracemalloc.start()
    try:
        status = main(["--demo", "monitor", "report", "--cases", str(N), "--no-record"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    out, err = capsys.readouterr()
    assert status in (0, 3), err
    report = json.loads(out)
    assert report["models"] and "\x1b" not in out and "\u202e" not in out
    assert peak < 96 * 1024 * 1024, f"{peak / 2**20:.0f} MiB for {N} cases"
    pdf = tmp_path / "report.pdf"
    status = main(["--demo", "monitor", "report", "--cases", str(N), "--no-record",
                   "--format", "pdf", "-o", str(pdf)])  # fmt: skip
    err = capsys.readouterr().err
    assert status in (0, 3), err
    assert pdf.read_bytes().startswith(b"%PDF")


def _shown_rows(settings: Settings, details: list[dict[str, Any]], outcome: str) -> list[Any]:
    events = [
        AuditEvent(
            type=EventType.AI_RESULT_SHOWN,
            outcome=outcome,
            detail=detail,
            model_id="m",
            model_version="1",
            threshold=0.5,
            score=0.3,
            reason="refused" if outcome == "failure" else None,
            patient_id=f"P{i}",
            sop_uid=f"1.2.3.{i}",
        )
        for i, detail in enumerate(details)
    ]
    with AuditLog.open(settings) as log:
        log.append_all(events)
        return list(log.iter_records())


def test_a_new_label_on_every_row_stays_linear(settings: Settings) -> None:
    """3,000 rows each naming another label: a score column per label was rows x labels
    (6,000 rows took 40 s and 1.7 GB); the labels scored most often are kept."""
    from viewer.monitoring.cases import MAX_LABELS, streams_from_records

    n = 3000
    records = _shown_rows(
        settings, [{"labels": {f"bogus {i}": 0.5, "opacity": 0.3}} for i in range(n)], "success"
    )
    tracemalloc.start()
    try:
        streams = streams_from_records(records)[("m", "1")]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "opacity" in streams.labels and len(streams.labels) == MAX_LABELS
    assert peak < 64 * 1024 * 1024, f"{peak / 2**20:.0f} MiB"


@pytest.mark.parametrize(
    "codes", [5, True, "out_of_distribution", {"a": 1}, None, [["x"]]],
    ids=["int", "bool", "string", "dict", "none", "nested"],
)  # fmt: skip
def test_refusal_codes_of_any_shape(settings: Settings, codes: Any) -> None:
    from viewer.monitoring.cases import streams_from_records

    records = _shown_rows(settings, [{"refused": True, "refusal_codes": codes}] * 3, "failure")
    streams = streams_from_records(records)[("m", "1")]
    assert list(streams.results.columns["refused"]) == [1.0, 1.0, 1.0]
