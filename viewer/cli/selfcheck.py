"""``bedside self-check``: prove an installation works end to end, headless.

IT runs it after installing the frozen app (and CI runs it on the frozen build): it loads the site
configuration, decodes a generated DICOM, verifies and loads the demo bundle (signature, schema,
weights, self-test), scores the image, builds the DICOM objects PACS would receive for it (SR,
capture, presentation state), and writes and verifies an audit row, all in a throwaway data dir
so the real audit log and model store are never touched. It prints one JSON object with each
step's outcome and time and exits 0 only if every step passed.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from viewer import __version__
from viewer.config import Settings, SettingsFile, load_settings


def _isolated_settings(root: Path) -> Settings:
    """Demo-mode settings on a fresh folder: built-in defaults, no site or user values."""
    return Settings(
        values=SettingsFile(),
        data_dir=root / "data",
        site_file=None,
        user_file=root / "data" / "settings.toml",
        site_dir=root / "site",
        demo=True,
    )


def run_selfcheck() -> dict[str, Any]:
    """Run every step; a failed step is recorded and the later steps that need it are skipped."""
    steps: list[dict[str, Any]] = []
    state: dict[str, Any] = {}

    def step(name: str, needs: tuple[str, ...], fn: Callable[[], dict[str, Any]]) -> None:
        missing = [n for n in needs if n not in state]
        if missing:
            steps.append({"step": name, "ok": False, "skipped": f"needs {', '.join(missing)}"})
            return
        start = time.perf_counter()
        try:
            detail = fn()
            state[name] = True
            steps.append({"step": name, "ok": True, "ms": _ms(start), **detail})
        except Exception as exc:  # every failure is reported, none is raised
            steps.append(
                {
                    "step": name,
                    "ok": False,
                    "ms": _ms(start),
                    "error": f"{type(exc).__name__}: {exc}",
                }
            )

    with tempfile.TemporaryDirectory(prefix="bedside-selfcheck-") as tmp:
        root = Path(tmp)
        settings = _isolated_settings(root)
        settings.data_dir.mkdir(parents=True)

        def config() -> dict[str, Any]:
            real = load_settings()
            state["real"] = real
            return {"site_file": str(real.site_file) if real.site_file else None}

        def data_dir() -> dict[str, Any]:
            # The real data dir must be writable, or no decision could ever be saved. Probe with
            # a temporary file only: the real audit log and model store are never touched.
            real: Settings = state["real"]
            target = real.data_dir
            target.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=target, prefix=".selfcheck-") as probe:
                probe.write(b"ok")
                probe.flush()
            return {"data_dir": str(target)}

        def dicom() -> dict[str, Any]:
            from viewer.dicom import read_image, render
            from viewer.dicom.synthetic import make_cxr

            path = root / "selfcheck.dcm"
            make_cxr(7, opacity=True, size=(512, 512)).save_as(path, enforce_file_format=True)
            image = read_image(path)
            buffer = render(image)
            state["image"] = image
            state["display"] = buffer
            return {"shape": list(buffer.shape), "dtype": str(buffer.dtype)}

        def bundle() -> dict[str, Any]:
            # the session's model policy, as the window and `bedside infer` use it, on the
            # shipped demo bundle (trusted here: the settings are demo-mode, on a throwaway dir)
            from viewer.session.models import demo_bundle_path, open_model

            model = open_model(settings, bundle=demo_bundle_path(), threads=1)
            state["model"] = model
            loaded = model.loaded
            return {
                "model": model.label,
                "digest": loaded.digest,
                "key": loaded.key_fingerprint,
                "selftest": loaded.selftest.passed,
            }

        def inference() -> dict[str, Any]:
            from viewer.session.reading import score_image

            image = state["image"]
            outcome = score_image(state["model"].predictor, image.meta, image=image)
            if outcome.prediction is None:
                raise RuntimeError(f"the demo image was not scored: {outcome.message}")
            state["prediction"] = outcome.prediction
            return {
                "labels": {
                    r.label: {"score": round(r.score, 6), "positive": r.positive}
                    for r in outcome.prediction.labels
                }
            }

        def audit() -> dict[str, Any]:
            from viewer.audit.events import AuditEvent, EventType
            from viewer.audit.identity import current_user
            from viewer.audit.store import AuditLog
            from viewer.audit.verify import verify_log

            log = AuditLog.open(settings)
            try:
                record = log.append(
                    AuditEvent(
                        type=EventType.VERIFICATION,
                        outcome="success",
                        user=current_user(settings),
                        detail={"selfcheck": True},
                    )
                )
                result = verify_log(log)
            finally:
                log.close()
            if not result.ok:
                raise RuntimeError(f"audit chain did not verify: {result}")
            return {"seq": record.seq, "rows_verified": result.rows}

        def pacs_objects() -> dict[str, Any]:
            # the objects PACS would receive for this reading (SR, capture, presentation state),
            # built and encoded: highdicom's tables and a font for the capture are in place
            import datetime as dt

            from pydicom import dcmread

            from viewer.dicom.annotations import Annotation
            from viewer.pacs.model import AiReport, Algorithm, LabelScore, Observer
            from viewer.pacs.objects import build_objects, encode
            from viewer.pacs.sc import find_cjk_font

            pred = state["prediction"]
            report = AiReport(
                source=dcmread(root / "selfcheck.dcm", stop_before_pixels=True),
                labels=tuple(
                    LabelScore(r.label, r.score, r.threshold, r.positive) for r in pred.labels
                ),
                checks=(),
                decisions=(),
                observer=Observer("SELF-CHECK^", "self-check"),
                algorithm=Algorithm(
                    pred.model_id, pred.model_id, pred.model_version, pred.bundle_digest
                ),
                reading_id="self-check",
                reading_time=dt.datetime.now(dt.UTC),
                display=state["display"],
                annotations=(Annotation("text", ((10.0, 10.0),), "self-check"),),
            )
            sizes = {str(ds.Modality): len(encode(ds)) for ds in build_objects(report)}
            return {"objects_bytes": sizes, "japanese_font": find_cjk_font() is not None}

        step("config", (), config)
        step("data_dir", ("config",), data_dir)
        step("dicom", (), dicom)
        step("bundle", (), bundle)
        step("inference", ("dicom", "bundle"), inference)
        step("audit", (), audit)
        step("pacs_objects", ("dicom", "inference"), pacs_objects)

    return {
        "bedside": __version__,
        "frozen": bool(getattr(sys, "frozen", False)),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "ok": all(s["ok"] for s in steps),
        "steps": steps,
    }


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 1)


def _cmd(args: argparse.Namespace) -> int:
    report = run_selfcheck()
    print(json.dumps(report, indent=None if args.compact else 2))
    return 0 if report["ok"] else 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "self-check",
        help="verify this installation headless (demo bundle, DICOM decode, inference, audit)",
    )
    p.add_argument("--compact", action="store_true", help="print the JSON on one line")
    p.set_defaults(func=_cmd)
