"""A workspace's places for opening and closing streams, across every host and worker.

`chat.startStream` and `chat.stopStream` are Tier 2: about 20 calls a minute per app per
workspace, one of each per streamed reply, so past ~20 replies a minute every further
stream would meet 429s and a worker would sit out `Retry-After` instead of running the
next prompt. So a reply takes its places before it calls: a start and, with it, the stop
that will close it (held until the stream's longest life), so a stream that was opened
can always be closed. When no place is left the reply is an edited message instead
(`chat.postMessage` + `chat.update`), at once: pacing never waits. The places live in the
relay's `Shared` memory; Redis trouble lets a reply stream as before.
"""

from __future__ import annotations

import uuid

from bot.core import keys
from bot.progress.shared import Shared, Slot

PER_MINUTE = 18  # Tier 2 is 20+; two kept back for the edge of Slack's own minute
MINUTE = 60.0
STOP_HELD = 360.0  # a reserved stop outlives any stream (Slack ends them after ~5 min)
START, STOP = "chat.startStream", "chat.stopStream"


class StreamSlots:
    """`open()` before a `chat.startStream`, `close(token)` before its `chat.stopStream`."""

    def __init__(self, shared: Shared, team_id: str, *, per_minute: int = PER_MINUTE) -> None:
        self.shared = shared
        self.team_id = team_id or "-"
        self.per_minute = per_minute

    def open(self) -> str | None:
        """A token for a new stream (its start counted, its stop reserved), or None: no
        place this minute, reply by the edit path."""
        token = uuid.uuid4().hex
        start = Slot(self._key(START), token, self.per_minute, MINUTE)
        stop = Slot(self._key(STOP), token, self.per_minute, STOP_HELD)
        return token if self.shared.claim([start, stop]) else None

    def close(self, token: str | None) -> bool:
        """Use the stop reserved with `token` (always there while held), or take a free
        one; False: none this minute (the stream's stop is left to the caller's judgement)."""
        member = token or uuid.uuid4().hex
        return self.shared.claim([Slot(self._key(STOP), member, self.per_minute, MINUTE)])

    def _key(self, method: str) -> str:
        return keys.slack_stream_slots(self.team_id, method)
