"""The web dashboard: `/` for everyone, `/dashboard/…` for signed-in people.

`GET /` says what to configure next and how to sign in (or sends a signed-in person to
their sessions). Under `/dashboard` (a sub-app with the account pages' session middleware,
so every POST needs the session's CSRF token) a person lists their sessions (admins:
everyone's), starts one, and on a session's page follows its live log and sends prompts,
ship, status, diff, cancel and archive through the one command executor with a
`WebOrigin`, as every surface does. The signed read-only link (`/sessions/{id}?sig=…`)
keeps working for people without an account.

Routes (sign-in needed for all but `GET /`):
    GET  /                               welcome, or a redirect to /dashboard/
    GET  /dashboard/                     sessions by repository and state, paged
    POST /dashboard/start                start a session
    GET  /dashboard/sessions/{id}        the live log with a prompt box and the actions
    GET  /dashboard/sessions/{id}/events its event stream
    POST /dashboard/sessions/{id}/prompt
    POST /dashboard/sessions/{id}/{ship,ship_anyway,undo,pick,status,diff,cancel,archive}
                                         (JSON `{ok, message}` for `Accept: application/json`)
    GET  /dashboard/health               admins: each integration's health (bot/doctor.py)
"""

from __future__ import annotations

import asyncio
import uuid

from aiohttp import web

from bot import doctor
from bot.commands.executor import Asker, Executor, Reply
from bot.commands.grammar import Command, CommandKind
from bot.commands.repo_spec import Reach
from bot.core.errors import NotFound, UserError
from bot.identity import acting
from bot.sessions.origin import WebOrigin
from bot.sessions.session import Session, Thread
from handlers.common.context import CONTEXT_KEY, WebContext
from handlers.dashboard import replies, views
from handlers.dashboard.auth.context import AccountContext, context, redirect, session
from handlers.dashboard.auth.routes import account_context, signed_in_app
from handlers.dashboard.viewer import Viewer, said, signed_in, take_notice
from handlers.dashboard.views import next_steps
from handlers.live import page as pages
from handlers.live.events import STREAM_ID
from handlers.live.workspace import DASHBOARD_HEADERS, Actions, render_workspace

PREFIX = "/dashboard"
HOME = f"{PREFIX}/"
PAGE_SIZE = 50
WEB_CONTEXT = web.AppKey("repobox.dashboard.web", WebContext)


def _web(request: web.Request) -> WebContext:
    return request.app[WEB_CONTEXT]


async def home(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT_KEY]
    accounts = request.app[COOKIES_KEY]
    loaded = accounts.cookies.load(request)
    if loaded is not None and loaded.person_id and not await accounts.revoked(loaded):
        return redirect(HOME)
    return views.welcome(next_steps(ctx))


async def dashboard(request: web.Request) -> web.Response:
    viewer = await signed_in(request)
    archived = request.query.get("archived") == "1"
    asked = request.query.get("page", "0")
    page_no = int(asked) if asked.isdigit() and len(asked) < 6 else 0
    store = _web(request).service.sessions
    found = await store.page(archived=archived, start=page_no * PAGE_SIZE, count=PAGE_SIZE + 1)
    more = len(found) > PAGE_SIZE
    mine = [s for s in found[:PAGE_SIZE] if viewer.may_see(s)]
    repos = await _repo_choices(request, viewer, found)
    return views.sessions_list(
        mine,
        csrf=session(request).csrf,
        admin=viewer.admin,
        message=take_notice(request),
        archived=archived,
        page_no=page_no,
        more=more,
        repos=repos,
    )


async def _repo_choices(request: web.Request, viewer: Viewer, recent: list[Session]) -> list[str]:
    """The picker: repositories of the person's recent sessions, then their linked accounts'
    namespaces (`login/`) to complete from."""
    chosen = {s.repo for s in recent if s.created_by.id == viewer.person.id}
    for linked in await context(request).accounts.connections(viewer.account.id):
        chosen.add(f"{linked.login}/")
    return sorted(chosen)


async def start(request: web.Request) -> web.Response:
    viewer = await signed_in(request)
    data = await request.post()
    repo = str(data.get("repo", "")).strip()
    base = str(data.get("base", "")).strip() or None
    prompt = str(data.get("prompt", "")).strip() or None
    if not repo:
        return said(request, HOME, "Choose a repository.")
    request_id = uuid.uuid4().hex
    thread = Thread("web", request_id)
    service = _web(request).service
    try:
        await _link_first(request, viewer, repo)
        started = await service.start(
            repo=repo,
            base=base,
            prompt=prompt,
            thread=thread,
            person=viewer.person,
            request_id=request_id,
            origin=WebOrigin(viewer.person.id),
        )
    except UserError as error:
        return said(request, HOME, str(error))
    return said(
        request,
        f"{PREFIX}/sessions/{started.session.id}",
        f"Started session {started.session.id} on {started.session.project}.",
    )


