"""One workspace's share of `chat.appendStream`, across every stream and every worker.

The method's Tier 4 (100+ a minute) is counted per app per workspace, not per message, so
two runs in one workspace, each appending once a second, would already pass it. Every
writer of a workspace draws appends from one shared counter per time window, and a 429
one of them meets pauses them all for its `Retry-After`. The counters live in the relay's
`Shared` memory; Redis trouble never holds a reply back: without the budget the writer
still keeps its own interval.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from bot.core import keys
from bot.progress.shared import Shared

log = logging.getLogger(__name__)

PER_MINUTE = 80  # well inside Tier 4's 100+, leaving room for status and final stops
WINDOW = 10.0  # seconds; short windows keep bursts at a window's edge small


class AppendBudget:
    """`take()` before an append: 0 to go ahead, or the seconds to wait first."""

    def __init__(
        self,
        shared: Shared,
        team_id: str,
        *,
        per_minute: int = PER_MINUTE,
        window: float = WINDOW,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.shared = shared
        self.team_id = team_id or "-"
        self.window = window
        self.allowed = max(1, math.floor(per_minute * window / 60))
        self.clock = clock

    def take(self) -> float:
        now = self.clock()
        paused = _seconds(self.shared.get(keys.slack_stream_pause(self.team_id)))
        if paused > now:
            return paused - now
        slot = int(now // self.window)
        used = self.shared.count(keys.slack_stream_budget(self.team_id, slot), self.window * 2)
        return 0.0 if used <= self.allowed else (slot + 1) * self.window - now

    def pause(self, seconds: float) -> None:
        """Slack answered 429: hold every stream of this workspace for `seconds`."""
        until = self.clock() + seconds
        self.shared.put(keys.slack_stream_pause(self.team_id), repr(until), seconds)


def _seconds(raw: str | None) -> float:
    try:
        return float(raw) if raw is not None else 0.0
    except ValueError:
        log.warning("stream pause unreadable: appending on the writer's pace")
        return 0.0
