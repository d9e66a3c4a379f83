"""Audit log benchmarks: append latency, verify rate, export time, crash survival.

Run: .venv/bin/python bench/bench_audit.py  (about 2-3 minutes). Writes bench/results/audit.md.

Measured, each against a reference taken in the same process:
- decision append latency with synchronous=FULL (median, p99), vs a bare SQLite INSERT+COMMIT
  of one row of the same size with the same pragmas (what durability alone costs);
- verify rate on 100,000 rows, vs a bare SELECT of the same rows (what reading alone costs);
- export of 10,000 rows to PDF and CSV (each includes verify + signed checkpoint + the
  report_exported row), vs the bare read of those rows;
- 200 SIGKILLs of a writer process at random moments: committed rows lost (must be 0) and
  chain verification after each kill.
Targets (issue 6): p99 append <= 20 ms, verify >= 100,000 rows/s, PDF of 10,000 rows <= 10 s.
"""

from __future__ import annotations

import os
import platform
import random
import resource
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from viewer.audit import AuditEvent, AuditLog, User, export, verify_log  # noqa: E402
from viewer.audit.chain import ALL_COLUMNS, GENESIS_HASH, HASHED_COLUMNS, row_hash  # noqa: E402
from viewer.audit.query import utc_now_text  # noqa: E402
from viewer.audit.schema import INSERT_SQL  # noqa: E402
from viewer.config import Settings, load_settings  # noqa: E402

USERS = [User("sato", "佐藤 花子", "放射線科医"), User("jroe", "Dr Jane Roe", "Radiologist")]
REASONS = [
    "肺野の陰影は古い瘢痕",
    "Artefact from ECG lead overlying the lung field",
    "Nipple shadow",
]


def event(i: int) -> AuditEvent:
    score = (i * 37 % 100) / 100
    overrode = i % 6 == 5
    ai = "opacity" if score >= 0.5 else "no finding"
    return AuditEvent(
        type="decision",
        user=USERS[i % 2],
        meaning="overrode" if overrode else "confirmed",
        model_id="demo-cxr",
        model_version="1.2.0" if i % 3 else "1.3.0",
        bundle_digest="ab" * 32,
        threshold=0.5,
        score=score,
        ai_finding=ai,
        clinician_finding=("no finding" if ai == "opacity" else "opacity") if overrode else ai,
        reason=REASONS[i % 3] if overrode else None,
        ai_shown="after_read",
        patient_id=f"P{i}",
        study_uid=f"1.2.826.0.1.{i}",
        sop_uid=f"1.2.826.0.1.{i}.1.1",
        accession=f"A{i}",
        detail={"warnings": [], "threads": 2},
    )


def settings_in(folder: Path) -> Settings:
    return load_settings(env={"BEDSIDE_DATA_DIR": str(folder)})


def bulk_fill(log: AuditLog, n: int) -> None:
    """n decisions in one transaction, hashed exactly as append() does (fast setup only)."""
    conn = log.connection()
    conn.execute("BEGIN IMMEDIATE")
    last = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS_HASH)
    rows = []
    for i in range(n):
        _what, values = log._values(event(i))
        seq += 1
        row = {**values, "seq": seq, "time": utc_now_text(), "prev_hash": prev}
        hashed = [row[c] for c in HASHED_COLUMNS]
        prev = row_hash(hashed)
        rows.append((*hashed, prev))
    conn.executemany(INSERT_SQL, rows)
    conn.execute("COMMIT")


