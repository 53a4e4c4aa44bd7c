"""The live session page, `GET /sessions/{id}`, and its event stream, `GET /sessions/{id}/events`.

Both need the signed link the surfaces post (bot/security/links.py): without a valid,
unexpired signature over this session id they answer 403 with the same few words whether
or not the session exists. The page is one HTML document with the session card rendered
on the server; a small script (handlers/live/static/) follows the event stream and draws the
log and the diff.
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.commands.service import SessionService
from bot.core.errors import NotFound
from bot.security.links import verify
from bot.sessions.session import Session
from handlers.common.context import CONTEXT_KEY, WebContext
from handlers.live.events import STREAM_ID, LiveStreams, prompt_card

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
PAGE = Template((HERE / "templates" / "session.html").read_text())
STREAMS_KEY = web.AppKey("repobox.live_streams", LiveStreams)

# The link's signature is in the page's URL: never send it on as a Referer, never cache it.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
}
FORBIDDEN = "This link is not valid, or it has expired. Ask Repobox for a fresh one."


def _signed(request: web.Request) -> bool:
    ctx = request.app[CONTEXT_KEY]
    query = request.query
    return verify(ctx.settings, request.match_info["id"], query.get("expires"), query.get("sig"))


def _forbidden() -> web.Response:
    return web.Response(status=403, text=FORBIDDEN, headers={"Cache-Control": "no-store"})


async def page(request: web.Request) -> web.Response:
    if not _signed(request):
        return _forbidden()
    ctx = request.app[CONTEXT_KEY]
    session_id = request.match_info["id"]
    try:
        snapshot = await _snapshot(ctx.service, session_id)
    except NotFound:
        raise web.HTTPNotFound(text="This session no longer exists.") from None
    snapshot["events"] = f"{quote(session_id)}/events?{request.query_string}"
    snapshot["expires"] = int(request.query["expires"])
    body = render(snapshot)
    return web.Response(text=body, content_type="text/html", headers=PAGE_HEADERS)


async def events(request: web.Request) -> web.StreamResponse:
    if not _signed(request):
        return _forbidden()
    cursor = request.headers.get("Last-Event-ID") or request.query.get("after") or "0"
    if not STREAM_ID.match(cursor):
        raise web.HTTPBadRequest(text="Last-Event-ID is not a stream id.")
    streams = request.app[STREAMS_KEY]
    session_id = request.match_info["id"]
    if not await streams.exists(session_id):
        raise web.HTTPNotFound(text="This session no longer exists.")
    until = float(request.query["expires"])
    return await streams.serve(request, session_id, cursor, until)


async def _snapshot(service: SessionService, session_id: str) -> dict[str, Any]:
    session = await service.sessions.get(session_id)
    prompts = await service.prompts.history(session_id)
    return {"session": _card(session), "prompts": [prompt_card(p) for p in prompts]}


snapshot = _snapshot  # the dashboard's session page renders the same card and history


def _card(session: Session) -> dict[str, Any]:
    merge_request = session.merge_request
    return {
        "id": session.id,
        "title": session.title,
        "project": session.project,
        "provider": session.provider,
        "work_branch": session.work_branch,
        "base_branch": session.base_branch,
        "state": session.state.value,
        "who": session.created_by.name,
        "surface": session.thread.surface,
        "thread_url": _web_url(session.thread.url),
        "mr_url": _web_url(merge_request.url if merge_request else None),
        "mr_number": merge_request.number if merge_request else None,
        "created_at": session.created_at,
        "error": session.error,
    }


def _web_url(url: object) -> str | None:
    """Only http(s) links become hrefs (never `javascript:` from a stored value)."""
    text = str(url) if url else ""
    return text if text.startswith(("https://", "http://")) else None


def render(snapshot: dict[str, Any]) -> str:
    card = snapshot["session"]
    esc = html.escape
    mr = (
        f'<a href="{esc(card["mr_url"])}" rel="noreferrer">!{esc(str(card["mr_number"] or ""))} '
        f"{esc(card['mr_url'])}</a>"
        if card["mr_url"]
        else '<span class="muted">not shipped yet</span>'
    )
    thread = (
        f'<a href="{esc(card["thread_url"])}" rel="noreferrer">{esc(card["surface"])} thread</a>'
        if card["thread_url"]
        else esc(card["surface"])
    )
    created = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(card["created_at"]))
    # In a <script> element only "</" can end it early; JSON lets us escape "<" as \u003c.
    data = json.dumps(snapshot).replace("<", "\\u003c")
    return PAGE.substitute(
        id=esc(card["id"]),
        title=esc(card["title"] or card["project"]),
        project=esc(card["project"]),
        provider=esc(card["provider"]),
        work_branch=esc(card["work_branch"]),
        base_branch=esc(card["base_branch"] or "default branch"),
        state=esc(card["state"]),
        who=esc(card["who"]),
        thread=thread,
        created=esc(created),
        mr=mr,
        snapshot=data,
    )


def register(app: web.Application, ctx: WebContext) -> None:
    streams = LiveStreams(ctx.readers)
    app[STREAMS_KEY] = streams
    app.on_shutdown.append(streams.shutdown)
    app.router.add_get("/sessions/{id}", page)
    app.router.add_get("/sessions/{id}/events", events)
    app.router.add_static("/static/", STATIC_DIR)
