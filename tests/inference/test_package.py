"""Importing the inference layer stays cheap: no torch until something runs the network."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_importing_viewer_inference_does_not_import_torch() -> None:
    root = str(Path(__file__).resolve().parents[2])
    code = (
        f"import sys; sys.path.insert(0, {root!r}); import viewer.inference, "
        "viewer.cli.infer; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)  # fmt: skip
    assert out.stdout.strip() == "False"
