"""Command start-up, whole-process, as a user meets it (issue 19.1).

    .venv/bin/python bench/bench_startup.py [--runs 15]   # writes bench/results/startup.md

Each round runs, in a fresh process each and interleaved (A, B, A, B ...): a bare
``python -c pass`` (the floor), ``bedside --version``, ``bedside --help`` and ``bedside dicom
info FILE`` on one generated 1024 x 1024 CR, and the same file in a character set the header fast
path hands to pydicom (ISO_IR 144: the cost of the fallback). Medians, the ratio to the floor,
and the load average before and after. What each command imports is checked (not timed) by
tests/cli/test_startup.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEDSIDE = ROOT / ".venv" / "bin" / "bedside"
RESULTS = ROOT / "bench" / "results" / "startup.md"

TARGETS = {"--version": 100.0, "--help": 100.0, "dicom info FILE": 150.0}


def _time(argv: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - t) * 1000.0


def _import_ms(module: str) -> float:
    """Whole-process time of ``python -c "import MODULE"`` (median of 5), for the why."""
    runs = [_time([sys.executable, "-c", f"import {module}"]) for _ in range(5)]
    return statistics.median(runs)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        import pydicom

        from viewer.dicom.synthetic import write_demo_set

        (sample,) = write_demo_set(Path(tmp), n=1, seed=0, size=(1024, 1024))
        other = Path(tmp) / "iso_ir_144.dcm"
        ds = pydicom.dcmread(sample)
        ds.SpecificCharacterSet = "ISO_IR 144"
        ds.save_as(other, enforce_file_format=True)
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "--version": [str(BEDSIDE), "--version"],
            "--help": [str(BEDSIDE), "--help"],
            "dicom info FILE": [str(BEDSIDE), "dicom", "info", str(sample)],
            "dicom info FILE (pydicom path)": [str(BEDSIDE), "dicom", "info", str(other)],
        }
        load0 = os.getloadavg()
        for argv in cases.values():  # warm the page cache
            _time(argv)
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, argv in cases.items():
                times[name].append(_time(argv))
        load1 = os.getloadavg()
        why = {m: _import_ms(m) for m in ("numpy", "pydicom", "viewer.cli.dicom")}
    floor = statistics.median(times["python -c pass"])
    lines = [
        "## Command start-up (whole process)\n",
        f"Command: `.venv/bin/python bench/bench_startup.py --runs {args.runs}`; each command a "
        "fresh process, all interleaved in every round; medians. Load average (1/5/15 min) "
        f"before {load0[0]:.2f}, {load0[1]:.2f}, {load0[2]:.2f}, after {load1[0]:.2f}, "
        f"{load1[1]:.2f}, {load1[2]:.2f}.\n",
        "| command | median ms | min ms | ratio to `python -c pass` | target | |",
        "|---|---|---|---|---|---|",
    ]
    for name, runs in times.items():
        med = statistics.median(runs)
        target = TARGETS.get(name)
        verdict = "" if target is None else ("PASS" if med <= target else "NOT met")
        lines.append(
            f"| `{'bedside ' if name != 'python -c pass' else ''}{name}` | {med:.0f} | "
            f"{min(runs):.0f} | {med / floor:.2f} | "
            f"{'' if target is None else f'<= {target:.0f} ms'} | {verdict} |"
        )
    lines.append(
        "\n`--version` and `--help` import no command module, no settings (pydantic), no torch "
        "and no Qt (the root parser lists the commands from a table; "
        "tests/cli/test_startup.py). `dicom info` reads an ordinary file (explicit or implicit VR "
        "little endian, default, Latin-1 or UTF-8 text) with the header fast path "
        "(viewer/dicom/header.py, its tags and names generated from pydicom's dictionary into "
        "viewer/dicom/dictionary.py) and imports neither numpy nor pydicom; any other file (the "
        "ISO_IR 144 row; big endian, deflated, damaged) goes to pydicom with the same output "
        "(tests/cli/test_fast_header_parity.py) and pays its import: whole-process `import "
        f"numpy` {why['numpy']:.0f} ms, `import pydicom` {why['pydicom']:.0f} ms (its package "
        "import loads its pixel decoders, the python-gdcm plugin and `requests` for its "
        f"test-data download), `import viewer.cli.dicom` {why['viewer.cli.dicom']:.0f} ms."
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
