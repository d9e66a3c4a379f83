"""Pairs for comparing two models on local decisions (issue 16 item 2, over the rows that exist).

A pair is one image (SOP Instance pseudonym and, where recorded, the pixel digest) with a final
clinician finding on the label and a score by each of the two bundles (the latest row of each
that carries a score: ``ai_result_shown``, ``shadow_result`` (the candidate in shadow mode,
``viewer.session.shadow``), ``decision`` or ``amendment``). A result row scores every label
(``detail.labels_raw``: raw score and threshold), so a label other than the headline pairs too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from viewer.config import Settings
from viewer.errors import BedsideError
from viewer.session.reading import parse_finding

if TYPE_CHECKING:
    from viewer.audit.events import AuditRecord
    from viewer.audit.store import AuditLog
    from viewer.bundle.store import ModelStore, StoreEntry

__all__ = [
    "SCORED_TYPES",
    "ComparisonChoices",
    "ComparisonReport",
    "ModelRef",
    "PairedCases",
    "compare_models",
    "comparison_choices",
    "paired_cases",
    "percent_text",
    "proportion_text",
    "run_comparison",
    "shadow_refs",
    "store_ref",
]

_SCORED = ("ai_result_shown", "shadow_result", "decision", "amendment")
SCORED_TYPES = _SCORED  # the rows to read for :func:`paired_cases`


@dataclass
class PairedCases:
    truth: list[bool] = field(default_factory=list)
    first: list[float] = field(default_factory=list)
    second: list[float] = field(default_factory=list)
    first_threshold: list[float] = field(default_factory=list)
    second_threshold: list[float] = field(default_factory=list)


def _image(rec: AuditRecord) -> tuple[str, str] | None:
    if not rec.sop_pseudonym:
        return None
    return rec.sop_pseudonym, str(rec.detail.get("pixel_sha256") or "")


def _label_score(rec: AuditRecord, label: str) -> tuple[float, float] | None:
    """(raw score, threshold) of ``label`` in one row: a result row's per-label detail, else the
    row's own columns when its finding is that label."""
    items = rec.detail.get("labels_raw")
    for item in items if isinstance(items, list) else ():  # any other shape: not a result's
        if isinstance(item, dict) and item.get("label") == label:
            score, threshold = item.get("raw_score"), item.get("threshold")
            if isinstance(score, int | float) and isinstance(threshold, int | float):
                return float(score), float(threshold)
    if rec.score is None or rec.threshold is None:
        return None
    if (parse_finding(rec.ai_finding) or ("",))[0] != label:
        return None
    return float(rec.score), float(rec.threshold)


def paired_cases(
    records: Iterable[AuditRecord], *, label: str, first_digest: str, second_digest: str
) -> PairedCases:
    from viewer.audit.stats import effective_decisions

    rows = [r for r in records if r.outcome == "success"]
    truth: dict[tuple[str, str], bool] = {}
    decisions, _ = effective_decisions(rows)
    for rec in sorted(decisions, key=lambda r: r.seq):
        finding, key = parse_finding(rec.clinician_finding), _image(rec)
        if finding is not None and key is not None and finding[0] == label:
            truth[key] = finding[1]
    scores: dict[tuple[tuple[str, str], str], tuple[float, float]] = {}
    for rec in rows:
        key = _image(rec)
        if key is None or rec.type not in _SCORED or rec.bundle_digest is None:
            continue
        if rec.bundle_digest not in (first_digest, second_digest):
            continue
        pair = _label_score(rec, label)
        if pair is not None:
            scores[(key, rec.bundle_digest)] = pair
    out = PairedCases()
    for key, positive in truth.items():
        a, b = scores.get((key, first_digest)), scores.get((key, second_digest))
        if a is None or b is None:
            continue
        out.truth.append(positive)
        out.first.append(a[0])
        out.first_threshold.append(a[1])
        out.second.append(b[0])
        out.second_threshold.append(b[1])
    return out


# ----------------------------------------------------------------------------- the comparison


@dataclass(frozen=True)
class ModelRef:
    model_id: str
    version: str
    digest: str

    @property
    def text(self) -> str:
        return f"{self.model_id} {self.version}"


@dataclass(frozen=True)
class ComparisonReport:
    """What ``bedside model compare`` prints and the comparison window shows (plain data)."""

    candidate: ModelRef
    against: ModelRef
    label: str
    result: dict[str, Any] | None  # viewer.evaluation.compare.compare_paired; None: no pairs
    message: str = ""  # why there is nothing to compare

    @property
    def head(self) -> str:
        return f"{self.candidate.text} against {self.against.text}, label {self.label}"

    def as_json(self) -> dict[str, Any]:
        if self.result is None:
            from viewer.evaluation.stats import REFERENCE_CAVEAT

            return {"pairs": 0, "message": self.message, "reference_standard": REFERENCE_CAVEAT}
        return {"label": self.label, **self.result}

    def lines(self) -> list[str]:
        """The report as text lines (the command prints them; the window shows them)."""
        if self.result is None:
            return [self.message]
        result = self.result
        out = [self.head, f"Paired cases: {result['cases']} ({result['positives']} positive)"]
        for key, name in (("candidate", "Candidate"), ("reference_model", "Active")):
            m = result[key]
            auc = m["auc"]
            auc_text = (
                f"AUC {auc['auc']:.3f} (95% CI {auc['ci_low']:.3f}–{auc['ci_high']:.3f}, DeLong)"
                if auc
                else "AUC: needs both classes"
            )
            out.append(
                f"  {name}: sensitivity {proportion_text(m['sensitivity'])}, specificity "
                f"{proportion_text(m['specificity'])}, {auc_text}"
            )
        mc = result["mcnemar_sensitivity"]
        out.append(f"  McNemar (sensitivity): b={mc['b']} c={mc['c']}, exact p={mc['exact_p']:.4g}")
        out.append(f"  {result['noninferiority']['text']}")
        out.append(f"Note: {result['reference_standard']}")
        return out


