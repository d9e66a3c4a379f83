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

from viewer.errors import printable, printable_json
from viewer.session.comparison import percent_text as _pct
from viewer.session.comparison import proportion_text as _prop

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
    r.add_argument(
        "--confidence",
        type=_confidence,
        default=0.95,
        help="one-sided confidence of the sensitivity bound (default 0.95; 0.99 makes the target "
        "hold on the next cases' observed sensitivity too, at a lower threshold)",
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
    c.add_argument(
        "--candidate",
        dest="candidate_id",
        metavar="ID[@VERSION]",
        help="an installed version (default: the shadow candidate)",
    )
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


def _confidence(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.5 <= value <= 0.999:
        raise argparse.ArgumentTypeError("the confidence must be between 0.5 and 0.999")
    return value


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
            confidence=args.confidence,
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
        print(printable_json(json.dumps(out, indent=2, ensure_ascii=False)))
        return 0
    print(
        f"Model {printable(recal.model_id)} {printable(recal.model_version)}, "
        f"label {printable(recal.label)}"
    )
    print(
        f"Local cases: {prop['cases']} ({prop['positives']} positive, {prop['negatives']} "
        "negative by the final clinician decision)"
    )
    print(
        f"Proposed site threshold: {threshold_text(prop['threshold'])} (manifest "
        f"{threshold_text(rep['manifest_threshold'])})"
    )
    print(
        f"  sensitivity {_prop(prop['sensitivity'])}, one-sided "
        f"{rep['confidence'] * 100:g}% lower bound "
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
            f"Site threshold set by {printable(amendment['set_by']['name'])} "
            f"(amendment {st.amendment_sha256(amendment)[:16]}...); it applies while "
            f"{printable(recal.model_id)} {printable(recal.model_version)} is active."
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
        print(printable_json(json.dumps(rows, indent=2, ensure_ascii=False)))
        return 0
    if not rows:
        print("No site thresholds: every model runs at its manifest thresholds.")
    for r in rows:
        print(
            printable(  # names from store.json and the settings: no terminal escape
                f"{r['model_id']} {r['model_version']} {r['label']}: {r['threshold']} (manifest "
                f"{r['manifest_threshold']}), set {r['set_at'][:10]} by {r['set_by']['name']}, "
                f"from {r['cases']} local cases — {r['status']}"
            )
        )
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from viewer.session.comparison import compare_models

    log, store = _open(args)
    try:
        report = compare_models(
            log,
            store,
            candidate_file=args.candidate,
            candidate=args.candidate_id,
            against=args.against,
            label=args.label,
            margin=args.margin,
        )
    finally:
        log.close()
    if args.json:
        print(printable_json(json.dumps(report.as_json(), indent=2, ensure_ascii=False)))
    else:
        print("\n".join(report.lines()))
    return 0 if report.result is not None else 1


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
        sys.stdout.write(printable_json(data.decode("utf-8")))
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
