"""A separate process that writes to the audit log (crash, concurrency and disk-full tests).

Modes:
  crash            append decisions forever; print "<seq> <hash>" after each COMMIT returns
  bulk N TAG       append N decisions tagged TAG; print "done N"
  fsize EXTRA      limit every file to its size now + EXTRA bytes (RLIMIT_FSIZE, SIGXFSZ
                   ignored), append until the write fails; print committed seqs then "failed: msg"
  append           open the log and append one decision; print "ok <seq>" or "failed: msg"
"""

from __future__ import annotations

import os
import signal
import sys

from viewer.audit import AuditEvent, AuditLog, User
from viewer.config import load_settings
from viewer.errors import AuditWriteError

USER = User("writer", "Writer Process", "Test")


def _event(tag: str, i: int) -> AuditEvent:
    return AuditEvent(
        type="decision",
        user=USER,
        meaning="confirmed",
        model_id="demo-cxr",
        model_version="1.0.0",
        threshold=0.5,
        score=0.25,
        ai_finding="no finding",
        clinician_finding="no finding",
        patient_id=f"{tag}-{i}",
        reason="x" * 200,
        detail={"tag": tag, "i": i},
    )


def main(argv: list[str]) -> int:
    mode = argv[0]
    settings = load_settings()
    if mode == "append":
        try:
            log = AuditLog.open(settings, busy_timeout_s=2)
            rec = log.append(_event("append", 0))
        except AuditWriteError as exc:
            print(f"failed: {exc}", flush=True)
            return 0
        print(f"ok {rec.seq}", flush=True)
        return 0
    log = AuditLog.open(settings, busy_timeout_s=30)
    if mode == "crash":
        i = 0
        while True:
            rec = log.append(_event(f"crash{os.getpid()}", i))
            print(f"{rec.seq} {rec.hash}", flush=True)
            i += 1
    if mode == "bulk":
        n, tag = int(argv[1]), argv[2]
        for i in range(n):
            log.append(_event(tag, i))
        print(f"done {n}", flush=True)
        return 0
    if mode == "fsize":
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        sizes = [p.stat().st_size for p in log.path.parent.iterdir() if p.is_file()]
        limit = max(sizes) + int(argv[1])
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        for i in range(100_000):
            try:
                rec = log.append(_event("fsize", i))
            except AuditWriteError as exc:
                print(f"failed: {exc}", flush=True)
                return 0
            print(f"{rec.seq} {rec.hash}", flush=True)
        print("never failed", flush=True)
        return 1
    print(f"unknown mode {mode}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