def percent_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def proportion_text(p: dict[str, Any]) -> str:
    low, high = percent_text(p["ci_low"]), percent_text(p["ci_high"])
    return f"{percent_text(p['estimate'])} ({p['successes']}/{p['n']}; 95% CI {low}–{high})"


def store_ref(entries: Sequence[StoreEntry], ref: str | None) -> ModelRef:
    """``ID[@VERSION]`` in the store (no version: the active one); None: the one active model."""
    if ref is None:
        active = [e for e in entries if e.active]
        if len(active) != 1:
            raise BedsideError("Name the model to compare against with --against ID[@VERSION].")
        e = active[0]
        return ModelRef(e.id, e.version, e.digest)
    mid, _, version = ref.partition("@")
    for e in entries:
        if e.id == mid and (e.version == version or (not version and e.active)):
            return ModelRef(e.id, e.version, e.digest)
    raise BedsideError(f"'{ref}' is not installed in the model store.")


def shadow_refs(entries: Sequence[StoreEntry]) -> list[str]:
    """``ID@VERSION`` of each shadow candidate in the store (what a site compares first)."""
    return [f"{e.id}@{e.version}" for e in entries if e.shadow]


def compare_models(
    log: AuditLog,
    store: ModelStore,
    *,
    candidate_file: str | None = None,
    candidate: str | None = None,
    against: str | None = None,
    label: str | None = None,
    margin: float | None = None,
) -> ComparisonReport:
    """Compare a candidate (a bundle file, or ``ID[@VERSION]`` in the store; default: the
    store's shadow candidate when there is one) with ``against`` (default: the active version)
    on the log's paired rows; the label defaults to the candidate's first. Raises
    :class:`BedsideError` for a model it cannot find."""
    from viewer.audit.query import Filters
    from viewer.bundle.loader import verify_bundle
    from viewer.evaluation.compare import compare_paired

    entries = store.list()
    if candidate_file:
        verified = verify_bundle(candidate_file, store.trust)
        cand = ModelRef(verified.manifest.id, verified.manifest.version, verified.digest)
        manifest = verified.manifest
    elif candidate:
        cand = store_ref(entries, candidate)
        manifest = None
        if label is None:  # the stored file's manifest names the labels (signature checked)
            path = next(
                e.path for e in entries if (e.id, e.version) == (cand.model_id, cand.version)
            )
            manifest = verify_bundle(path, store.trust).manifest
    else:
        shadows = shadow_refs(entries)
        if len(shadows) != 1:
            raise BedsideError("Name the candidate: a bundle file or --candidate ID[@VERSION].")
        return compare_models(
            log, store, candidate=shadows[0], against=against, label=label, margin=margin
        )
    reference = store_ref(entries, against)
    label = label or (manifest.labels[0].name if manifest is not None else None)
    if label is None:
        raise BedsideError("Name the label to compare with --label.")
    pairs = paired_cases(
        log.records(Filters(types=SCORED_TYPES)),
        label=label,
        first_digest=cand.digest,
        second_digest=reference.digest,
    )
    report = ComparisonReport(cand, reference, label, None)
    if not pairs.truth:
        message = (
            f"{report.head}: no paired rows — no image in the audit log has a final clinician "
            "decision and a score by both models (install the candidate with `bedside bundle "
            "install --shadow` and let it score beside the active one). Nothing to compare."
        )
        return ComparisonReport(cand, reference, label, None, message)
    result = compare_paired(
        pairs.truth,
        pairs.first,
        pairs.second,
        candidate_threshold=pairs.first_threshold,
        reference_threshold=pairs.second_threshold,
        margin=margin,
    )
    return ComparisonReport(cand, reference, label, result)


# ----------------------------------------------------------------------------- the window's calls


@dataclass(frozen=True)
class ComparisonChoices:
    """What the comparison window offers: installed versions (``ID@VERSION``, text), with the
    shadow candidate and the active version chosen first."""

    versions: list[tuple[str, str]]
    candidate: str | None
    against: str | None


def comparison_choices(settings: Settings) -> ComparisonChoices:
    """The store's versions for the window's choosers (no log, no torch)."""
    from viewer.bundle.store import ModelStore

    entries = ModelStore(settings).list()
    versions = [
        (f"{e.id}@{e.version}", f"{e.id} {e.version}" + (" *" if e.active else "")) for e in entries
    ]
    shadows = shadow_refs(entries)
    active = [f"{e.id}@{e.version}" for e in entries if e.active]
    return ComparisonChoices(
        versions, shadows[0] if shadows else None, active[0] if active else None
    )


def run_comparison(
    settings: Settings,
    *,
    candidate: str,
    against: str | None,
    label: str | None = None,
    margin: float | None = None,
) -> ComparisonReport:
    """:func:`compare_models` over the log read-only (the window's worker; nothing written)."""
    from viewer.audit import AuditLog
    from viewer.bundle.store import ModelStore

    if not settings.audit_db_path.is_file():
        raise BedsideError("There is no audit log yet: nothing has been read to compare.")
    with AuditLog.open_readonly(settings.audit_db_path, settings=settings) as log:
        store = ModelStore(settings)
        return compare_models(
            log, store, candidate=candidate, against=against, label=label, margin=margin
        )
