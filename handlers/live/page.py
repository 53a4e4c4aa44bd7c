"""The live session page, `GET /sessions/{id}`, and its event stream, `GET /sessions/{id}/events`.

Both need the signed link the surfaces post (bot/security/links.py): without a valid,
unexpired signature over this session id they answer 403 with the same few words whether
or not the session exists. The page is the session workspace (handlers/live/workspace.py)
without its actions; a small script (handlers/live/static/) follows the event stream and
draws the log, the checks and the diff.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.commands.service import SessionService
from bot.core.errors import NotFound
from bot.security.links import verify
from bot.sessions.session import Session
from handlers.common.context import CONTEXT_KEY, WebContext
from handlers.common.places import places_of
from handlers.live.events import STREAM_ID, LiveStreams, prompt_card
from handlers.live.workspace import render_workspace

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
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
    body = render_workspace(snapshot)  # read-only: a link's holder watches, never acts
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
    card = _card(session)
    thread, mr = session.thread, session.merge_request
    others = await service.sessions.places(session_id)
    found = places_of(
        thread.surface,
        thread.key,
        thread.url,
        mr.url if mr else None,
        others,
        page=f"/dashboard/sessions/{session.id}",
    )
    card["places"] = [place.to_dict() for place in found]
    return {"session": card, "prompts": [prompt_card(p) for p in prompts]}


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


def register(app: web.Application, ctx: WebContext) -> None:
    streams = LiveStreams(ctx.readers)
    app[STREAMS_KEY] = streams
    app.on_shutdown.append(streams.shutdown)
    app.router.add_get("/sessions/{id}", page)
    app.router.add_get("/sessions/{id}/events", events)
    app.router.add_static("/static/", STATIC_DIR)
