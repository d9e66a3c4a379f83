"""Refresh the Japanese catalogue: pyside6-lupdate over viewer/ui/*.py, then pyside6-lrelease.

Usage (from the repository root or anywhere)::

    .venv/bin/python packaging/update_translations.py            # update .ts, compile .qm
    .venv/bin/python packaging/update_translations.py --check    # also fail on untranslated text

Why a script and not a Makefile rule: it must run the same way on the developers' machines and in
the packaging job, with the lupdate/lrelease that PySide6-Essentials installs beside the venv's
Python. ``resources/i18n/bedside_ja.ts`` is the source of truth for translations (edit it with
``pyside6-linguist`` or by hand); lupdate keeps existing translations, adds new source strings as
``type="unfinished"`` and, with ``-no-obsolete``, drops strings no longer in the code. Locations
are not written, so moving code does not churn the file.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "viewer" / "ui"
I18N = ROOT / "resources" / "i18n"
LANGUAGES = ("ja",)


def tool(name: str) -> str:
    """The PySide6 tool beside this Python (the venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found: install PySide6-Essentials into this Python's venv.")
    return found


def sources() -> list[str]:
    return [str(p) for p in sorted(SOURCES.glob("*.py"))]


def lupdate(ts: Path, files: list[str] | None = None) -> None:
    cmd = [tool("pyside6-lupdate"), *(files or sources())]
    cmd += ["-ts", str(ts), "-no-obsolete", "-locations", "none", "-silent"]
    subprocess.run(cmd, check=True)


def lrelease(ts: Path, qm: Path) -> None:
    subprocess.run([tool("pyside6-lrelease"), str(ts), "-qm", str(qm), "-silent"], check=True)


def unfinished(ts: Path) -> list[str]:
    """Source strings without a finished, non-empty translation ("context: source")."""
    out = []
    for context in ET.parse(ts).getroot().iter("context"):  # noqa: S314 - our own file
        name = context.findtext("name", "")
        for message in context.iter("message"):
            tr = message.find("translation")
            forms = [] if tr is None else [f.text or "" for f in tr.iter("numerusform")]
            text = "" if tr is None else (tr.text or "")
            empty = not (any(f.strip() for f in forms) if forms else text.strip())
            if tr is None or tr.get("type") in ("unfinished", "vanished", "obsolete") or empty:
                out.append(f"{name}: {message.findtext('source', '')}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if any string is untranslated")
    args = parser.parse_args(argv)
    status = 0
    for lang in LANGUAGES:
        ts = I18N / f"bedside_{lang}.ts"
        qm = I18N / f"bedside_{lang}.qm"
        lupdate(ts)
        lrelease(ts, qm)
        missing = unfinished(ts)
        print(f"{ts.relative_to(ROOT)}: {len(missing)} untranslated; compiled {qm.name}")
        for item in missing:
            print(f"  untranslated: {item}")
        if missing and args.check:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
