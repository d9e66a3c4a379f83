"""``bedside model recalibrate | thresholds | compare``: site thresholds and local comparison.

The workflow is in ``viewer.session.site_thresholds`` / ``comparison``; the statistics in
``viewer.evaluation``. Every output says that clinician decisions are a reference standard with
their own errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from viewer.errors import BedsideError

HELP = "local recalibration (site thresholds) and comparison of model versions"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("model", help=HELP)
    msub = p.add_subparsers(dest="model_command", metavar="SUBCOMMAND", required=True)

    r = msub.add_parser(
        "recalibrate", help="propose (and with --apply, set) a site threshold from local cases"
    )
    r.add_argument("--label", required=True, help="the model's label to recalibrate")
    r.add_argument(
        "--target-sensitivity", type=float, required=True, help="e.g. 0.95 (one-sided 95 %% bound)"
    )
    r.add_argument("--from", dest="since", metavar="DATE", help="first day (UTC, YYYY-MM-DD)")
    r.add_argument("--to", dest="until", metavar="DATE", help="last day, inclusive")
    r.add_argument("--model", help="model id (default: the active one)")
    r.add_argument("--apply", action="store_true", help="write the site amendment (named user)")
    r.add_argument("--json", action="store_true", help="the report as JSON")
    r.set_defaults(func=_cmd_recalibrate)

    t = msub.add_parser("thresholds", help="list site thresholds, or carry them over")
    t.add_argument("--model", help="model id")
    t.add_argument(
        "--carry-over",
        metavar="VERSION",
        help="copy VERSION's site thresholds onto the active version (named user, recorded)",
    )
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=_cmd_thresholds)

    c = msub.add_parser("compare", help="compare two models on local decisions (paired rows)")
    c.add_argument("candidate", nargs="?", help="candidate bundle file")
    c.add_argument("--candidate", dest="candidate_id", metavar="ID[@VERSION]")
    c.add_argument("--against", metavar="ID[@VERSION]", help="default: the active version")
    c.add_argument("--label", help="label (default: the candidate's first)")
    c.add_argument("--margin", type=float, help="non-inferiority margin in sensitivity")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=_cmd_compare)

    h = msub.add_parser("history", help="every signed change record, each verified")
    h.add_argument("--model", help="model id (default: every model)")
    h.add_argument("--format", choices=["json", "pdf"], default="json")
    h.add_argument("-o", "--out", metavar="FILE", help="write here (a PDF needs it)")
    h.add_argument("--force", action="store_true", help="replace FILE if it exists")
    h.set_defaults(func=_cmd_history)


def _open(args: argparse.Namespace) -> tuple[Any, Any]:
    from viewer.audit import AuditLog
    from viewer.bundle.store import ModelStore

    log = AuditLog.open(args.settings)
    return log, ModelStore(args.settings, log)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _prop(p: dict[str, Any]) -> str:
    return (
        f"{_pct(p['estimate'])} ({p['successes']}/{p['n']}; 95% CI {_pct(p['ci_low'])}–"
        f"{_pct(p['ci_high'])})"
    )


def _cmd_recalibrate(args: argparse.Namespace) -> int:
    from viewer.inference.postprocess import threshold_text
    from viewer.session import site_thresholds as st

    log, store = _open(args)
    try:
        recal = st.recalibrate(
            args.settings,
            log,
            store,
            label=args.label,
            target_sensitivity=args.target_sensitivity,
            since=args.since,
            until=args.until,
            model_id=args.model,
        )
        amendment = st.apply_recalibration(args.settings, log, store, recal) if args.apply else None
    finally:
        log.close()
    rep, prop = recal.report, recal.report["proposal"]
    if args.json:
        out = {"report": rep, "report_sha256": recal.report_sha256, "amendment": amendment}
        if amendment is not None:
            out["amendment_sha256"] = st.amendment_sha256(amendment)
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    print(f"Model {recal.model_id} {recal.model_version}, label {recal.label}")
    print(
        f"Local cases: {prop['cases']} ({prop['positives']} positive, {prop['negatives']} "
        "negative by the final clinician decision)"
    )
    print(
        f"Proposed site threshold: {threshold_text(prop['threshold'])} (manifest "
        f"{threshold_text(rep['manifest_threshold'])})"
    )
    print(
        f"  sensitivity {_prop(prop['sensitivity'])}, one-sided 95% lower bound "
        f"{_pct(prop['sensitivity']['lower_one_sided'])} >= target {rep['target_sensitivity']:g}"
    )
    print(f"  specificity {_prop(prop['specificity'])}")
    print(f"  alert rate {_pct(prop['alert_rate'])}")
    at = rep["at_manifest_threshold"]
    print(
        f"At the manifest threshold: sensitivity {_prop(at['sensitivity'])}, specificity "
        f"{_prop(at['specificity'])}, alert rate {_pct(at['alert_rate'])}"
    )
    print(f"Report SHA-256: {recal.report_sha256}")
    print(f"Note: {rep['reference_standard']}")
    if amendment is None:
        print("Nothing was changed (add --apply to set this site threshold).")
    else:
        print(
            f"Site threshold set by {amendment['set_by']['name']} "
            f"(amendment {st.amendment_sha256(amendment)[:16]}...); it applies while "
            f"{recal.model_id} {recal.model_version} is active."
        )
    return 0


def _cmd_thresholds(args: argparse.Namespace) -> int:
    from viewer.session import site_thresholds as st

    log, store = _open(args)
    try:
        if args.carry_over:
            done = st.carry_over(
                args.settings, log, store, from_version=args.carry_over, model_id=args.model
            )
            print(f"Carried over {len(done)} site threshold(s).", file=sys.stderr)
        rows = st.threshold_rows(store, args.model)
    finally:
        log.close()
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        print("No site thresholds: every model runs at its manifest thresholds.")
    for r in rows:
        print(
            f"{r['model_id']} {r['model_version']} {r['label']}: {r['threshold']} (manifest "
            f"{r['manifest_threshold']}), set {r['set_at'][:10]} by {r['set_by']['name']}, from "
            f"{r['cases']} local cases — {r['status']}"
        )
    return 0


def _store_digest(store: Any, ref: str | None) -> tuple[str, str, str]:
    entries = store.list()
    if ref is None:
        active = [e for e in entries if e.active]
        if len(active) != 1:
            raise BedsideError("Name the model to compare against with --against ID[@VERSION].")
        e = active[0]
        return e.id, e.version, e.digest
    mid, _, version = ref.partition("@")
    for e in entries:
        if e.id == mid and (e.version == version or (not version and e.active)):
            return e.id, e.version, e.digest
    raise BedsideError(f"'{ref}' is not installed in the model store.")


def _cmd_compare(args: argparse.Namespace) -> int:
    from viewer.audit.query import Filters
    from viewer.evaluation.compare import compare_paired
    from viewer.evaluation.stats import REFERENCE_CAVEAT
    from viewer.session.comparison import SCORED_TYPES, paired_cases

    log, store = _open(args)
    try:
        if args.candidate:
            from viewer.bundle.loader import verify_bundle

            verified = verify_bundle(args.candidate, store.trust)
            manifest = verified.manifest
            cand = (manifest.id, manifest.version, verified.digest)
        elif args.candidate_id:
            cand = _store_digest(store, args.candidate_id)
            manifest = None
        else:
            raise BedsideError("Name the candidate: a bundle file or --candidate ID[@VERSION].")
        against = _store_digest(store, args.against)
        label = args.label or (manifest.labels[0].name if manifest is not None else None)
        if label is None:
            raise BedsideError("Name the label to compare with --label.")
        pairs = paired_cases(
            log.records(Filters(types=SCORED_TYPES)),
            label=label,
            first_digest=cand[2],
            second_digest=against[2],
        )
    finally:
        log.close()
    head = f"{cand[0]} {cand[1]} against {against[0]} {against[1]}, label {label}"
    if not pairs.truth:
        msg = (
            f"{head}: no paired rows — no image in the audit log has a final clinician decision "
            "and a score by both models (install the candidate with `bedside bundle install "
            "--shadow` and let it score beside the active one). Nothing to compare."
        )
        if args.json:
            print(json.dumps({"pairs": 0, "message": msg, "reference_standard": REFERENCE_CAVEAT}))
        else:
            print(msg)
        return 1
    result = compare_paired(
        pairs.truth,
        pairs.first,
        pairs.second,
        candidate_threshold=pairs.first_threshold,
        reference_threshold=pairs.second_threshold,
        margin=args.margin,
    )
    if args.json:
        print(json.dumps({"label": label, **result}, indent=2, ensure_ascii=False))
        return 0
    print(head)
    print(f"Paired cases: {result['cases']} ({result['positives']} positive)")
    for key, name in (("candidate", "Candidate"), ("reference_model", "Active")):
        m = result[key]
        auc = m["auc"]
        auc_text = (
            f"AUC {auc['auc']:.3f} (95% CI {auc['ci_low']:.3f}–{auc['ci_high']:.3f}, DeLong)"
            if auc
            else "AUC: needs both classes"
        )
        print(
            f"  {name}: sensitivity {_prop(m['sensitivity'])}, specificity "
            f"{_prop(m['specificity'])}, {auc_text}"
        )
    mc = result["mcnemar_sensitivity"]
    print(f"  McNemar (sensitivity): b={mc['b']} c={mc['c']}, exact p={mc['exact_p']:.4g}")
    print(f"  {result['noninferiority']['text']}")
    print(f"Note: {result['reference_standard']}")
    return 0


def _cmd_history(args: argparse.Namespace) -> int:
    """Exit 1 when the chain or any record fails verification (the output says which)."""
    from pathlib import Path

    from viewer.audit import AuditLog
    from viewer.session.change_control import export_history

    settings = args.settings
    with AuditLog.open_readonly(settings.audit_db_path, settings=settings) as log:
        found, data = export_history(
            settings,
            log,
            fmt=args.format,
            path=Path(args.out) if args.out else None,
            model_id=args.model,
            overwrite=args.force,
        )
    if data is not None:
        sys.stdout.write(data.decode("utf-8"))
    bad = [e.seq for e in found.entries if not e.verified]
    if args.out:
        print(
            f"wrote {args.out}: {len(found.entries)} change record(s), "
            f"{len(found.entries) - len(bad)} verified",
            file=sys.stderr,
        )
    if bad or not found.verification.ok:
        print(
            "NOT VERIFIED: "
            + (found.verification.summary() if not found.verification.ok else "")
            + (f" change record row(s) {', '.join(f'#{s}' for s in bad)} fail." if bad else ""),
            file=sys.stderr,
        )
        return 1
    return 0