def cpu_s() -> float:
    """CPU seconds of this process (all threads) plus its finished children (forked scanners)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def bench_append(work: Path, n: int = 2000) -> dict[str, float]:
    log = AuditLog.open(settings_in(work / "append"))
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        log.append(event(i))
        times.append((time.perf_counter() - t0) * 1000)
    log.close()
    ref = sqlite3.connect(work / "ref.sqlite", isolation_level=None)
    ref.execute("PRAGMA journal_mode=WAL")
    ref.execute("PRAGMA synchronous=FULL")
    ref.execute(f"CREATE TABLE t ({', '.join(ALL_COLUMNS)})")
    sample = list(AuditLog.open(settings_in(work / "append")).records()[-1].__dict__.values())
    ref_times = []
    marks = ", ".join("?" * len(sample))
    for _ in range(n):
        t0 = time.perf_counter()
        ref.execute("BEGIN IMMEDIATE")
        ref.execute(f"INSERT INTO t VALUES ({marks})", sample)  # noqa: S608
        ref.execute("COMMIT")
        ref_times.append((time.perf_counter() - t0) * 1000)
    ref.close()
    return {
        "median": statistics.median(times),
        "p99": pct(times, 0.99),
        "max": max(times),
        "ref_median": statistics.median(ref_times),
        "ref_p99": pct(ref_times, 0.99),
    }


def bench_verify(work: Path, n: int = 100_000) -> dict[str, float]:
    log = AuditLog.open(settings_in(work / "verify"))
    t0 = time.perf_counter()
    bulk_fill(log, n)
    fill_s = time.perf_counter() - t0
    runs, ref_runs, cpus = [], [], []
    for _ in range(5):
        t0, c0 = time.perf_counter(), cpu_s()
        result = verify_log(log)
        runs.append(time.perf_counter() - t0)
        cpus.append(cpu_s() - c0)
        assert result.ok and result.rows == n, result.problems
        t0 = time.perf_counter()
        sql = f"SELECT {', '.join(ALL_COLUMNS)} FROM audit_log ORDER BY seq"  # noqa: S608
        for _row in log.connection().execute(sql):
            pass
        ref_runs.append(time.perf_counter() - t0)
    single = []
    for _ in range(3):
        t0 = time.perf_counter()
        verify_log(log, workers=1)
        single.append(time.perf_counter() - t0)
    split = profile_scan(log, n)
    log.close()
    return {
        **split,
        "single": statistics.median(single),
        "rows": n,
        "seconds": statistics.median(runs),
        "best": min(runs),
        "cpu": statistics.median(cpus),
        "ref_seconds": statistics.median(ref_runs),
        "fill_s": fill_s,
    }


def profile_scan(log: AuditLog, n: int) -> dict[str, float]:
    """Where one thread's verify time goes (cProfile tottime, microseconds per row)."""
    import cProfile
    import pstats

    from viewer.audit.verify import _scan

    prof = cProfile.Profile()
    prof.runcall(_scan, log.connection(), 1, n)
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    total = fetch = encode = digest = 0.0
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.items():
        total += tottime
        if "fetchmany" in name:
            fetch += tottime
        elif filename.endswith("chain.py") and name == "encode":
            encode += tottime
        elif (
            "sha256" in name or "hexdigest" in name or name == "<method 'encode' of 'str' objects>"
        ):
            digest += tottime
    per_row = 1e6 / n
    return {
        "us_total": total * per_row,
        "us_fetch": fetch * per_row,
        "us_encode": encode * per_row,
        "us_digest": digest * per_row,
    }


def bench_export(work: Path, n: int = 10_000) -> dict[str, float]:
    settings = settings_in(work / "export")
    with AuditLog.open(settings) as log:
        bulk_fill(log, n)
        t0 = time.perf_counter()
        read = len(log.records())
        ref = time.perf_counter() - t0
    out: dict[str, float] = {"rows": read, "ref_read_s": ref}
    for fmt in ("pdf", "csv", "json"):
        times, cpus = [], []
        for k in range(2):
            t0, c0 = time.perf_counter(), cpu_s()
            result = export(settings, fmt, work / f"report{k}.{fmt}")
            times.append(time.perf_counter() - t0)
            cpus.append(cpu_s() - c0)
        out[fmt] = statistics.median(times)
        out[f"{fmt}_cpu"] = statistics.median(cpus)
        out[f"{fmt}_bytes"] = result.path.stat().st_size
        if fmt == "pdf":
            out["pdf_pages"] = result.path.read_bytes().count(b"/Type /Page\n")
    return out


def child_writer() -> None:
    log = AuditLog.open(load_settings())
    i = 0
    while True:
        rec = log.append(event(i))
        print(f"{rec.seq} {rec.hash}", flush=True)
        i += 1


