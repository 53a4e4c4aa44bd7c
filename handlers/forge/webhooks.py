"""What the GitLab and GitHub webhook endpoints share: verify, read, dedupe, enqueue.

Each step answers at once and never calls the platform: a webhook is answered in
milliseconds, and everything slow happens in `jobs.forge_jobs`. Events of no interest get
a 2xx, so a platform never disables the hook for answers it did not like.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import wraps

from aiohttp import web

from bot.commands.grammar import parse
from bot.core import dedupe, keys
from bot.core.dispatch import FAST_QUEUE
from bot.core.errors import UserError
from bot.core.logs import crash_reference
from bot.forges.events import CommentEvent
from bot.forges.text import command_text, mentions
from bot.sessions import comment_order
from handlers.common import outage
from handlers.common.context import WebContext
from handlers.common.payload import Malformed, parse_form, parse_object, too_large
from jobs.forge_jobs import handle_comment

log = logging.getLogger(__name__)

_DELIVERY = re.compile(r"[A-Za-z0-9._:-]{1,128}")
FORM = "application/x-www-form-urlencoded"
Handler = Callable[[web.Request], Awaitable[web.Response]]


@dataclass(frozen=True)
class Incoming:
    """A comment as the boundary read it: what happened, and whether a bot wrote it."""

    action: str
    by_bot: bool
    event: CommentEvent


class Rejected(Exception):
    """The request cannot be taken; `response` says why (401, 400)."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.text)
        self.response = response


