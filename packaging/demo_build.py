"""Rebuild the demo bundle: ``python packaging/demo_build.py resources/demo``.

``make demo-bundle`` runs exactly that. It lives outside the shipped package: the frozen app never
trains a model.

A DEMO model, not for clinical use: a small CNN trained on synthetic chest X-rays from
:mod:`viewer.dicom.synthetic` (a consolidation-like opacity or none). It exists so the viewer,
the bundle tooling and the audit trail can be shown end to end without patient data.

Deterministic: fixed seeds, one torch thread, ``torch.use_deterministic_algorithms(True)``,
deterministic ECDSA and a fixed creation date, so two runs on the same machine and library
versions write the same bytes. (Other CPUs may round differently in float reductions.)

Data: separate seed ranges for training, threshold tuning and testing. Inputs go through the very
preprocessing stored in the manifest (``viewer.inference.preprocess``), so the model is trained on
what the viewer will feed it. The threshold maximises Youden's J on the tuning set; metrics with
95% bootstrap CIs are measured on the untouched test set.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from viewer.bundle.keys import PRIVATE_NAME, PUBLIC_NAME, generate_keypair, load_private_key

DEMO_ID = "bedside-demo-cxr"
DEMO_VERSION = "1.0.0"
DEMO_CREATED = "2026-11-28T00:00:00Z"
INPUT_SIZE = 128
SOURCE_SIZE = (256, 256)
BITS = 12
N_TRAIN, N_TUNE, N_TEST = 1024, 256, 512
SEED_TRAIN, SEED_TUNE, SEED_TEST = 100_000, 200_000, 300_000
# the reference set (issue 15): images like those the demo shows (viewer.dicom.synthetic's
# write_demo_set: CR and DX, MONOCHROME1 and 2, 256 and 512 px, with and without an opacity)
N_REFERENCE, SEED_REFERENCE = 1000, 400_000
REFERENCE_QUANTILE = 0.999  # the demo must score its own images: few false refusals
EPOCHS = 6
BATCH = 32
BOOTSTRAP = 1000
LABEL = "opacity"

PREPROCESSING: list[dict[str, Any]] = [
    {"op": "source", "pixels": "stored_window", "if_missing": "minmax"},
    {"op": "invert_monochrome1"},
    {"op": "square", "mode": "pad", "pad_value": "min"},
    {"op": "resize", "size": INPUT_SIZE, "interpolation": "bilinear", "antialias": True},
    {"op": "dtype", "dtype": "float32"},
]


def _inputs(seed0: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Preprocessed tensors (n, 1, H, W) and labels; like make_cxr: 12-bit, stored window."""
    from viewer.dicom.synthetic import make_cxr_pixels
    from viewer.inference.preprocess import ModelInput, preprocess, validate_steps

    steps = validate_steps(PREPROCESSING)
    max_value = (1 << BITS) - 1
    window = (round(0.42 * max_value, 1), round(0.7 * max_value, 1))
    xs = np.empty((n, 1, INPUT_SIZE, INPUT_SIZE), dtype=np.float32)
    ys = np.empty(n, dtype=np.float32)
    for i in range(n):
        opacity = i % 2 == 1
        rng = np.random.default_rng(seed0 + i)
        stored = np.round(make_cxr_pixels(rng, SOURCE_SIZE, opacity) * max_value)
        inp = ModelInput(pixels=stored.astype(np.float32), photometric="MONOCHROME2", window=window)
        xs[i] = preprocess(inp, steps)
        ys[i] = 1.0 if opacity else 0.0
    return xs, ys


def _train(xs: np.ndarray, ys: np.ndarray, say: Callable[[str], None]) -> Any:
    import torch

    from viewer.bundle.architectures import build_model

    torch.manual_seed(0)
    model = build_model("demo-cnn", in_channels=1, num_labels=1)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    x_all, y_all = torch.from_numpy(xs), torch.from_numpy(ys)
    gen = torch.Generator().manual_seed(1)
    for epoch in range(EPOCHS):
        order = torch.randperm(len(xs), generator=gen)
        total = 0.0
        for start in range(0, len(xs), BATCH):
            idx = order[start : start + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(x_all[idx])[:, 0], y_all[idx])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        say(f"epoch {epoch + 1}/{EPOCHS}: loss {total / len(xs):.4f}")
    model.eval()
    return model


