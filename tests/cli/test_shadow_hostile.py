"""Shadow mode under hostile conditions: the candidate's file removed, truncated or swapped
after it was set; a comparison whose decided images are all of one class; odd ids. The active
reading always goes on, every candidate failure is a recorded row, and no command tracebacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_shadow import _rows, decide_all, shadow_scored, shadowed, two_versions
from viewer.cli.main import main

__all__ = ["shadow_scored", "shadowed", "two_versions"]  # fixtures used here


def _candidate_file(settings: Any) -> Path:
    return Path(settings.model_store_dir) / "infer-test" / "1.1.0.bundle"


@pytest.mark.parametrize("damage", ["removed", "truncated", "emptied", "a-folder", "swapped"])
def test_a_candidate_damaged_on_disk_is_recorded_and_the_reading_goes_on(
    shadowed: str,
    settings: Any,
    cxr_dir: Path,
    capsys: pytest.CaptureFixture[str],
    two_versions: tuple[Path, Path],
    damage: str,
) -> None:
    stored = _candidate_file(settings)
    assert stored.is_file()
    if damage == "removed":
        stored.unlink()
    elif damage == "truncated":
        stored.write_bytes(stored.read_bytes()[:1000])
    elif damage == "emptied":
        stored.write_bytes(b"")
    elif damage == "a-folder":
        stored.unlink()
        stored.mkdir()
    else:  # the active version's (signed, valid) file under the candidate's name
        stored.write_bytes(two_versions[0].read_bytes())
    capsys.readouterr()
    status = main(["infer", str(cxr_dir), "--json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "Traceback" not in err
    scored = [json.loads(line) for line in out.splitlines() if "{" in line]
    assert scored and all(r["status"] == "scored" for r in scored)
    rows = _rows(settings, "shadow_result")
    assert len(rows) == len(scored)
    assert all(r.outcome == "failure" and r.detail["stage"] == "load" for r in rows)
    assert all(r.model_version == "1.1.0" for r in rows)


@pytest.mark.parametrize("finding", ["positive", "negative"])
def test_compare_with_one_class_only_says_so(
    shadow_scored: list[Any], settings: Any, capsys: pytest.CaptureFixture[str], finding: str
) -> None:
    decide_all(settings, shadow_scored, lambda _i: finding == "positive")
    for fmt in ([], ["--json"]):
        status = main(["model", "compare", *fmt])
        out, err = capsys.readouterr()
        assert status in (0, 1), err
        assert "Traceback" not in err
        if fmt:
            json.loads(out)  # valid JSON (no NaN)
            assert "NaN" not in out and "Infinity" not in out


@pytest.mark.parametrize(
    "argv",
    [["bundle", "shadow", "infer-test", "1.0.0"], ["bundle", "shadow", "infer-test", "9.9.9"],
     ["bundle", "shadow", "no-such-model", "1.0.0"], ["bundle", "shadow", "\x1b[2J", "1"],
     ["bundle", "shadow", "--stop", "\u202eevil"], ["model", "compare", "--candidate", "@"],
     ["model", "compare", "--candidate", "infer-test@"], ["model", "compare", "--margin", "nan"],
     ["model", "compare", "--label", "\x1b[2J"]],
    ids=["the-active-version", "not-installed", "unknown-model", "escape-id", "rtl-stop",
         "empty-candidate", "no-version", "nan-margin", "escape-label"],
)  # fmt: skip
def test_odd_shadow_and_compare_arguments_are_one_clear_line(
    shadowed: str, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    capsys.readouterr()
    status = main(argv)
    out, err = capsys.readouterr()
    assert status in (1, 2), out
    assert "Traceback" not in err and err.count("\n") <= 1
    assert "\x1b" not in err and "\u202e" not in err
