"""Slack, mounted in the one aiohttp application: Bolt at `POST /slack/events`, or Socket
Mode (no public URL) when `SLACK_APP_TOKEN` is set.

The route only translates: an aiohttp request into a Bolt request, Bolt's response back.
A body that is not what Slack sends is answered 400 (Bolt's adapter would answer 500 and
Slack would retry it); the filters and listeners live in their own modules.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from handlers.slack_filters import SlackFilters
from handlers.slack_listeners import SlackListeners
from handlers.web import WebContext

log = logging.getLogger(__name__)

BOLT = web.AppKey("slack_bolt", AsyncApp)
ROUTE = "/slack/events"
SLACK_KINDS = frozenset(
    {"event_callback", "url_verification", "app_rate_limited", "block_actions",
     "block_suggestion", "view_submission", "view_closed", "shortcut", "message_action",
     "interactive_message", "dialog_submission"}
)  # fmt: skip


def register(app: web.Application, ctx: WebContext) -> None:
    settings = ctx.settings
    if not settings.slack_bot_token or not (
        settings.slack_signing_secret or settings.slack_app_token
    ):
        app.router.add_post(ROUTE, not_configured)
        return
    bolt = build_bolt(ctx)
    app[BOLT] = bolt
    if settings.slack_app_token:
        app.cleanup_ctx.append(socket_mode(bolt, settings))
    else:
        app.router.add_post(ROUTE, events)


def build_bolt(ctx: WebContext) -> AsyncApp:
    settings = ctx.settings
    client = AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    bolt = AsyncApp(
        name="repobox",
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        request_verification_enabled=not settings.slack_app_token,
        process_before_response=True,  # listeners only write to Redis: ack after them
        logger=logging.getLogger("repobox.slack.bolt"),
    )
    for check in SlackFilters(ctx).chain():
        bolt.use(check)
    listeners = SlackListeners(ctx)
    bolt.command(re.compile(r"^/"))(listeners.command)
    bolt.event("app_mention")(listeners.mention)
    bolt.event("message")(listeners.message)
    bolt.action(re.compile(r"^repobox_"))(listeners.click)
    bolt.event(re.compile(r".*"))(listeners.ignore)  # events of no interest: 200, no retry
    bolt.action(re.compile(r".*"))(listeners.ignore)
    bolt.error(listeners.failed)
    return bolt


async def events(request: web.Request) -> web.StreamResponse:
    bolt = request.app[BOLT]
    try:
        bolt_request = await to_bolt_request(request)
    except (ValueError, TypeError, AttributeError, KeyError):
        return _bad_request()
    if not _looks_like_slack(bolt_request):
        return _bad_request()
    response = await bolt.async_dispatch(bolt_request)
    if response.status == 404:  # signed, but nothing Slack sends
        return _bad_request()
    return await to_aiohttp_response(response)


def _looks_like_slack(request: AsyncBoltRequest) -> bool:
    body: Any = request.body
    if not isinstance(body, dict):
        return False
    return bool(body.get("command") or body.get("type") in SLACK_KINDS or body.get("ssl_check"))


def _bad_request() -> web.Response:
    return web.json_response({"error": "not a Slack request"}, status=400)


async def not_configured(request: web.Request) -> web.Response:
    del request
    return web.json_response(
        {"error": "Slack is not configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"},
        status=503,
    )


def socket_mode(
    bolt: AsyncApp, settings: Settings
) -> Callable[[web.Application], AsyncIterator[None]]:
    """Keep a Socket Mode connection open while the web process runs."""

    async def connection(app: web.Application) -> AsyncIterator[None]:
        del app
        handler = AsyncSocketModeHandler(bolt, settings.slack_app_token)
        task = asyncio.create_task(_connect(handler))
        yield
        task.cancel()
        await handler.close_async()  # type: ignore[no-untyped-call]

    return connection


async def _connect(handler: AsyncSocketModeHandler) -> None:
    """Connect, retrying while Slack cannot be reached (the client reconnects after that)."""
    delay = 1.0
    while True:
        try:
            await handler.connect_async()  # type: ignore[no-untyped-call]
            log.info("connected to Slack in Socket Mode")
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Socket Mode connection failed; retrying in %.0fs", delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)
