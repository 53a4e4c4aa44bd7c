"""Slack, mounted in the one aiohttp application: Bolt at `POST /slack/events`, or Socket
Mode (no public URL) when `SLACK_APP_TOKEN` is set.

The route is the boundary: it verifies Slack's signature over the raw body with
slack_sdk's `SignatureVerifier` (401; Bolt's own check is off, since Bolt only ever sees
the rebuilt body, and Socket Mode has no signatures), reads the body once into a typed
value (`slack_request`; 400 when it does not read), answers what needs no listener
(url_verification, ssl_check, kinds Repobox ignores), and hands Bolt a body rebuilt from
the typed value, so Bolt's own code never meets a malformed one.
Anything that still goes wrong inside Bolt is one log line and a 400, never a 500; a
Redis outage is a 503 with Retry-After, so Slack delivers the event again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.core.config import Settings
from bot.core.logs import crash_reference
from bot.surfaces.slack.clients import async_web_client
from handlers.common import outage
from handlers.common.context import WebContext
from handlers.common.payload import Malformed, too_large
from handlers.slack import request as slack_request
from handlers.slack.assistant import build_assistant, recent_from
from handlers.slack.filters import SlackFilters
from handlers.slack.home import AppHome
from handlers.slack.listeners import SlackListeners
from handlers.slack.request import SlackRequest, Unheard, UrlVerification

log = logging.getLogger(__name__)

BOLT = web.AppKey("slack_bolt", AsyncApp)
VERIFIER = web.AppKey("slack_signature", SignatureVerifier)
ROUTE = "/slack/events"
_TIMESTAMP = re.compile(r"\d{1,12}")


def register(app: web.Application, ctx: WebContext) -> None:
    settings = ctx.settings
    secret = settings.slack_signing_secret
    if not settings.slack_bot_token or not (secret or settings.slack_app_token):
        app.router.add_post(ROUTE, not_configured)
        return
    bolt = build_bolt(ctx)
    app[BOLT] = bolt
    if settings.slack_app_token:
        app.cleanup_ctx.append(socket_mode(bolt, settings))
    elif secret:
        app[VERIFIER] = SignatureVerifier(secret)
        app.router.add_post(ROUTE, events)


def build_bolt(ctx: WebContext) -> AsyncApp:
    settings = ctx.settings
    bolt = AsyncApp(
        name="repobox",
        client=async_web_client(settings),
        signing_secret=settings.slack_signing_secret or "",
        request_verification_enabled=False,  # the route verifies the raw body itself
        process_before_response=True,  # listeners only write to Redis: ack after them
        logger=logging.getLogger("repobox.slack.bolt"),
    )
    for check in SlackFilters(ctx).chain():
        bolt.use(check)
    listeners = SlackListeners(ctx)
    recent = recent_from(ctx.service.sessions)
    bolt.use(build_assistant(recent=recent, submit=listeners.assistant_message))
    bolt.command(re.compile(r"^/"))(listeners.command)
    bolt.event("app_mention")(listeners.mention)
    bolt.event("message")(listeners.message)
    bolt.event("app_home_opened")(AppHome(ctx).opened)  # the Home tab
    bolt.action(re.compile(r"^repobox_"))(listeners.click)
    bolt.event(re.compile(r".*"))(listeners.ignore)  # events of no interest: 200, no retry
    bolt.action(re.compile(r".*"))(listeners.ignore)
    bolt.error(listeners.failed)
    return bolt


async def events(request: web.Request) -> web.StreamResponse:
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return too_large("slack", request)
    if not signed(request.app[VERIFIER], raw, request.headers):
        log.warning("slack request with a bad, stale or missing signature refused")
        return web.json_response({"error": "invalid request"}, status=401)
    try:
        parsed = slack_request.read(raw.decode("utf-8"), request.content_type)
    except Malformed as error:
        log.warning("slack request is malformed (%s); answered 400", error)
        return _bad_request()
    if isinstance(parsed, Unheard):
        return _unheard(parsed)
    return await dispatch(request.app[BOLT], parsed)


def signed(verifier: SignatureVerifier, raw: bytes, headers: Mapping[str, str]) -> bool:
    """Slack's v0 signature of the raw body, made within the last 5 minutes. What could
    not be Slack's (a timestamp that is not a number, a signature that is not ASCII, a
    body that is not UTF-8) is refused here: the verifier would raise on it."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not _TIMESTAMP.fullmatch(timestamp) or not signature.isascii():
        return False
    try:
        return verifier.is_valid(raw, timestamp, signature)
    except UnicodeDecodeError:
        return False


async def dispatch(bolt: AsyncApp, parsed: SlackRequest) -> web.StreamResponse:
    """Bolt, given the rebuilt body; a crash anywhere in it is a 400 and one log line."""
    bolt_request = AsyncBoltRequest(
        body=json.dumps(slack_request.bolt_body(parsed)),
        headers={"content-type": "application/json"},
        context={slack_request.KEY: parsed},
    )
    try:
        response = await bolt.async_dispatch(bolt_request)
    except Exception as error:
        crash_reference(log, "slack request failed inside Bolt", error)
        if outage.is_outage(error):
            return web.Response(status=outage.STATUS, headers=outage.headers())
        return _bad_request()
    if response.status == outage.STATUS and "retry-after" in response.headers:
        return await to_aiohttp_response(response)  # our listeners' answer to an outage
    if response.status == 404 or response.status >= 500:  # unhandled, or a crash Bolt caught
        return _bad_request()
    return await to_aiohttp_response(response)


def _unheard(parsed: Unheard) -> web.Response:
    """Kinds no listener needs: Slack's URL check is echoed, the rest acknowledged."""
    if isinstance(parsed, UrlVerification):
        return web.json_response({"challenge": parsed.challenge})
    return web.json_response({}, status=200)


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