async def _link_first(request: web.Request, viewer: Viewer, repo: str) -> None:
    """REPOBOX_REQUIRE_LINKED: a hosted repository needs the person's account on its host."""
    ctx = _web(request)
    if not ctx.settings.require_linked:
        return
    provider = acting.HOSTED.get(ctx.service.check_spec(repo, Reach.CHAT).provider)
    if provider is None:
        return
    if await context(request).accounts.connection(viewer.account.id, provider):
        return
    raise UserError(
        f"Repobox works on {provider.value} repositories as you: link your {provider.value} "
        "account in Settings first."
    )


async def _own_session(request: web.Request, viewer: Viewer) -> Session:
    store = _web(request).service.sessions
    try:
        found = await store.get(request.match_info["id"])
    except NotFound:
        found = None
    if found is None or not viewer.may_see(found):
        raise web.HTTPNotFound(text="There is no such session of yours.")
    return found


async def session_page(request: web.Request) -> web.Response:
    viewer = await signed_in(request)
    found = await _own_session(request, viewer)
    snapshot = await pages.snapshot(_web(request).service, found.id)
    snapshot["events"] = f"{found.id}/events"
    snapshot["expires"] = int(session(request).expires)
    actions = Actions(
        f"{PREFIX}/sessions/{found.id}", session(request).csrf, viewer.admin, take_notice(request)
    )
    document = render_workspace(snapshot, actions)
    return web.Response(text=document, content_type="text/html", headers=DASHBOARD_HEADERS)


async def session_events(request: web.Request) -> web.StreamResponse:
    viewer = await signed_in(request)
    found = await _own_session(request, viewer)
    cursor = request.headers.get("Last-Event-ID") or request.query.get("after") or "0"
    if not STREAM_ID.match(cursor):
        raise web.HTTPBadRequest(text="Last-Event-ID is not a stream id.")
    streams = request.config_dict[pages.STREAMS_KEY]
    return await streams.serve(request, found.id, cursor, session(request).expires)


COMMANDS = {
    "ship": CommandKind.SHIP,
    "ship_anyway": CommandKind.SHIP_ANYWAY,
    "undo": CommandKind.UNDO,
    "pick": CommandKind.PICK,
    "status": CommandKind.STATUS,
    "diff": CommandKind.DIFF,
    "cancel": CommandKind.CANCEL,
    "archive": CommandKind.ARCHIVE,
    "prompt": CommandKind.PROMPT,
}


async def act(request: web.Request) -> web.Response:
    """One action; the session page's script posts with `Accept: application/json` and
    gets `{"ok", "message"}` back (no reload), a plain form gets the redirect and notice."""
    viewer = await signed_in(request)
    found = await _own_session(request, viewer)
    kind = COMMANDS.get(request.match_info["action"])
    if kind is None:
        raise web.HTTPNotFound(text="No such action.")
    form = await request.post()
    text, number = None, None
    if kind is CommandKind.PROMPT:
        text = str(form.get("prompt", "")).strip()
        if not text:
            return _answer(request, found, "Type a prompt first.", ok=False)
    if kind is CommandKind.PICK:
        asked = str(form.get("number", ""))
        if not (asked.isdigit() and len(asked) < 4):
            return _answer(request, found, "Pick a candidate by its number.", ok=False)
        number = int(asked)
    command = Command(kind, prompt=text, number=number)
    asker = Asker(viewer.person, uuid.uuid4().hex, WebOrigin(viewer.person.id))
    executor = Executor(_web(request).service)
    try:
        reply: Reply = await executor.execute(command, found, asker)
    except UserError as error:
        return _answer(request, found, str(error), ok=False)
    return _answer(request, found, replies.text(reply))


def _answer(request: web.Request, found: Session, note: str, *, ok: bool = True) -> web.Response:
    if "application/json" in request.headers.get("Accept", ""):
        return web.json_response(
            {"ok": ok, "message": note},
            status=200 if ok else 409,
            headers={"Cache-Control": "no-store"},
        )
    return said(request, f"{PREFIX}/sessions/{found.id}", note)


async def health(request: web.Request) -> web.Response:
    viewer = await signed_in(request)
    if not viewer.admin:
        raise web.HTTPForbidden(text="Only admins (REPOBOX_ADMINS) see the health page.")
    ctx = _web(request)
    checks = await asyncio.to_thread(doctor.run_all, ctx.settings, ctx.redis)
    return views.health(checks, session(request).csrf)


# What `GET /` needs to tell a signed-in browser from a new one (no middleware there).
COOKIES_KEY = web.AppKey("repobox.dashboard.cookies", AccountContext)


def register(app: web.Application, ctx: WebContext) -> None:
    sub = signed_in_app(ctx.settings, ctx.aredis, max_size=256 * 1024)
    sub[WEB_CONTEXT] = ctx
    sub.router.add_get("/", dashboard)
    sub.router.add_post("/start", start)
    sub.router.add_get("/sessions/{id}", session_page)
    sub.router.add_get("/sessions/{id}/events", session_events)
    sub.router.add_post("/sessions/{id}/{action}", act)
    sub.router.add_get("/health", health)
    sub.router.add_static("/static/", pages.STATIC_DIR)
    app[COOKIES_KEY] = account_context(ctx.settings, ctx.aredis)
    app.router.add_get("/", home)
    app.add_subapp(PREFIX, sub)
