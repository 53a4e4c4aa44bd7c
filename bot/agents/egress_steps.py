"""Refused connections as warning steps: each host once per run, named, from every agent."""

from __future__ import annotations

from bot.security.egress import refusal_text
from bot.security.sandbox import Sandbox
from bot.sessions.events import EventKind, ProgressEvent


def egress_warnings(sandbox: Sandbox | None) -> list[ProgressEvent]:
    """A WARNING per host the run's allow-list turned away since the last call."""
    if sandbox is None or sandbox.egress is None:
        return []
    return [
        ProgressEvent(EventKind.WARNING, refusal_text(host), data={"egress_refused": host})
        for host in sandbox.egress.fresh()
    ]
