"""The window and ``bedside infer`` sit on one session: same model for the same settings, same rows.

Both choose the model through ``viewer.session.models.open_model`` and read through
``viewer.session.reading``; this test holds them to it from the outside: the bundle each one ran,
and the audit rows each one wrote for the same image, field by field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.inference.conftest import make_bundle, site_key  # noqa: F401  (fixtures)
from tests.ui.mainwin import all_rows, demo_bundle, make_window, wait_for_result  # noqa: F401

# Columns and detail keys that describe the image and the AI result (not the channel: the
# window records whether the AI was shown before or after the clinician's read, a command
# records that it was a command).
SAME_COLUMNS = (
    "outcome",
    "model_id",
    "model_version",
    "bundle_digest",
    "threshold",
    "score",
    "ai_finding",
    "patient_pseudonym",
    "study_pseudonym",
    "series_pseudonym",
    "sop_pseudonym",
    "accession_pseudonym",
)
SAME_DETAIL = ("labels", "warnings", "threads", "pixel_sha256", "demo_model")


def gui_ai_demo(rows: list[Any]) -> bool:
    """Whether the window's ai_result_shown row says the demo model made it."""
    (row,) = [r for r in rows if r.type == "ai_result_shown"]
    return bool(row.detail.get("demo_model", False))


def _fields(row: Any) -> dict[str, Any]:
    detail = row.detail
    return {
        **{c: getattr(row, c) for c in SAME_COLUMNS},
        **{f"detail.{k}": detail.get(k) for k in SAME_DETAIL},
    }


@pytest.mark.parametrize("where", ["demo", "store"])
def test_window_and_infer_choose_the_same_model_and_record_the_same_fields(
    where: str,
    qtbot: Any,
    make_window: Any,  # noqa: F811
    make_bundle: Callable[..., Path],  # noqa: F811
    cxr_path: Path,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    from viewer.bundle.store import ModelStore
    from viewer.cli.main import main
    from viewer.config import load_settings

    demo = where == "demo"
    if demo:
        request.getfixturevalue("demo_bundle")  # skips when the demo bundle is not built
    settings = load_settings(demo=demo)
    if not demo:
        ModelStore(settings).install(make_bundle(), activate=True)

    window = make_window(settings, [cxr_path])
    wait_for_result(qtbot, window)
    gui_digest = window.loaded.digest
    window.shutdown()
    gui_rows = all_rows(settings)

    code = main([*(["--demo"] if demo else []), "infer", str(cxr_path), "--json"])
    (result,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    assert code == 0 and result["status"] == "scored" and result["recorded"] is True
    assert result["demo"] is demo and result["demo_model"] is demo
    # the demo model's warning is on screen in the window, not only in a tooltip
    assert window.ai_panel.demo_warning.isVisibleTo(window) is demo
    assert gui_ai_demo(gui_rows) is demo
    assert result["model"]["bundle_digest"] == gui_digest  # the same model, chosen once

    cli_rows = all_rows(settings)[len(gui_rows) :]
    gui_ai = [r for r in gui_rows if r.type == "ai_result_shown"]
    cli_ai = [r for r in cli_rows if r.type == "ai_result_shown"]
    assert len(gui_ai) == len(cli_ai) == 1
    assert _fields(gui_ai[0]) == _fields(cli_ai[0])
    assert gui_ai[0].ai_shown == "before_read" and cli_ai[0].ai_shown is None
    assert gui_ai[0].detail["reading_order"] == "ai_first"
    assert cli_ai[0].detail["channel"] == "cli"
    gui_open = [r for r in gui_rows if r.type == "image_opened"]
    cli_open = [r for r in cli_rows if r.type == "image_opened"]
    assert [(r.sop_pseudonym, r.detail) for r in gui_open] == [
        (r.sop_pseudonym, r.detail) for r in cli_open
    ]
    assert cli_ai[0].score == pytest.approx(result["labels"][0]["score"])
    assert not [
        r for r in cli_rows if r.type in ("decision", "amendment")
    ]  # a command decides nothing
