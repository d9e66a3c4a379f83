"""The configured forwarding destinations and their start (issue 18): kept apart from
viewer.audit.forwarding, which the destinations themselves import (no import ring)."""

from __future__ import annotations

from viewer.audit.forwarding import Destination, Forwarder
from viewer.audit.store import AuditLog
from viewer.config import Settings

__all__ = ["destinations", "start_forwarders"]


def destinations(settings: Settings) -> list[Destination]:
    """Every destination the site configured (imported only when one is enabled)."""
    found: list[Destination] = []
    if settings.values.audit_central.enabled:
        from viewer.audit.central import CentralDestination

        found.append(CentralDestination(settings))
    if settings.values.atna.enabled:
        from viewer.audit.atna_transport import AtnaDestination

        found.append(AtnaDestination.from_settings(settings))
    return found


def start_forwarders(settings: Settings, log: AuditLog) -> list[Forwarder]:
    """Start a forwarder per configured destination and hook it to ``log``'s appends."""
    started = []
    for destination in destinations(settings):
        forwarder = Forwarder(settings, destination, record=log.append)
        log.add_listener(forwarder.notify)
        forwarder.start()
        started.append(forwarder)
    return started
