"""One workspace's budget of Slack Web API calls, across every host and worker.

Slack counts `chat.update` and `reactions.add` (Tier 3, 50+ a minute) per app per
workspace, and `chat.postMessage` about one a second per channel, so ten workers each
keeping its own pace still meet 429s together, and a worker that sits out `Retry-After`
is a worker not running the next prompt. So every such call first takes a place in a
window shared through Redis (`Shared.claim`, the same slots as the stream starts'), by
what the call is for:

- cosmetic (👀 and ✅ reactions, an intermediate progress edit): `spare()`, one try, and
  only while more than a reserve (30%) of the minute is left; with no place the call is
  skipped (a reaction) or coalesced into the next edit (an edit);
- final (a reply's last state, a new message): `wait()`, for a bounded time; past it the
  caller leaves the message stale and the relay hands it to a follow-up job.

Redis trouble lets a call go ahead, as before the budget.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from collections.abc import Callable

from bot.core import keys
from bot.core.config import Settings
from bot.progress.shared import Shared, Slot

POST = "chat.postMessage"
UPDATE, REACT, UNREACT = "chat.update", "reactions.add", "reactions.remove"
POST_PER_MINUTE = 280  # chat.postMessage workspace-wide: "several hundred a minute"
POST_PER_CHANNEL = (5, 5.25)  # one a second per channel, bursts of 5; a call in flight
UNREACT_PER_MINUTE = 18  # Tier 2 (20+), two kept back
RESERVE = 0.3  # of each method's minute kept for calls that must land
POLL = 0.25  # seconds between tries while a final call waits for its place


class Pacing:
    """`spare(method, channel)` for a cosmetic call; `wait(...)` or `now` for one that must land."""

    def __init__(
        self,
        shared: Shared,
        team_id: str,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.shared = shared
        self.team_id = team_id or "-"
        self.minute = settings.slack_minute
        tier3 = max(1, settings.slack_tier3_per_minute)
        self.per_minute = {UPDATE: tier3, REACT: tier3, UNREACT: UNREACT_PER_MINUTE}
        self.per_minute[POST] = POST_PER_MINUTE
        self.bound = settings.slack_final_wait
        self.sleep = sleep
        self.clock = clock
        self.waited = 0.0  # seconds this pacing spent waiting for places

    def spare(self, method: str, channel: str | None = None) -> bool:
        """A place for a cosmetic call now, while more than the window's reserve is left;
        else none (skip or coalesce it). The reserve is the must-land calls' own: without
        it cosmetic edits spend the minute and a final reply waits, holding its worker."""
        slots = self._slots(method, channel, cosmetic=True)
        return self.shared.claim(slots) if slots else True

    def now(self, method: str, channel: str | None = None) -> bool:
        """A place for a call that must land, without waiting (the reserve included)."""
        slots = self._slots(method, channel, cosmetic=False)
        return self.shared.claim(slots) if slots else True

    def wait(self, method: str, channel: str | None = None, within: float | None = None) -> bool:
        """Take a place, waiting up to `within` seconds (the final-reply bound by default);
        False: none came, defer the call."""
        began = self.clock()
        deadline = began + (self.bound if within is None else within)
        try:
            while not self.now(method, channel):
                left = deadline - self.clock()
                if left <= 0:
                    return False
                self.sleep(min(left, POLL * (0.5 + random.random())))  # noqa: S311 - jitter
            return True
        finally:
            self.waited += self.clock() - began

    def _slots(self, method: str, channel: str | None, *, cosmetic: bool) -> list[Slot]:
        member = uuid.uuid4().hex
        slots = []
        limit = self.per_minute.get(method)
        if limit is not None:
            if cosmetic:
                limit = max(1, limit - math.ceil(limit * RESERVE))
            slots.append(Slot(self._key(method), member, limit, self.minute))
        if method == POST and channel:
            count, per = POST_PER_CHANNEL
            slots.append(Slot(self._key(f"{POST}#{channel}"), member, count, per))
        return slots

    def _key(self, scope: str) -> str:
        return keys.slack_call_slots(self.team_id, scope)
