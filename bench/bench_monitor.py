"""Drift monitor benchmark: ``monitor report`` over 100,000 audit rows.

Run: .venv/bin/python bench/bench_monitor.py  (about a minute). Writes bench/results/monitor.md.

The log is filled with bench_audit's helpers (same hashing as ``AuditLog.append``, one
transaction) with readings as viewer.session writes them: ``image_opened`` (input mix),
``ai_result_shown`` (scores of three labels), ``decision``: 33,334 readings = 100,002 rows.
Measured, interleaved run by run with its reference: the whole report (read every row through
``AuditLog.iter_records``, split into streams, test one window against the reference, charts)
vs a plain ``SELECT`` of the same rows (what reading alone costs). Medians of 5, and the load
average, since other work shares the 2 cores.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_audit import USERS, settings_in  # noqa: E402
from viewer.audit import AuditEvent, AuditLog  # noqa: E402
from viewer.audit.chain import GENESIS_HASH, HASHED_COLUMNS, row_hash  # noqa: E402
from viewer.audit.query import utc_now_text  # noqa: E402
from viewer.audit.schema import INSERT_SQL  # noqa: E402
from viewer.monitoring import ReferenceProfile, WindowSpec, monitor_log  # noqa: E402

READINGS = 33_334
LABELS = ("opacity", "effusion", "cardiomegaly")
MODEL = ("bench-cxr", "1.0.0")


def readings(n: int) -> list[AuditEvent]:
    rng = np.random.default_rng(0)
    out: list[AuditEvent] = []
    for i in range(n):
        scores = {label: float(s) for label, s in zip(LABELS, rng.beta(2, 5, 3), strict=True)}
        ids = {"patient_id": f"P{i}", "sop_uid": f"1.2.826.0.1.{i}.1"}
        out.append(
            AuditEvent(
                type="image_opened",
                detail={"modality": "DX", "view": "PA" if i % 3 else "AP",
                        "transfer_syntax": "1.2.840.10008.1.2.1",
                        "manufacturer": ("Acme", "Borealis", "Cobalt")[i % 3],
                        "photometric": "MONOCHROME2", "patient_sex": "FM"[i % 2],
                        "bits_stored": 12, "rows": 2048, "columns": 2500,
                        "pixel_spacing_mm": 0.139},
                **ids,
            )
        )  # fmt: skip
        model = {"model_id": MODEL[0], "model_version": MODEL[1], "threshold": 0.5,
                 "score": scores["opacity"], "bundle_digest": "ab" * 32}  # fmt: skip
        out.append(AuditEvent(type="ai_result_shown", detail={"labels": scores}, **model, **ids))
        out.append(
            AuditEvent(
                type="decision",
                user=USERS[i % 2],
                meaning="overrode" if i % 10 == 0 else "confirmed",
                detail={"provisional_finding": "present" if i % 4 == 0 else "absent"},
                **model,
                **ids,
            )
        )
    return out


def bulk_fill(log: AuditLog, events: list[AuditEvent]) -> None:
    """bench_audit.bulk_fill's recipe for arbitrary events."""
    conn = log.connection()
    conn.execute("BEGIN IMMEDIATE")
    prev = GENESIS_HASH
    rows = []
    for seq, ev in enumerate(events, start=1):
        _what, values = log._values(ev)
        row = {**values, "seq": seq, "time": utc_now_text(), "prev_hash": prev}
        hashed = [row[c] for c in HASHED_COLUMNS]
        prev = row_hash(hashed)
        rows.append((*hashed, prev))
    conn.executemany(INSERT_SQL, rows)
    conn.execute("COMMIT")


def main() -> None:
    rng = np.random.default_rng(1)
    profile = ReferenceProfile.from_samples(
        scores={label: rng.beta(2, 5, 2000) for label in LABELS},
        categories={"manufacturer": ["Acme", "Borealis", "Cobalt"] * 300,
                    "view": ["PA", "PA", "AP"] * 300},
        numeric={"rows": [2048.0] * 500},
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        log = AuditLog.open(settings_in(Path(tmp)))
        events = readings(READINGS)
        t0 = time.perf_counter()
        bulk_fill(log, events)
        fill_s = time.perf_counter() - t0
        n_rows = log.count()
        runs, refs, loads = [], [], []
        for _ in range(5):
            loads.append(os.getloadavg()[0])
            t0 = time.perf_counter()
            with log.lock:
                rows = log.connection().execute("SELECT * FROM audit_log ORDER BY seq").fetchall()
            refs.append(time.perf_counter() - t0)
            assert len(rows) == n_rows
            t0 = time.perf_counter()
            report, _models = monitor_log(
                log.iter_records(),
                {MODEL: profile},
                WindowSpec(days=None, cases=600),
                end=datetime.now(UTC),
            )
            runs.append(time.perf_counter() - t0)
            assert report["models"][0]["tests"], report
        log.close()
    med, ref = statistics.median(runs), statistics.median(refs)
    lines = [
        "## Drift monitor (bench/bench_monitor.py)",
        "",
        f"`monitor report` over {n_rows:,} audit rows ({READINGS:,} readings: image_opened, "
        f"ai_result_shown with 3 labels, decision), window of 600 cases; log filled in "
        f"{fill_s:.1f} s. Interleaved, 5 runs each, medians; load average (1 min) "
        f"{min(loads):.2f}-{max(loads):.2f} on {os.cpu_count()} cores.",
        "",
        "| what | median | runs |",
        "|---|---|---|",
        f"| whole report (read + streams + tests + charts) | {med:.2f} s | "
        + ", ".join(f"{r:.2f}" for r in runs)
        + " |",
        f"| reference: plain SELECT of the same rows | {ref:.2f} s | "
        + ", ".join(f"{r:.2f}" for r in refs)
        + " |",
        f"| ratio | {med / ref:.1f}x | |",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    out = ROOT / "bench" / "results" / "monitor.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