def same_secret(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a shared secret (GitLab's `X-Gitlab-Token`)."""
    # A header aiohttp could not decode holds surrogates: "replace" compares it, unequal.
    return given is not None and hmac.compare_digest(
        expected.encode(), given.encode("utf-8", "replace")
    )


def valid_signature(secret: str, body: bytes, header: str | None) -> bool:
    """GitHub's `X-Hub-Signature-256`: `sha256=` + hex HMAC-SHA256 of the raw body."""
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.encode("utf-8", "replace"))


def unauthorized(surface: str) -> Rejected:
    log.warning("%s webhook with a bad or missing secret refused", surface)
    return Rejected(web.json_response({"error": "bad or missing secret"}, status=401))


def read_payload(
    surface: str, body: bytes, content_type: str = "application/json"
) -> dict[str, object]:
    """The delivery's JSON object: the body itself, or a form's `payload` field (GitHub
    offers both content types; the signature covers the raw body either way). Its fields
    are read by each host's models, in `handlers.forge.github` and `gitlab`."""
    try:
        if content_type == FORM:
            return parse_object(parse_form(body).get("payload", ""))
        return parse_object(body)
    except (Malformed, UnicodeDecodeError) as error:
        raise malformed(surface, str(error)) from None


def delivery_id(surface: str, header: str | None) -> str | None:
    """The platform's delivery id (a UUID), used in a Redis key: anything else is refused."""
    if header is None or header == "":
        return None
    if not _DELIVERY.fullmatch(header):
        raise malformed(surface, "delivery id has an unexpected form")
    return header


def malformed(surface: str, what: str) -> Rejected:
    log.warning("%s webhook payload is malformed (%s); answered 400", surface, what)
    return Rejected(web.json_response({"error": f"malformed payload: {what}"}, status=400))


def guarded(surface: str) -> Callable[[Handler], Handler]:
    """The route's last line: a crash is one log line with a reference and a 400, never a
    500 with a traceback (the platform would retry a payload that crashes us again); a
    Redis outage is a 503 with Retry-After, so the platform delivers it again later."""

    def wrap(handler: Handler) -> Handler:
        @wraps(handler)
        async def guard(request: web.Request) -> web.Response:
            try:
                return await handler(request)
            except Rejected as rejected:
                return rejected.response
            except web.HTTPRequestEntityTooLarge:
                return too_large(f"{surface} webhook", request)
            except Exception as error:
                ref = crash_reference(log, f"{surface} webhook failed", error)
                if outage.is_outage(error):
                    return web.json_response(
                        {"error": f"unavailable, try again (ref {ref})"},
                        status=outage.STATUS,
                        headers=outage.headers(),
                    )
                return web.json_response({"error": f"not handled (ref {ref})"}, status=400)

        return guard

    return wrap


def ignored(reason: str) -> web.Response:
    return web.json_response({"status": "ignored", "reason": reason})


async def is_self(ctx: WebContext, provider: str, username: str) -> bool:
    """The bot's own comments, by mention name or by the identity a job cached."""
    lowered = username.lower()
    if lowered == ctx.settings.bot_name.lower():
        return True
    cached = await ctx.aredis.get(keys.forge(provider, "identity"))
    if cached is None:
        return False
    known = json.loads(cached)
    return isinstance(known, dict) and str(known.get("username", "")).lower() == lowered


async def decide(
    ctx: WebContext, incoming: Incoming, taken: str, delivery: str | None
) -> web.Response:
    """The chain every forge comment passes: the right action, not a bot, not the bot
    itself, mentions the bot; then dedupe and enqueue."""
    event = incoming.event
    if incoming.action != taken:
        return ignored(f"{'note' if event.provider == 'gitlab' else 'comment'} {incoming.action}")
    if incoming.by_bot:
        return ignored("a bot's comment")
    if await is_self(ctx, event.provider, event.author.username):
        return ignored("my own comment" if event.provider == "gitlab" else "a bot's comment")
    if not mentions(event.body, ctx.settings.bot_name):
        return ignored("no mention")
    return await accept(ctx, event, delivery)


def parsed(event: CommentEvent, bot_name: str) -> dict[str, object]:
    """The comment's command, parsed here once (or the mistake that stopped it, which the
    job answers in the thread after checking who asked)."""
    try:
        return {"command": parse(command_text(event.body, bot_name)).to_dict()}
    except UserError as error:
        return {"mistake": str(error)}


async def first_time(ctx: WebContext, name: str) -> bool:
    """Record a delivery or comment id; False when it was seen before (a redelivery)."""
    return await dedupe.take(ctx.aredis, name, dedupe.FORGE_DELIVERY_TTL)


async def enqueue_once(
    ctx: WebContext,
    names: Sequence[tuple[str, str | None]],
    function: Callable[..., object],
    *,
    job_id: str,
    queue: str = FAST_QUEUE,
    timeout: float = 600,
    **kwargs: object,
) -> web.Response:
    """Take each `(of, name)` (a delivery, an event); one taken before answers "duplicate"
    `of` it. Then enqueue `function(**kwargs)`; if that fails, the names are released, so
    the platform's retry is not a duplicate. 202 when enqueued."""
    taken: list[str] = []
    for of, name in names:
        if name is None:
            continue
        if not await first_time(ctx, name):
            return web.json_response({"status": "duplicate", "of": of})
        taken.append(name)
    try:
        await ctx.jobs.enqueue(function, job_id=job_id, queue=queue, timeout=timeout, **kwargs)
    except Exception:
        await dedupe.release(ctx.aredis, *taken)
        raise
    return web.json_response({"status": "accepted"}, status=202)


async def accept(ctx: WebContext, event: CommentEvent, delivery_key: str | None) -> web.Response:
    """Dedupe on the delivery and on the comment, then enqueue the job that does the work."""
    delivery = f"{event.provider}:delivery:{delivery_key}" if delivery_key else None
    if delivery is not None and not await first_time(ctx, delivery):
        return web.json_response({"status": "duplicate", "of": "delivery"})
    comment = f"{event.provider}:comment:{event.request_id}"
    if not await first_time(ctx, comment):
        return web.json_response({"status": "duplicate", "of": "comment"})
    await comment_order.reserve(ctx.aredis, event)  # its place in the thread, as it arrives
    try:
        await ctx.jobs.enqueue(
            handle_comment,
            job_id=f"forge-{event.request_id}",
            queue=FAST_QUEUE,
            timeout=600,
            event=event.to_dict(),
            **parsed(event, ctx.settings.bot_name),
        )
    except Exception:
        # Not taken after all: forget the delivery, so the platform's retry is not a "duplicate".
        await dedupe.release(ctx.aredis, *(name for name in (delivery, comment) if name))
        await comment_order.forget(ctx.aredis, event)
        raise
    log.info(
        "%s comment %s on %s#%s by %s taken",
        event.provider,
        event.comment_id,
        event.project,
        event.number,
        event.author.username,
    )
    return web.json_response({"status": "accepted"}, status=202)
