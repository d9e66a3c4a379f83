"""The automatic window against dcmtk's renderings on the real samples (docs/display.md).

    .venv/bin/python bench/auto_window_compare.py ../shared/samples [--png-dir /tmp/aw]

For each sample: dcmtk's ``dcmj2pnm`` with its default (no VOI: the stored bits' range),
``+Wm`` (min-max), ``+Wh 1`` and ``+Wh 5`` (histogram window, 1 % / 5 % from each end), the
stored window, the former automatic window (0.5 % symmetric tails) and the chosen one
(2 % dark / 0.1 % bright, viewer.dicom.display). dcmtk cannot decode JPEG 2000, so a
compressed sample is first written uncompressed with our decoded stored values (same header).
Per region (lungs, mediastinum, below the diaphragm; rectangles in tests/dicom/test_samples.py):
mean grey level, spread (5..95 % of grey levels), % black (<= 2) and % white (>= 253).
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image
from pydicom.uid import ExplicitVRLittleEndian

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.dicom.test_samples import DISPLAY_REGIONS, _region  # noqa: E402
from viewer.dicom import DisplayRenderer, Window, read_image  # noqa: E402
from viewer.dicom.display import window_between  # noqa: E402


def dcmtk(path: Path, out: Path, *options: str) -> np.ndarray:
    subprocess.run(["dcmj2pnm", *options, str(path), str(out)], check=True, capture_output=True)
    with Image.open(out) as im:
        return np.asarray(im.convert("L"))


def uncompressed(path: Path, tmp: Path) -> Path:
    ds = pydicom.dcmread(path)
    if not ds.file_meta.TransferSyntaxUID.is_compressed:
        return path
    image = read_image(path)
    ds.PixelData = image.stored.astype(image.stored.dtype.newbyteorder("<")).tobytes()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds["PixelData"].VR = "OW" if image.stored.dtype.itemsize > 1 else "OB"
    out = tmp / (path.stem + "-raw.dcm")
    ds.save_as(out, enforce_file_format=True)
    return out


def symmetric(image, tail: float) -> Window:  # type: ignore[no-untyped-def]
    lo, hi = np.percentile(image.modality, [100 * tail, 100 * (1 - tail)])
    return window_between(float(lo), float(hi), "")


def row(name: str, regions: dict[str, list], buf: np.ndarray) -> str:  # type: ignore[type-arg]
    cells = []
    for rects in regions.values():
        v = _region(buf, rects)
        spread = np.percentile(v, 95) - np.percentile(v, 5)
        cells.append(
            f"{v.mean():.0f} / {spread:.0f} / {100 * (v <= 2).mean():.1f} / "
            f"{100 * (v >= 253).mean():.1f}"
        )
    return f"| {name} | " + " | ".join(cells) + " |"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("samples", type=Path)
    ap.add_argument("--png-dir", type=Path)
    args = ap.parse_args()
    print("| rendering | lungs | mediastinum | below diaphragm |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for name, regions in DISPLAY_REGIONS.items():
            path = args.samples / name
            image = read_image(path)
            renderer = DisplayRenderer(image)
            raw = uncompressed(path, tmp)
            rows: list[tuple[str, np.ndarray]] = [
                ("dcmtk default", dcmtk(raw, tmp / "d.pgm")),
                ("dcmtk +Wm", dcmtk(raw, tmp / "m.pgm", "+Wm")),
                ("dcmtk +Wh 1", dcmtk(raw, tmp / "h1.pgm", "+Wh", "1")),
                ("dcmtk +Wh 5", dcmtk(raw, tmp / "h5.pgm", "+Wh", "5")),
            ]
            for win in image.windows:
                rows.append((f"stored {win.label()}", renderer.render(win)))
            rows.append(("former auto (0.5 % tails)", renderer.render(symmetric(image, 0.005))))
            rows.append((f"**chosen auto** ({image.auto_window.label()})", renderer.render()))
            print(f"| **{name}** | | | |")
            for label, buf in rows:
                print(row(label, regions, buf))
                if args.png_dir:
                    args.png_dir.mkdir(parents=True, exist_ok=True)
                    safe = "".join(ch if ch.isalnum() else "-" for ch in label).strip("-")
                    Image.fromarray(buf).save(args.png_dir / f"{path.stem}-{safe}.png")
    print("\ncells: mean grey / spread (5..95 %) / % black (<= 2) / % white (>= 253)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
