"""Imported TorchXRayVision DenseNet-121 throughput and the skimage-linear resize's cost.

`.venv/bin/python bench/bench_import.py [--images 200] [--rounds 2]`. Writes
bench/results/import.md. Needs the test dependencies (torchxrayvision, torchvision) to save a
random-weights release file in the library's format (tests/bundle/txv_reference.py).

- ``bedside infer --json`` over N generated 12-bit 1024 x 1024 images (fresh process each run)
  with the bundle ``bundle import torchxrayvision --resize readme`` made, beside N bare
  ``model(x)`` forwards of the same network on one preprocessed tensor: interleaved
  A, B, A, B ..., medians and their ratio.
- The ``skimage-linear`` resize (with antialias: Gaussian pre-filter + linear, float64) of a
  2048 x 2048 image to 224, beside ``F.interpolate(bilinear, antialias=True)`` and, when
  installed, scikit-image's ``resize`` itself: interleaved, medians.

The load average (1 min) is printed before and after: figures taken on a busy machine say so.
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

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "results" / "import.md"
THREADS = 2


def infer_seconds(bundle: Path, folder: Path, env: dict[str, str]) -> tuple[float, int]:
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "viewer", "infer", str(folder), "--bundle", str(bundle),
         "--json", "--threads", str(THREADS)],
        capture_output=True, text=True, env=env, cwd=ROOT, check=False,
    )  # fmt: skip
    took = time.perf_counter() - t
    if proc.returncode != 0:
        print(proc.stderr[-2000:], file=sys.stderr)
    return took, len([line for line in proc.stdout.splitlines() if line.strip()])


def bare_seconds(loaded: object, image_path: Path, n: int) -> float:
    import torch

    from viewer.dicom import read_image
    from viewer.inference.preprocess import ModelInput, preprocess

    manifest = loaded.manifest  # type: ignore[attr-defined]
    x = preprocess(ModelInput.from_image(read_image(image_path)), manifest.preprocessing)
    model = loaded.model  # type: ignore[attr-defined]
    t = torch.from_numpy(x)[None]
    with torch.inference_mode():
        model(t)
        start = time.perf_counter()
        for _ in range(n):
            model(t)
    return time.perf_counter() - start


def resize_ms(rounds: int) -> dict[str, float]:
    import torch
    import torch.nn.functional as F  # noqa: N812

    from viewer.inference.preprocess import _skimage_linear

    rng = np.random.default_rng(0)
    x = (rng.random((1, 2048, 2048), dtype=np.float32) * 2048 - 1024).astype(np.float32)
    fns = {
        "skimage-linear (ours)": lambda: _skimage_linear(x, 224, True),
        "F.interpolate bilinear antialias": lambda: F.interpolate(
            torch.from_numpy(x)[None], size=(224, 224), mode="bilinear", antialias=True
        ),
    }
    try:
        from skimage.transform import resize

        fns["scikit-image resize"] = lambda: resize(
            x, (1, 224, 224), mode="constant", preserve_range=True
        )
    except ImportError:
        pass
    times: dict[str, list[float]] = {k: [] for k in fns}
    for fn in fns.values():
        fn()  # warm
    for _ in range(rounds):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t) * 1000)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from bench.bench_inference import bench_site, machine, make_images
    from tests.bundle.txv_reference import save_densenet_release
    from viewer.bundle.importers import import_torchxrayvision
    from viewer.bundle.loader import load_bundle
    from viewer.inference.engine import configure_threads

    configure_threads(THREADS)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bedside-bench-import-") as tmp:
        work = Path(tmp)
        env, key, trust = bench_site(work)
        weights = work / "densenet121-res224-all.pt"
        save_densenet_release(weights, "densenet121-res224-all")
        bundle = work / "txv.bundle"
        import_torchxrayvision(
            weights, weights_name="densenet121-res224-all", out=bundle,
            private_key=key,
        )  # fmt: skip
        loaded = load_bundle(bundle, trust)
        folder = work / "images"
        paths = make_images(folder, args.images, (1024, 1024), 4000)
        infer_runs: list[float] = []
        bare_runs: list[float] = []
        counts = []
        for _ in range(args.rounds):
            took, count = infer_seconds(bundle, folder, env)
            infer_runs.append(took)
            counts.append(count)
            bare_runs.append(bare_seconds(loaded, paths[0], args.images))
        resize = resize_ms(max(5, args.rounds * 3))
    load_after = os.getloadavg()[0]
    infer_s, bare_s = statistics.median(infer_runs), statistics.median(bare_runs)
    lines = [
        "## Imported TorchXRayVision DenseNet-121 (bundle import, --resize readme)\n",
        f"Machine: {machine()}. Load average (1 min) {load_before:.2f} before, "
        f"{load_after:.2f} after. Interleaved A, B x {args.rounds}, medians.\n",
        "| run | seconds for the batch | images/s |",
        "|---|---|---|",
        f"| `bedside infer --json` over {args.images} generated 12-bit 1024 x 1024 images "
        f"(fresh process, results {counts}) | {infer_s:.1f} | {args.images / infer_s:.2f} |",
        f"| {args.images} bare forwards on one preprocessed tensor | {bare_s:.1f} | "
        f"{args.images / bare_s:.2f} |",
        f"\nRatio infer / bare: {infer_s / bare_s:.2f} (decode, checks, preprocessing with the "
        "scikit-image-equivalent resize, audit rows, process start).\n",
        "## Resize 2048 x 2048 -> 224 (float32 image, medians of interleaved runs)\n",
        "| method | ms |",
        "|---|---|",
        *[f"| {name} | {ms:.1f} |" for name, ms in resize.items()],
        "",
    ]
    text = "\n".join(lines)
    OUT.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
