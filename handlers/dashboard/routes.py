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
    GET  /dashboard/                     one list of sessions: filters, paging, the start form
    POST /dashboard/start                start a session
    GET  /dashboard/sessions/{id}        the live log with a prompt box and the actions
    GET  /dashboard/sessions/{id}/events its event stream
    POST /dashboard/sessions/{id}/prompt
    POST /dashboard/sessions/{id}/{ship,ship_anyway,undo,pick,status,diff,cancel,archive}
                                         (JSON `{ok, message}` for `Accept: application/json`)
    GET  /dashboard/health               admins: each integration's health (bot/doctor/)
    GET  /dashboard/setup                admins: the setup checklist (loaded into the list page)
    POST /dashboard/setup/dismiss/{item}, /dashboard/setup/restore
"""

from __future__ import annotations

import uuid

from aiohttp import web

from bot.commands.executor import Asker, Executor, Reply
from bot.commands.grammar import Command, CommandKind
from bot.commands.repo_spec import Reach, SpecKind
from bot.core.errors import Forbidden, NotFound, UserError
from bot.identity import acting
from bot.sessions.origin import WebOrigin
from bot.sessions.session import Session, Thread
from handlers.common.context import CONTEXT_KEY, WebContext
from handlers.dashboard import budgets, replies, setup, views
from handlers.dashboard.auth.context import AccountContext, context, redirect, session
from handlers.dashboard.auth.routes import account_context, signed_in_app
from handlers.dashboard.listing import list_rows
from handlers.dashboard.review import ask_review
from handlers.dashboard.rows import Filters
from handlers.dashboard.viewer import Viewer, said, signed_in, take_notice
from handlers.dashboard.views import next_steps
from handlers.live import page as pages
from handlers.live.events import STREAM_ID
from handlers.live.workspace import DASHBOARD_HEADERS, Actions, render_workspace

PREFIX = "/dashboard"
HOME = f"{PREFIX}/"
WEB_CONTEXT = web.AppKey("repobox.dashboard.web", WebContext)
DOCTOR = web.AppKey("repobox.dashboard.doctor", setup.DoctorCache)


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
    return await _dashboard(request, viewer, message=take_notice(request))


async def _dashboard(
    request: web.Request,
    viewer: Viewer,
    *,
    message: str | None = None,
    error: str | None = None,
    draft: views.Draft | None = None,
    status: int = 200,
) -> web.Response:
    ctx = _web(request)
    filters = Filters.read(request.query)
    if filters.scope == "everyone" and not viewer.admin:
        raise web.HTTPForbidden(text="Only admins (REPOBOX_ADMINS) see everyone's sessions.")
    found = await list_rows(context(request).accounts, viewer, filters)
    return views.dashboard(
        viewer,
        csrf=session(request).csrf,
        message=message,
        error=error,
        listing=found,
        filters=filters,
        draft=draft or views.Draft(),
        choices=await _repo_choices(request, viewer, [name for _, name in found.repos]),
        placeholder=views.repo_placeholder(ctx.settings, viewer),
        settings_roots=[str(root) for root in ctx.settings.local_roots],
        bot_name=ctx.settings.bot_name,
        status=status,
    )


async def _repo_choices(request: web.Request, viewer: Viewer, recent: list[str]) -> list[str]:
    """The picker: repositories of the person's recent sessions, then their linked accounts'
    namespaces (`login/`) to complete from."""
    chosen = set(recent)
    for linked in await context(request).accounts.connections(viewer.account.id):
        chosen.add(f"{linked.login}/")
    return sorted(chosen)


async def start(request: web.Request) -> web.Response:
    viewer = await signed_in(request)
    data = await request.post()
    draft = views.Draft(
        repo=str(data.get("repo", "")).strip()[:500],
        base=str(data.get("base", "")).strip()[:250],
        prompt=str(data.get("prompt", "")).strip(),
    )
    if not draft.repo:
        return await _dashboard(
            request, viewer, error="Choose a repository.", draft=draft, status=400
        )
    request_id = uuid.uuid4().hex
    service = _web(request).service
    try:
        _local_for_admins(request, viewer, draft.repo)
        await _link_first(request, viewer, draft.repo)
        started = await service.start(
            repo=draft.repo,
            base=draft.base or None,
            prompt=draft.prompt or None,
            thread=Thread("web", request_id),
            person=viewer.person,
            request_id=request_id,
            origin=WebOrigin(viewer.person.id),
        )
    except UserError as refused:  # said on the form, with what they typed kept
        return await _dashboard(request, viewer, error=str(refused), draft=draft, status=400)
    return said(
        request,
        f"{PREFIX}/sessions/{started.session.id}",
        f"Started session {started.session.id} on {started.session.project}.",
    )


def _local_for_admins(request: web.Request, viewer: Viewer, repo: str) -> None:
    """A repository on this machine (under REPOBOX_LOCAL_ROOTS) is the operator's: admins."""
    spec = _web(request).service.check_spec(repo, Reach.CHAT)
    if spec.kind is SpecKind.PATH and not viewer.admin:
        raise Forbidden(
            "Only an admin opens repositories on this machine from the dashboard.",
            hint="Use `group/project` or an `https://` clone URL.",
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
    if request.match_info["action"] == "review":  # a job of its own, not a session command
        try:
            return _answer(request, found, await ask_review(_web(request), viewer, found))
        except UserError as error:
            return _answer(request, found, str(error), ok=False)
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


async def _admin(request: web.Request) -> Viewer:
    viewer = await signed_in(request)
    if not viewer.admin:
        raise web.HTTPForbidden(text="Only admins (REPOBOX_ADMINS) see this page.")
    return viewer


async def health(request: web.Request) -> web.Response:
    viewer = await _admin(request)
    ctx = _web(request)
    checks = await request.app[DOCTOR].checks(ctx.settings, ctx.redis, fresh=True)
    return views.health(viewer, checks, session(request).csrf)


async def setup_page(request: web.Request) -> web.Response:
    viewer = await _admin(request)
    ctx = _web(request)
    checks = await request.app[DOCTOR].checks(ctx.settings, ctx.redis)
    dismissed = await setup.dismissed(ctx.aredis, viewer.account.id)
    checklist = setup.checklist(ctx.settings, checks, dismissed)
    return views.setup(viewer, session(request).csrf, checklist)


async def setup_dismiss(request: web.Request) -> web.Response:
    viewer = await _admin(request)
    if not await setup.dismiss(_web(request).aredis, viewer.account.id, request.match_info["item"]):
        raise web.HTTPNotFound(text="There is no such setup item.")
    return redirect(HOME)


async def setup_restore(request: web.Request) -> web.Response:
    viewer = await _admin(request)
    await setup.restore(_web(request).aredis, viewer.account.id)
    return redirect(HOME)


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
    sub.router.add_get("/setup", setup_page)
    sub.router.add_post("/setup/dismiss/{item}", setup_dismiss)
    sub.router.add_post("/setup/restore", setup_restore)
    sub[DOCTOR] = setup.DoctorCache()
    budgets.register(sub, ctx)  # GET/POST /dashboard/budgets…: admins' spending caps
    sub.router.add_static("/static/", pages.STATIC_DIR)
    app[COOKIES_KEY] = account_context(ctx.settings, ctx.aredis)
    app.router.add_get("/", home)
    app.add_subapp(PREFIX, sub)
