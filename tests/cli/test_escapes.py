"""Issue 12 item 18: text that comes from a file never reaches the terminal raw.

A manifest name once carried ``ESC [1A ESC [2K`` and rewrote the printed "NOT VERIFIED" line to
read "VERIFIED". Every command that prints file text (a manifest, the model store, a DICOM
header, a stored audit reason) goes through one function, :func:`viewer.errors.printable`; the
JSON outputs write the same characters as ``\\u`` escapes. Each command is run here on a crafted
input and its whole output is searched for every class of dangerous character.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from viewer.errors import BedsideError, printable, printable_json

# ESC sequences (cursor up, erase line, OSC title), a bare CR, CSI as one C1 byte, a C1 NEL, a
# BEL, DEL, and the bidi override/isolate that reorder text on screen.
EVIL = "A\x1b[1A\x1b[2K\rVERIFIED\x9b2J\x85\x07\x7f\u202eDETREVNI\u202c\u2066x\u2069\x1b]0;t\x07"
DANGEROUS = [
    "\x1b", "\r", "\x9b", "\x85", "\x07", "\x7f", "\u202e", "\u202c", "\u2066", "\u2069",
]  # fmt: skip


def assert_clean(text: str) -> None:
    found = [f"U+{ord(c):04X}" for c in DANGEROUS if c in text]
    assert not found, f"raw control characters printed: {found}"


@pytest.mark.parametrize(
    "char",
    ["\x00", "\x1b", "\x9b", "\x85", "\x7f", "\u061c", "\u200f", "\u2028"]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)],
)
def test_printable_marks_every_control_class(char: str) -> None:
    assert printable(f"a{char}b") == "a\ufffdb"
    assert printable(f"a{char}b", multiline=True) == "a\ufffdb"


def test_printable_line_breaks() -> None:
    assert printable("a\tb\r\nc\rd") == "a b c d"
    assert printable("a\tb\r\nc\rd\ne", multiline=True) == "a\tb\nc\nd\ne"
    assert json.loads(printable_json(json.dumps(EVIL, ensure_ascii=False))) == EVIL
    assert_clean(printable_json(json.dumps(EVIL, ensure_ascii=False)))


def test_error_messages_are_printable() -> None:
    exc = BedsideError(f"bad value {EVIL}\nsecond line", path=f"/tmp/{EVIL}")
    assert_clean(str(exc))
    assert "\nsecond line" in str(exc)


def test_model_card_clean_is_the_one_function() -> None:
    from viewer.bundle import model_card

    assert model_card.clean(EVIL) == printable(EVIL)


# ----------------------------------------------------------------------------- bundle commands


def _run_bundle(argv: list[str]) -> int:
    from viewer.cli import bundle as cli
    from viewer.config import load_settings

    parser = argparse.ArgumentParser(prog="bedside")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    args.demo = False
    args.settings = load_settings()
    result: int = args.func(args)
    return result


def _evil_manifest(data: dict[str, Any]) -> None:
    data["name"] = f"Evil {EVIL}"
    data["labels"][0]["display_name"] = f"Opacity {EVIL}"[:100]
    data["intended_use"] = f"Tests {EVIL}"


@pytest.fixture
def evil_bundle(
    make_bundle: Callable[..., Path], resign: Callable[..., Path], tmp_path: Path
) -> Path:
    return resign(make_bundle(), _evil_manifest, tmp_path / "evil.bundle")


def test_bundle_commands_print_manifest_text_escaped(
    evil_bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (
        ["bundle", "verify", str(evil_bundle)],
        ["bundle", "verify", str(evil_bundle), "--json"],
        ["bundle", "inspect", str(evil_bundle)],
        ["bundle", "inspect", str(evil_bundle), "--json"],
        ["bundle", "install", str(evil_bundle)],
        ["bundle", "list"],
        ["bundle", "list", "--json"],
    ):
        assert _run_bundle(argv) == 0, argv
        captured = capsys.readouterr()
        assert_clean(captured.out + captured.err)
    out = capsys.readouterr().out
    assert_clean(out)


def test_unverified_inspect_keeps_its_banner(
    evil_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The finding itself: a bundle no key here trusts, whose manifest tries to print
    "VERIFIED" over the NOT VERIFIED banner."""
    import shutil

    shutil.rmtree(tmp_path / "site" / "trusted-keys")
    assert _run_bundle(["bundle", "inspect", str(evil_bundle), "--unverified"]) == 1
    out = capsys.readouterr().out
    assert_clean(out)
    assert out.startswith("!" * 78 + "\nNOT VERIFIED")


