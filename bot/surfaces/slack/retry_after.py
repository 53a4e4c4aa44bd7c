"""The one policy for Slack's rate limits and outages, for every Slack call Repobox makes.

Slack answers a 429 with `Retry-After`; a malformed or hostile value never parks a run for
long, so it is read here once, at least 1 second and at most `CAP`. A call whose result
must land (a new message, a reply's final state, a stream's stop) waits that long, or a
second after an outage, and tries again, for at most `MUST_LAND_FOR`; any other call
takes its answer at once and lets its caller decide (an append waits for its next turn, a
status line is decoration). The web process's client (Bolt's) waits out up to two 429s
with the same capped reading. The reading of the header and the retry loop are
`bot/core/retry.py`'s, as every other service's are.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.core import retry as core_retry
from bot.progress.sink import SINK_CALL_BUDGET

CAP = 30.0  # seconds; the longest Retry-After honoured in a job
OUTAGE_PAUSE = 1.0  # seconds between tries while Slack cannot be reached
# a call that must land keeps trying this long (Slack disagreeing with our budget); well
# under the relay's lock, so a worker is never held for a workspace's minute
MUST_LAND_FOR = min(SINK_CALL_BUDGET, 30.0)

T = TypeVar("T")


def retry_after(headers: Mapping[str, object]) -> float:
    """Seconds to wait before the next try, from a 429's headers: 1 when absent or
    unreadable, never more than `CAP`."""
    asked = core_retry.retry_after(headers)
    return min(CAP, max(1.0, asked)) if asked is not None else 1.0


def until_landed(
    attempt: Callable[[], T],
    pause: Callable[[T], float | None],
    *,
    within: float = MUST_LAND_FOR,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`bot.core.retry.until_landed`, for at most `MUST_LAND_FOR` unless told otherwise."""
    return core_retry.until_landed(attempt, pause, within=within, clock=clock, sleep=sleep)


class CappedRateLimitRetry(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 retry for an `AsyncWebClient`, waiting `retry_after` (capped)
    instead of whatever the header says."""

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error or RuntimeError("a retry with neither a response nor an error")
        state.next_attempt_requested = True
        await asyncio.sleep(retry_after(response.headers))
        state.increment_current_attempt()
