"""Outbound Slack Web API calls from workers: rate-limit aware, never failing the work.

slack_sdk's retry handler honours `Retry-After` for a couple of 429s; calls whose result
must land (a new message, the final state of a reply) keep honouring it for longer. Any
other failure is logged and the caller goes on: a side channel never fails the job.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.web import SlackResponse, WebClient

from bot.core.config import Settings
from bot.progress.sink import SINK_CALL_BUDGET

log = logging.getLogger(__name__)

SDK_RETRIES = 2
MUST_LAND_FOR = SINK_CALL_BUDGET  # a must-land call retries 429s and outages this long


def web_client(settings: Settings) -> WebClient:
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=1),
            RateLimitErrorRetryHandler(max_retry_count=SDK_RETRIES),
        ],
    )


def retry_after(error: SlackApiError) -> float:
    raw = error.response.headers.get("Retry-After") or error.response.headers.get("retry-after")
    try:
        return max(1.0, float(raw)) if raw is not None else 1.0
    except (TypeError, ValueError):
        return 1.0


class SlackCalls:
    def __init__(self, client: WebClient, must_land_for: float = MUST_LAND_FOR) -> None:
        self.client = client
        self.must_land_for = must_land_for

    def post(self, *, must_land: bool = True, **params: Any) -> str | None:
        """chat.postMessage; the new message's ts, or None if it could not be posted."""
        answer = self.call("chat_postMessage", must_land, **params)
        return str(answer["ts"]) if answer is not None else None

    def update(self, *, must_land: bool, **params: Any) -> bool:
        return self.call("chat_update", must_land, **params) is not None

    def react(self, channel: str, ts: str, name: str) -> None:
        self.call("reactions_add", True, channel=channel, timestamp=ts, name=name)

    def ephemeral(self, **params: Any) -> bool:
        return self.call("chat_postEphemeral", True, **params) is not None

    def call(self, method: str, must_land: bool, **params: Any) -> SlackResponse | None:
        give_up = time.monotonic() + (self.must_land_for if must_land else 0.0)
        while True:
            try:
                response: SlackResponse = getattr(self.client, method)(**params)
                return response
            except SlackApiError as error:
                code = error.response.get("error")
                if code == "already_reacted":
                    return error.response  # type: ignore[no-any-return]
                if error.response.status_code == 429 and time.monotonic() < give_up:
                    time.sleep(retry_after(error))
                    continue
                log.warning("slack %s failed: %s", method, code or error.response.status_code)
                return None
            except (SlackClientError, OSError) as error:
                if time.monotonic() < give_up:
                    time.sleep(1.0)
                    continue
                log.warning("slack %s failed: %s", method, type(error).__name__)
                return None
