"""The monitor over an audit log: every model version's report, the references it needs, and the
alerts it records.

- :func:`find_references`: each model version's reference profile, from its bundle's manifest
  (an explicit bundle file, the model store, or the shipped demo bundle in demo mode). Only the
  signature and the manifest are read (no torch). A version with no bundle found, or a bundle
  without a reference, gets None: its report says monitoring is unavailable.
- :func:`monitor_log`: the report (a plain dict, the JSON of ``bedside monitor report``).
- :func:`record_alerts`: one ``monitor_alert`` row per alert (statistic, value, threshold and
  window in its detail), through :meth:`AuditLog.append`; an alert already recorded for the same
  model, test and window is not recorded twice (the report may be run every day).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from viewer.monitoring.cases import streams_from_records
from viewer.monitoring.monitor import ModelReport, MonitorConfig, WindowSpec, monitor_model
from viewer.monitoring.profile import ReferenceProfile

if TYPE_CHECKING:
    from viewer.audit.store import AuditLog
    from viewer.config import Settings

__all__ = ["find_references", "monitor_log", "monitor_streams", "record_alerts"]

Key = tuple[str, str]


def find_references(
    settings: Settings, keys: Iterable[Key], bundles: Sequence[Path] = ()
) -> tuple[dict[Key, ReferenceProfile | None], list[str]]:
    """(profile per model version, notes on bundles that could not be read)."""
    from viewer.bundle import ModelStore, TrustStore, verify_bundle
    from viewer.errors import BedsideError

    wanted = set(keys)
    found: dict[Key, ReferenceProfile | None] = {}
    notes: list[str] = []
    trust = TrustStore.from_settings(settings)
    candidates: list[Path] = list(bundles)
    try:
        candidates += [e.path for e in ModelStore(settings).list() if (e.id, e.version) in wanted]
    except BedsideError as exc:
        notes.append(f"The model store could not be read: {exc}")
    if settings.demo:
        from viewer.bundle.resources import DEMO_BUNDLE, resource_path

        candidates.append(resource_path(*DEMO_BUNDLE))
    for path in candidates:
        try:
            manifest = verify_bundle(path, trust).manifest
        except BedsideError as exc:
            notes.append(f"{path.name}: {exc}")
            continue
        key = (str(manifest.id), str(manifest.version))
        if key in wanted and found.get(key) is None:
            found[key] = ReferenceProfile.from_manifest(manifest)
    return {key: found.get(key) for key in wanted}, notes


def monitor_log(
    records: Iterable[Any],
    references: dict[Key, ReferenceProfile | None] | None,
    spec: WindowSpec,
    *,
    end: datetime | None = None,
    config: MonitorConfig | None = None,
    model: str | None = None,
    include_demo: bool = True,
) -> tuple[dict[str, Any], list[ModelReport]]:
    """The report of every model version in ``records`` (or the one ``model`` names: ``id``,
    ``id version`` or ``id@version``); ``references`` None: look nothing up (all unavailable)."""
    streams = streams_from_records(records, include_demo=include_demo)
    return monitor_streams(streams, references, spec, end=end, config=config, model=model)


def monitor_streams(
    streams: dict[Key, Any],
    references: dict[Key, ReferenceProfile | None] | None,
    spec: WindowSpec,
    *,
    end: datetime | None = None,
    config: MonitorConfig | None = None,
    model: str | None = None,
) -> tuple[dict[str, Any], list[ModelReport]]:
    """:func:`monitor_log` on streams already built (``streams_from_records``): a caller that
    needs the model keys first (to find their references) reads the log once."""
    config = config or MonitorConfig()
    end = end or datetime.now(UTC)
    if model:
        streams = {
            k: v for k, v in streams.items() if model in (k[0], f"{k[0]} {k[1]}", f"{k[0]}@{k[1]}")
        }
    reports = [
        monitor_model(s, (references or {}).get(key), spec, end=end, config=config)
        for key, s in sorted(streams.items())
    ]
    head = {
        "generated": end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "window": spec.describe(),
        "alpha": config.alpha,
        "k_sigma": config.k_sigma,
        "min_cases": config.min_cases,
        "min_baseline": config.min_baseline,
        "alerts": sum(len(r.alerts) for r in reports),
        "models": [r.as_dict() for r in reports],
    }
    return head, reports


def _alert_key(model_id: str, version: str, test: str, window: dict[str, Any]) -> tuple[str, ...]:
    return (model_id, version, test, str(window.get("start")), str(window.get("end")))


def record_alerts(log: AuditLog, reports: Sequence[ModelReport]) -> int:
    """Append a ``monitor_alert`` row per new alert; returns how many were written."""
    from viewer.audit import AuditEvent, EventType, Filters

    seen = {
        _alert_key(
            str(r.model_id), str(r.model_version), str(r.detail.get("test")), r.detail["window"]
        )
        for r in log.iter_records(Filters(types=(EventType.MONITOR_ALERT.value,)))
        if isinstance(r.detail.get("window"), dict)
    }
    written = 0
    for report in reports:
        for alert in report.alerts:
            key = _alert_key(report.model_id, report.model_version, alert.test, alert.window)
            if key in seen:
                continue
            log.append(
                AuditEvent(
                    type=EventType.MONITOR_ALERT,
                    model_id=report.model_id,
                    model_version=report.model_version,
                    reason=alert.message,
                    detail={
                        "test": alert.test,
                        "statistic": alert.statistic,
                        "value": alert.value,
                        "threshold": alert.threshold,
                        "window": alert.window,
                    },
                )
            )
            seen.add(key)
            written += 1
    return written
