"""One Slack Web API call as a value: its answer or its error code, never an exception.

The streaming writer decides per call what a 429 means (an append waits for its next
turn, a stop waits out `Retry-After` until it lands), so the client it uses has no 429
retry handler of its own: `stream_client` only retries dropped connections once.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.web import WebClient

from bot.core.config import Settings

log = logging.getLogger(__name__)

MUST_LAND_FOR = 120.0  # seconds a call that must land keeps going through 429s and outages
RETRY_AFTER_CAP = 60.0  # a malformed or hostile Retry-After never parks a run for long


def stream_client(settings: Settings) -> WebClient:
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1)],
    )


@dataclass(frozen=True)
class Answer:
    """What a call came to: `ok` with Slack's `data`, or Slack's `error` code
    (`ratelimited` with `retry_after`, `connection` when Slack could not be reached)."""

    ok: bool
    data: dict[str, Any]
    error: str | None = None
    retry_after: float | None = None


def _retry_after(error: SlackApiError) -> float:
    raw = error.response.headers.get("Retry-After") or error.response.headers.get("retry-after")
    try:
        return min(RETRY_AFTER_CAP, max(1.0, float(raw))) if raw is not None else 1.0
    except (TypeError, ValueError):
        return 1.0


class Caller:
    """Calls Slack, counts the calls per method, and waits out 429s for calls that must land."""

    def __init__(
        self,
        client: WebClient,
        *,
        must_land_for: float = MUST_LAND_FOR,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.must_land_for = must_land_for
        self.sleep = sleep
        self.clock = clock
        self.counts: Counter[str] = Counter()
        self.waited = 0.0  # seconds spent waiting out Retry-After and outages

    def once(self, method: str, **params: Any) -> Answer:
        self.counts[method] += 1
        try:
            response = self.client.api_call(method, json=params)
        except SlackApiError as error:
            code = str(error.response.get("error") or error.response.status_code)
            if error.response.status_code == 429:
                return Answer(False, {}, "ratelimited", _retry_after(error))
            return Answer(False, dict(error.response.data or {}), code)
        except (SlackClientError, OSError) as error:
            log.warning("slack %s: %s", method, type(error).__name__)
            return Answer(False, {}, "connection", 1.0)
        return Answer(True, dict(response.data))  # type: ignore[arg-type]

    def landing(self, method: str, **params: Any) -> Answer:
        """`once`, repeated through 429s and outages for up to `must_land_for` seconds."""
        give_up = self.clock() + self.must_land_for
        while True:
            answer = self.once(method, **params)
            if answer.error not in ("ratelimited", "connection") or self.clock() >= give_up:
                return answer
            wait = answer.retry_after or 1.0
            self.waited += wait
            self.sleep(wait)
