"""The Slack Web API clients, built in one place from the settings (`SLACK_API_URL` is how
tests point them at a fake Slack)."""

from __future__ import annotations

from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.web import WebClient
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.config import Settings
from bot.surfaces.slack.retry_after import CappedRateLimitRetry

TIMEOUT = 15  # seconds per HTTP request


def web_client(settings: Settings, *, timeout: int = TIMEOUT) -> WebClient:
    """A worker's client. It retries a dropped connection once; a 429 comes back to the
    caller, whose policy (`retry_after`) decides whether to wait."""
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=timeout,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1)],
    )


def async_web_client(settings: Settings) -> AsyncWebClient:
    """Bolt's client in the web process; it waits out up to two 429s (capped)."""
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        retry_handlers=[CappedRateLimitRetry(max_retry_count=2)],
    )
