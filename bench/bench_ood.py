"""The per-image reference check's cost beside the forward (issue 15, item 2).

    .venv/bin/python bench/bench_ood.py [--rounds 15]   # writes bench/results/ood.md

In one process, one Predictor pair per model: A scores without a reference profile, B with one
(the forward runs with the feature hook, then one Mahalanobis distance). A and B alternate image
by image (A, B, A, B ...), on the same decoded image, 2 torch threads. Reported: medians of
``predict`` total and of the ``ood`` step alone (the distance: a (d,) x (d, d) product), their
ratio to the forward, and the load average before and after (the machine is shared).

Models: DenseNet-121 at 224 px (1,024 features; a profile fitted on 2,000 random feature rows,
which costs what a real one does: the arrays have the same shape) on a 2048 x 2048 12-bit CR,
and the shipped demo bundle (48 features, its own signed profile) on a 512 x 512 synthetic CR.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "ood.md"


def _densenet() -> tuple[Any, Any, Any]:
    """A DenseNet-121 bundle-like object with and without a reference check, and its image."""
    import torch

    from tests.bundle.conftest import template
    from viewer.bundle.architectures import build_model
    from viewer.bundle.manifest import parse_manifest
    from viewer.dicom.reader import read_image
    from viewer.dicom.synthetic import make_cxr
    from viewer.inference.ood import OodReference, fit_reference

    torch.manual_seed(0)
    model = build_model("densenet121", in_channels=1, num_labels=1).eval()
    tmpl = template(model_id="bench", version="1.0.0", in_channels=1, size=224)
    tmpl["architecture"]["id"] = "densenet121"
    tmpl.update(
        weights={
            "file": "weights.safetensors",
            "format": "safetensors",
            "sha256": "0" * 64,
            "parameters": 1,
        },
        library_versions={},
        created="2026-12-06T00:00:00Z",
        selftest={"photometric": "MONOCHROME2"},
    )
    manifest = parse_manifest(json.dumps(tmpl).encode())
    fit = fit_reference(np.random.default_rng(0).normal(size=(2000, 1024)), quantile=0.99)
    ood = OodReference("classifier", fit.mean, fit.precision, 1e9, 0.99)  # never refuses
    plain = SimpleNamespace(manifest=manifest, model=model, digest="a" * 64)
    checked = SimpleNamespace(manifest=manifest, model=model, digest="a" * 64, ood=ood)
    path = Path(os.environ.get("TMPDIR", "/tmp")) / "bench-ood-2048.dcm"
    make_cxr(3, opacity=True, size=(2048, 2048)).save_as(path, enforce_file_format=True)
    return plain, checked, read_image(path)


def _demo() -> tuple[Any, Any, Any]:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from viewer.bundle.loader import load_bundle
    from viewer.bundle.resources import DEMO_BUNDLE, resource_path
    from viewer.bundle.trust import TrustedKey, TrustStore
    from viewer.dicom.reader import read_image
    from viewer.dicom.synthetic import make_cxr
    from viewer.keyprint import fingerprint

    public = load_pem_public_key(resource_path("demo", "demo-signing-key.pub.pem").read_bytes())
    key = TrustedKey(public, fingerprint(public), "demo", "demo")  # type: ignore[arg-type]
    checked = load_bundle(resource_path(*DEMO_BUNDLE), TrustStore.of_keys([key]))
    plain = replace(checked, ood=None)
    path = Path(os.environ.get("TMPDIR", "/tmp")) / "bench-ood-512.dcm"
    make_cxr(4, opacity=True, size=(512, 512)).save_as(path, enforce_file_format=True)
    return plain, checked, read_image(path)


def _measure(plain: Any, checked: Any, image: Any, rounds: int) -> dict[str, list[float]]:
    from viewer.inference.predict import Predictor

    a, b = Predictor(plain, threads=2), Predictor(checked, threads=2)
    for _ in range(3):  # warm-up
        a.predict(image)
        b.predict(image)
    out: dict[str, list[float]] = {"a_total": [], "b_total": [], "forward": [], "ood": []}
    for _ in range(rounds):
        pa = a.predict(image)
        pb = b.predict(image)
        assert pb.ood is not None and pa.ood is None  # the bench measures what it says
        out["a_total"].append(pa.timings_ms["total"])
        out["b_total"].append(pb.timings_ms["total"])
        out["forward"].append(pb.timings_ms["forward"])
        out["ood"].append(pb.timings_ms["ood"])
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    load_before = os.getloadavg()
    rows = []
    for name, make in (
        ("DenseNet-121 @ 224, 1,024 features, 2048 x 2048 CR", _densenet),
        ("demo-cnn @ 128, 48 features (shipped profile), 512 x 512 CR", _demo),
    ):
        m = _measure(*make(), rounds=args.rounds)
        med = {k: statistics.median(v) for k, v in m.items()}
        rows.append(
            f"| {name} | {med['a_total']:.1f} | {med['b_total']:.1f} | "
            f"{med['b_total'] / med['a_total']:.3f} | {med['forward']:.1f} | {med['ood']:.3f} | "
            f"{100 * med['ood'] / med['forward']:.2f} % |"
        )
        print(rows[-1], flush=True)
    load_after = os.getloadavg()
    text = "\n".join(
        [
            "## Reference check (out-of-distribution) per image",
            "",
            f"`bench/bench_ood.py --rounds {args.rounds}`: A = Predictor without a reference "
            "profile, B = with one, interleaved image by image in one process, 2 threads, "
            "medians (ms). Load average before "
            f"{load_before[0]:.2f} / after {load_after[0]:.2f} (1 min).",
            "",
            "| model, image | A predict | B predict | B/A | forward (B) | distance (B) | "
            "distance / forward |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            "The check itself is one (d,) x (d, d) product after the forward the score needs "
            "anyway; the hook that reads the last linear layer's input adds a copy of d floats.",
            "",
        ]
    )
    RESULTS.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