def bench_crash(work: Path, kills: int = 200, seed: int = 2026) -> dict[str, float]:
    folder = work / "crash"
    env = {
        **os.environ,
        "BEDSIDE_DATA_DIR": str(folder),
        "BEDSIDE_SITE_CONFIG": "",
        "PYTHONPATH": str(ROOT),
    }
    rng = random.Random(seed)
    reported: dict[int, str] = {}
    lost = 0
    failed_verify = 0
    t0 = time.perf_counter()
    for _ in range(kills):
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child"], env=env, text=True, stdout=subprocess.PIPE
        )
        assert proc.stdout is not None
        for _ in range(rng.randint(0, 12)):
            line = proc.stdout.readline()
            if not line:
                break
            seq, digest = line.split()
            reported[int(seq)] = digest
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate()
        for line in rest.splitlines():
            seq, digest = line.split()
            reported[int(seq)] = digest
        with AuditLog.open(settings_in(folder)) as log:
            if not verify_log(log).ok:
                failed_verify += 1
            lost += sum(1 for s, h in reported.items() if (r := log.get(s)) is None or r.hash != h)
    with AuditLog.open(settings_in(folder)) as log:
        rows = log.head()[0]
    return {
        "kills": kills,
        "committed": len(reported),
        "rows": rows,
        "lost": lost,
        "failed_verify": failed_verify,
        "seconds": time.perf_counter() - t0,
    }


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-audit-", dir=os.environ.get("BENCH_TMP")) as tmp:
        work = Path(tmp)
        load_before = os.getloadavg()
        print("append ...", flush=True)
        a = bench_append(work)
        print(a, "\nverify ...", flush=True)
        v = bench_verify(work)
        print(v, "\nexport ...", flush=True)
        e = bench_export(work)
        print(e, "\ncrash ...", flush=True)
        c = bench_crash(work)
        print(c, flush=True)
        load_after = os.getloadavg()
    rate = v["rows"] / v["seconds"]

    def ok(good: bool) -> str:
        return "PASS" if good else "FAIL"

    read = e["ref_read_s"]
    table = [
        (
            "decision append, median",
            f"{a['median']:.2f} ms",
            f"{a['ref_median']:.2f} ms bare INSERT+COMMIT",
            f"{a['median'] / a['ref_median']:.1f}x",
            "",
            "",
        ),
        (
            "decision append, p99 (2,000 appends)",
            f"{a['p99']:.2f} ms (max {a['max']:.1f})",
            f"{a['ref_p99']:.2f} ms",
            f"{a['p99'] / a['ref_p99']:.1f}x",
            "<= 20 ms",
            ok(a["p99"] <= 20),
        ),
        (
            "verify 100,000 rows",
            f"{v['seconds']:.2f} s = {rate:,.0f} rows/s (best of 5: "
            f"{v['rows'] / v['best']:,.0f} rows/s; CPU {v['cpu']:.2f} s)",
            f"{v['ref_seconds']:.2f} s bare SELECT",
            f"{v['seconds'] / v['ref_seconds']:.1f}x",
            ">= 100,000 rows/s",
            ok(rate >= 100_000),
        ),
        (
            "verify 100,000 rows, one thread (the GUI path)",
            f"{v['single']:.2f} s = {v['rows'] / v['single']:,.0f} rows/s",
            f"{v['ref_seconds']:.2f} s bare SELECT",
            f"{v['single'] / v['ref_seconds']:.1f}x",
            "",
            "",
        ),
        (
            f"export 10,000 rows, PDF ({int(e['pdf_pages'])} pages, {e['pdf_bytes'] / 1e6:.1f} MB)",
            f"{e['pdf']:.2f} s (CPU {e['pdf_cpu']:.2f} s)",
            f"{read:.2f} s bare read",
            f"{e['pdf'] / read:.0f}x",
            "<= 10 s",
            ok(e["pdf"] <= 10),
        ),
        (
            f"export 10,000 rows, CSV ({e['csv_bytes'] / 1e6:.1f} MB)",
            f"{e['csv']:.2f} s",
            f"{read:.2f} s",
            f"{e['csv'] / read:.0f}x",
            "",
            "",
        ),
        (
            f"export 10,000 rows, FHIR R4 JSON ({e['json_bytes'] / 1e6:.1f} MB)",
            f"{e['json']:.2f} s",
            f"{read:.2f} s",
            f"{e['json'] / read:.0f}x",
            "",
            "",
        ),
        (
            "SIGKILL a writer at random moments",
            f"{c['kills']:.0f} kills, {c['committed']:.0f} reported commits, {c['lost']:.0f} lost, "
            f"{c['failed_verify']:.0f} failed verifications ({c['seconds']:.0f} s)",
            "",
            "",
            "0 lost",
            ok(c["lost"] == 0 and c["failed_verify"] == 0),
        ),
    ]
    lines = [
        "## Audit log (viewer.audit)",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.platform()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}; files on the "
        "local disk (WAL, synchronous=FULL). Command: `.venv/bin/python bench/bench_audit.py`.",
        f"Load average (1 min) at start {load_before[0]:.1f}, at end {load_after[0]:.1f}: other "
        "work was sharing the 2 cores, so wall times are pessimistic; CPU seconds (this process, "
        "its threads and forked scanners) are given where they differ.",
        "",
        "| measure | Bedside | reference (same process) | ratio | target | |",
        "|---|---|---|---|---|---|",
        *("| " + " | ".join(row) + " |" for row in table),
        "",
        "Each export includes a full verify, a signed checkpoint and the report_exported row. "
        "Export times are medians of 2 runs, verify of 5 (PASS/FAIL on the median), append of "
        "2,000. Verify scans row ranges in 2 forked processes (the CLI path); the GUI verifies "
        "in one thread.",
        "",
        f"Where one thread's verify time goes (cProfile, {v['rows']:,} rows, us per row, "
        f"profiler overhead included): {v['us_total']:.1f} in all = SQLite rows into Python "
        f"objects {v['us_fetch']:.1f} (29 columns a row; the bare read above alone is "
        f"{1e6 * v['ref_seconds'] / v['rows']:.1f}), canonical JSON {v['us_encode']:.1f} "
        f"(CPython's C encoder, called directly), UTF-8 + SHA-256 + hex {v['us_digest']:.1f}, "
        "the loop's own checks the rest. 100,000 rows/s allows 10 us a row, and reading the "
        "rows into Python alone takes about half of that on this machine unloaded (most of it "
        "under load), so one CPython thread does not reach the target here; the CLI splits the "
        "scan over forked processes. Tried and not "
        "adopted: letting SQLite build each row's JSON (json_array) saved about 10 % but its "
        "float formatting differs from Python's; slicing/joining tricks saved about 2 %.",
        "",
    ]
    out = ROOT / "bench" / "results" / "audit.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    if "--child" in sys.argv:
        child_writer()
    else:
        main()