def _scores(model: Any, xs: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        logits = torch.cat([model(torch.from_numpy(xs[i : i + 64])) for i in range(0, len(xs), 64)])
    result: np.ndarray = torch.sigmoid(logits[:, 0]).numpy().astype(np.float64)
    return result


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mann-Whitney U statistic / (n_pos * n_neg), ties counted half."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


def choose_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    """Maximum Youden's J (sensitivity + specificity - 1), positive meaning score >= threshold.

    All thresholds in the optimal interval (previous score, best score] are equivalent on the
    tuning set; the midpoint in logit space is taken so the threshold does not sit on a sample.
    """
    values = np.unique(scores)
    pos, neg = labels == 1, labels == 0
    best_j, best_k = -2.0, 0
    for k, t in enumerate(values):
        pred = scores >= t
        j = float(pred[pos].mean() + (~pred[neg]).mean() - 1.0)
        if j > best_j:
            best_j, best_k = j, k
    upper = float(values[best_k])
    lower = float(values[best_k - 1]) if best_k > 0 else upper / 2.0

    def logit(p: float) -> float:
        p = min(max(p, 1e-12), 1.0 - 1e-12)
        return float(np.log(p / (1.0 - p)))

    mid = (logit(lower) + logit(upper)) / 2.0
    return float(1.0 / (1.0 + np.exp(-mid)))


def _rates(scores: np.ndarray, labels: np.ndarray, t: float) -> dict[str, float]:
    pred = scores >= t
    pos, neg = labels == 1, labels == 0
    return {
        "sensitivity": float(pred[pos].mean()) if pos.any() else float("nan"),
        "specificity": float((~pred[neg]).mean()) if neg.any() else float("nan"),
    }


def metrics_with_ci(scores: np.ndarray, labels: np.ndarray, t: float) -> list[dict[str, Any]]:
    """AUROC, sensitivity and specificity with 95% percentile-bootstrap CIs (1000 resamples)."""
    point = {"AUROC": auroc(scores, labels), **_rates(scores, labels, t)}
    rng = np.random.default_rng(7)
    samples: dict[str, list[float]] = {k: [] for k in point}
    n = len(scores)
    for _ in range(BOOTSTRAP):
        idx = rng.integers(0, n, n)
        s, y = scores[idx], labels[idx]
        if y.min() == y.max():
            continue
        samples["AUROC"].append(auroc(s, y))
        for k, v in _rates(s, y, t).items():
            samples[k].append(v)
    out = []
    for name, value in point.items():
        lo, hi = np.percentile(samples[name], [2.5, 97.5])
        out.append(
            {
                "name": name if name == "AUROC" else f"{name} at threshold",
                "label": LABEL,
                "value": round(value, 4),
                "ci_low": round(min(float(lo), value), 4),
                "ci_high": round(max(float(hi), value), 4),
                "ci_level": 0.95,
                "ci_method": f"percentile bootstrap, {BOOTSTRAP} resamples, seed 7",
                "dataset": "test",
            }
        )
    return out


def demo_template(
    *, threshold: float, metrics: list[dict[str, Any]], histogram: dict[str, Any]
) -> dict[str, Any]:
    data_common = {
        "sources": ["viewer.dicom.synthetic.make_cxr_pixels (procedural, no patient data)"],
        "dates": "generated at build time",
        "devices": ["synthetic CR, 12-bit, MONOCHROME2"],
    }
    return {
        "id": DEMO_ID,
        "name": "Bedside demo: synthetic opacity detector",
        "version": DEMO_VERSION,
        "changelog": [
            {
                "version": DEMO_VERSION,
                "date": DEMO_CREATED[:10],
                "changes": "First demo build with the bundle tooling (make demo-bundle).",
            }
        ],
        "creator": {"name": "Bedside developers", "organisation": "Bedside (demo)"},
        "licence": "Apache-2.0",
        "regulatory_status": "DEMO - NOT FOR CLINICAL USE. Trained and tested on synthetic images "
        "only; it has never seen a real chest X-ray.",
        "intended_use": "Demonstrating Bedside (viewer, signed bundles, audit trail) on synthetic "
        "chest X-rays. It flags a round consolidation-like opacity in the synthetic images.",
        "out_of_scope_uses": [
            "Any clinical use, diagnosis, triage or screening.",
            "Real patient images of any kind (its output on them is meaningless).",
            "Paediatric, lateral, portable AP or non-chest images.",
        ],
        "architecture": {"in_channels": 1},
        "network_data_format": {
            "inputs": {
                "image": {
                    "type": "image",
                    "format": "magnitude",
                    "modality": "xray",
                    "num_channels": 1,
                    "spatial_shape": [INPUT_SIZE, INPUT_SIZE],
                    "value_range": [0.0, 1.0],
                    "channel_def": {"0": "windowed grey, bone bright"},
                }
            },
            "outputs": {
                "pred": {
                    "type": "logits",
                    "format": "labels",
                    "num_channels": 1,
                    "spatial_shape": [1],
                    "value_range": [-1.0e6, 1.0e6],
                    "channel_def": {"0": LABEL},
                }
            },
        },
        "preprocessing": PREPROCESSING,
        "labels": [
            {
                "name": LABEL,
                "display_name": "Opacity (synthetic)",
                "threshold": round(threshold, 6),
                "operating_point": (
                    f"maximum Youden's J on the tuning set ({N_TUNE} synthetic images), "
                    "logit-space midpoint of the optimal interval"
                ),
                "activation": "sigmoid",
            }
        ],
        "training_data": {
            "description": f"{N_TRAIN} synthetic 256x256 chest X-rays, half with an opacity, "
            f"seeds {SEED_TRAIN}..{SEED_TRAIN + N_TRAIN - 1}.",
            "count": N_TRAIN,
            "positives": {LABEL: N_TRAIN // 2},
            **data_common,
        },
        "validation_data": {
            "description": f"Threshold tuned on {N_TUNE} images (seeds {SEED_TUNE}..); metrics "
            f"on a separate test set of {N_TEST} images (seeds {SEED_TEST}..).",
            "count": N_TEST,
            "positives": {LABEL: N_TEST // 2},
            **data_common,
        },
        "metrics": metrics,
        "accepted_inputs": {
            "modalities": ["CR", "DX"],
            "views": ["PA", "AP"],
            "body_parts": ["CHEST"],
            "photometric": ["MONOCHROME1", "MONOCHROME2"],
            "bits_stored_min": 8,
            "bits_stored_max": 16,
            "pixel_spacing_mm_min": 0.05,
            "pixel_spacing_mm_max": 1.0,
            "min_rows": 128,
            "min_columns": 128,
        },
        "reference_scores": [histogram],
        "selftest": {"tolerance": 1e-4, "tensor_tolerance": 1e-5},
        "compatibility": {"min_app_version": "0.1", "torch_min": "2.4", "torch_below": "3.0"},
    }


def demo_key(out_dir: Path) -> Any:
    """The demo key pair in ``out_dir`` (created once; committed so rebuilds sign identically).

    It is trusted only in demo mode; publishing its private half is intended.
    """
    private = out_dir / "demo-signing-key.pem"
    public = out_dir / "demo-signing-key.pub.pem"
    if not private.exists():
        with tempfile.TemporaryDirectory() as tmp:
            gen = generate_keypair(tmp)
            private.write_bytes((Path(tmp) / PRIVATE_NAME).read_bytes())
            public.write_bytes((Path(tmp) / PUBLIC_NAME).read_bytes())
            private.chmod(0o600)
            del gen
    return load_private_key(private)


def _licence_text() -> str | None:
    """The repository's LICENSE (Apache-2.0) as the bundle's LICENSE.txt (from source)."""
    path = Path(__file__).resolve().parents[1] / "LICENSE"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def write_reference_set(folder: Path, n: int = N_REFERENCE, seed0: int = SEED_REFERENCE) -> None:
    """The demo's reference images as DICOM files (module doc: a seed range of their own)."""
    from viewer.dicom.synthetic import make_cxr

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        ds = make_cxr(
            seed0 + i,
            opacity=i % 2 == 1,
            modality="CR" if i % 3 else "DX",
            photometric="MONOCHROME1" if i % 4 == 2 else "MONOCHROME2",
            size=SOURCE_SIZE if i % 2 else (512, 512),
            patient_index=i,
        )
        ds.save_as(folder / f"ref-{i:04d}.dcm", enforce_file_format=True)


def build(out_dir: str | Path, say: Callable[[str], None] = print) -> Path:
    import torch

    from viewer.bundle.create import build_members, finish
    from viewer.dicom.synthetic import make_cxr

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    say("generating synthetic data")
    x_train, y_train = _inputs(SEED_TRAIN, N_TRAIN)
    x_tune, y_tune = _inputs(SEED_TUNE, N_TUNE)
    x_test, y_test = _inputs(SEED_TEST, N_TEST)
    say("training demo-cnn (CPU, deterministic)")
    model = _train(x_train, y_train, say)
    threshold = choose_threshold(_scores(model, x_tune), y_tune)
    test_scores = _scores(model, x_test)
    metrics = metrics_with_ci(test_scores, y_test, threshold)
    counts, edges = np.histogram(test_scores, bins=20, range=(0.0, 1.0))
    histogram = {
        "label": LABEL,
        "bin_edges": [round(float(e), 4) for e in edges],
        "counts": [int(c) for c in counts],
        "dataset": "test",
    }
    for m in metrics:
        say(f"{m['name']}: {m['value']:.3f} ({m['ci_low']:.3f}-{m['ci_high']:.3f})")
    say(f"threshold {threshold:.4f}")
    template = demo_template(threshold=threshold, metrics=metrics, histogram=histogram)
    # An example for `bedside bundle create --manifest`: what a person fills in.
    (out / "demo-manifest-template.json").write_text(
        json.dumps(template, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    key = demo_key(out)
    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(tmp) / "selftest-sample.dcm"
        make_cxr(7, opacity=True, size=SOURCE_SIZE).save_as(sample, enforce_file_format=True)
        reference = Path(tmp) / "reference"
        write_reference_set(reference)
        state = {k: v.clone() for k, v in model.state_dict().items()}
        members, manifest, _ = build_members(
            arch_id="demo-cnn",
            state_dict=state,
            template=template,
            sample=sample,
            created=DEMO_CREATED,
            licence_text=_licence_text(),
            card_notes=(
                "This is a demonstration model. Its numbers describe synthetic images made by "
                "Bedside's own generator and say nothing about real radiographs. Perfect scores "
                "reflect how easy the synthetic task is; when every test case is right the "
                "percentile bootstrap interval collapses to a point, and the one-sided 95% lower "
                f"bound for a proportion of 1.0 over {N_TEST // 2} cases is about "
                f"{1 - 3 / (N_TEST // 2):.3f} (rule of three)."
            ),
            reference=reference,
            reference_quantile=REFERENCE_QUANTILE,
            progress=say,
        )
    created = finish(members, manifest, out / "demo-cxr.bundle", key)
    (out / "MODEL_CARD.md").write_bytes(members["MODEL_CARD.md"])
    say(f"wrote {created.path} ({created.path.stat().st_size} bytes, sha256 {created.digest})")
    return created.path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out_dir", help="folder for demo-cxr.bundle and the demo key pair")
    args = parser.parse_args(argv)
    build(args.out_dir, say=lambda msg: print(msg, file=sys.stderr))
    return 0


if __name__ == "__main__":
    sys.exit(main())