def test_keys_list_escapes_key_file_names(
    tmp_path: Path, make_key: Callable[[str], Any], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "site" / "trusted-keys"
    folder.mkdir(parents=True)
    pair = make_key("k")
    (folder / f"x\x1b[2K\r{EVIL[:4]}.pem").write_bytes(pair.public_path.read_bytes())
    (folder / "broken\x1b[2K.pem").write_bytes(b"not a key")
    assert _run_bundle(["keys", "list"]) == 0
    captured = capsys.readouterr()
    assert_clean(captured.out + captured.err)


# ----------------------------------------------------------------------------- infer


def test_infer_human_output_escapes_manifest_text(
    evil_bundle: Path, cxr_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from viewer.cli.main import main

    assert main(["infer", str(cxr_path), "--bundle", str(evil_bundle)]) in (0, 1)
    captured = capsys.readouterr()
    assert "Opacity" in captured.out
    assert_clean(captured.out + captured.err)
    main(["infer", str(cxr_path), "--bundle", str(evil_bundle), "--json"])
    captured = capsys.readouterr()
    assert_clean(captured.out)
    assert json.loads(captured.out.splitlines()[0])["file"] == str(cxr_path)


# ----------------------------------------------------------------------------- dicom commands


@pytest.fixture
def evil_dicom(tmp_path: Path) -> Path:
    from viewer.dicom.synthetic import make_cxr

    folder = tmp_path / "evil-study"
    folder.mkdir()
    ds = make_cxr(4, opacity=False, size=(128, 128))
    ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8: C1 and bidi characters stored as they are
    ds.PatientName = "Doe^Jane\x1b[2K\rVERIFIED"
    ds.StudyDescription = f"CHEST {EVIL}"[:64]
    ds.SeriesDescription = "PA\u202eAP"
    path = folder / "evil\x1b[2K\rVERIFIED\u202e.dcm"  # a file name is file text too
    ds.save_as(path, enforce_file_format=True)
    return path


def test_dicom_info_and_scan_escape_header_text(
    evil_dicom: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from viewer.cli.main import main

    for argv in (
        ["dicom", "info", str(evil_dicom)],
        ["dicom", "info", str(evil_dicom), "--json"],
        ["dicom", "scan", str(evil_dicom.parent)],
        ["dicom", "scan", str(evil_dicom.parent), "--json"],
    ):
        assert main(argv) == 0, argv
        captured = capsys.readouterr()
        assert "VERIFIED" in captured.out
        assert_clean(captured.out + captured.err)


# ----------------------------------------------------------------------------- audit show


def test_audit_show_escapes_stored_reasons(capsys: pytest.CaptureFixture[str]) -> None:
    from viewer.audit import AuditEvent, AuditLog, EventType
    from viewer.cli.main import main
    from viewer.config import load_settings

    with AuditLog.open(load_settings()) as log:
        log.append(
            AuditEvent(type=EventType("bundle_refused"), outcome="failure", reason=f"x {EVIL}")
        )
    for argv in (["audit", "show"], ["audit", "show", "--json"]):
        main(argv)
        captured = capsys.readouterr()
        assert "VERIFIED" in captured.out
        assert_clean(captured.out + captured.err)
