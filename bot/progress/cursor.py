"""Where a reader is in a session's stream: stream ids compared once, in one place.

Two relays may deliver the same batch (an archive job beside a run); a view remembers
the last id it applied and skips anything at or before it.
"""

from __future__ import annotations


def stream_order(event_id: str) -> tuple[int, int]:
    """A Redis stream id (`millis-seq`) as something that sorts in stream order."""
    millis, _, seq = event_id.partition("-")
    return int(millis or 0), int(seq or 0)


def seen(event_id: str | None, cursor: str | None) -> bool:
    """True when `event_id` is at or before `cursor` (already applied)."""
    if not event_id or not cursor:
        return False
    return stream_order(event_id) <= stream_order(cursor)
