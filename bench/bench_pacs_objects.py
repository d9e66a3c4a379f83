"""PACS objects (issue 17): time to build and encode one reading's SR, Secondary Capture and GSPS,
beside pydicom writing the source image itself (the floor for "encode an image this size").

    .venv/bin/python bench/bench_pacs_objects.py [--rounds N]  # -> bench/results/pacs_objects.md

Report: the synthetic chest X-ray as source and display (512 x 512 and 3000 x 3000; the capture
is scaled to 2048), three labels, three decisions (one reason in Japanese), two input checks,
seven annotations, a heatmap. In every round, order alternating: ``build_objects`` + ``encode``
for each kind alone, all three together, and ``dcmwrite`` of the source image (pixels included)
to memory. Medians of N rounds after one warm-up (imports, highdicom's tables, the font).
"""

from __future__ import annotations

import io
import os
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import timed, write_section  # noqa: E402 - after the path

RESULTS = ROOT / "bench" / "results" / "pacs_objects.md"
SIZES = (512, 3000)


def main() -> int:
    from pydicom import dcmwrite

    from tests.pacs.reports import make_report
    from viewer.dicom.synthetic import make_cxr
    from viewer.pacs.objects import build_objects, encode

    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 7
    arms: dict[tuple[int, str], list[float]] = {}
    sizes: dict[tuple[int, str], int] = {}
    load0 = os.getloadavg()
    for side in SIZES:
        report = make_report(size=(side, side))
        source = make_cxr(3, opacity=True, size=(side, side))

        def build(kinds: set[str], report: Any = report) -> None:
            for ds in build_objects(report, kinds):
                encode(ds)

        def write_source(source: Any = source) -> None:
            dcmwrite(io.BytesIO(), source, enforce_file_format=True)

        steps: dict[str, Any] = {
            "sr": lambda: build({"sr"}),
            "sc": lambda: build({"sc"}),
            "gsps": lambda: build({"gsps"}),
            "all": lambda: build({"sr", "sc", "gsps"}),
            "source": write_source,
        }
        build({"sr", "sc", "gsps"})  # warm-up
        for ds in build_objects(report):
            sizes[(side, str(ds.Modality))] = len(encode(ds))
        buffer = io.BytesIO()
        dcmwrite(buffer, source, enforce_file_format=True)
        sizes[(side, "source")] = len(buffer.getvalue())
        for r in range(rounds):
            order = list(steps) if r % 2 == 0 else list(reversed(steps))
            for name in order:
                arms.setdefault((side, name), []).append(timed(steps[name]))
    load1 = os.getloadavg()
    med = {k: statistics.median(v) for k, v in arms.items()}
    labels = {
        "sr": "SR (TID 1500) build + encode",
        "sc": "Secondary Capture build + encode",
        "gsps": "GSPS build + encode",
        "all": "all three, one `build_objects` call",
        "source": "reference: pydicom writes the source image",
    }
    size_key = {"sr": "SR", "sc": "OT", "gsps": "PR", "source": "source"}
    lines = [
        "## PACS objects: build and encode per reading (bench/bench_pacs_objects.py)",
        "",
        f"Command: `.venv/bin/python bench/bench_pacs_objects.py --rounds {rounds}`. "
        "Arms interleaved in each round (order alternating), medians of "
        f"{rounds} after a warm-up. Load average (1/5/15 min) before {load0[0]:.2f}, "
        f"{load0[1]:.2f}, {load0[2]:.2f}, after {load1[0]:.2f}, {load1[1]:.2f}, {load1[2]:.2f}.",
        "",
        "| image | what | median ms | runs (ms) | bytes | ratio to the reference |",
        "|---|---|---|---|---|---|",
    ]
    for side in SIZES:
        for name, label in labels.items():
            runs = ", ".join(f"{x:.0f}" for x in arms[(side, name)])
            key = size_key.get(name)
            size = f"{sizes[(side, key)]:,}" if key is not None else ""
            ratio = med[(side, name)] / med[(side, "source")]
            lines.append(
                f"| {side} x {side} | {label} | {med[(side, name)]:.0f} | {runs} | {size} | "
                f"{ratio:.1f}x |"
            )
    lines += [
        "",
        "The SR's cost is highdicom's content-tree construction and checks (independent of the "
        "image size); the capture's is the heatmap blend, the text rendering (Pillow, Noto CJK) "
        "and the RGB pixels (3000-pixel images are scaled to 2048 first). Sending is measured "
        "with the transports (bench/bench_pacs.py).",
        "",
    ]
    write_section(RESULTS, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
