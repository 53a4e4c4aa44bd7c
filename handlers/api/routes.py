"""`/api/v1/`: the JSON API's operations, and its registration in the one web app.

Routes (every one but the description needs `Authorization: Bearer rbx_…`):
    GET  /api/v1/openapi.json               this API's OpenAPI 3.1 description (no token)
    GET  /api/v1/sessions                   the caller's sessions, paged and filtered (read)
    POST /api/v1/sessions                   start a session (write)
    GET  /api/v1/sessions/{id}              state, prompts with results, places, MR (read)
    GET  /api/v1/sessions/{id}/diff         the diff at the last checkpoint (read)
    GET  /api/v1/sessions/{id}/events       Server-Sent Events, resumable (read)
    POST /api/v1/sessions/{id}/prompts      send a prompt (write)
    POST /api/v1/sessions/{id}/{ship,undo,cancel,archive,compare,pick}  (write)

The sub-app's only middleware turns every error into a problem document; no cookie is
read here, so no CSRF check is needed (`handlers.api.auth`).
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.commands.executor import Executor
from bot.identity.accounts import accounts_on
from bot.identity.api_tokens import ApiTokens, Scope
from handlers.api import events, models, reviews, sessions
from handlers.api.openapi import describe
from handlers.api.operations import ApiContext, Operation, Run, handler
from handlers.api.problems import problems
from handlers.common.context import WebContext

PREFIX = "/api/v1"
READ, WRITE = Scope.READ, Scope.WRITE
WRITES = (400, 401, 403, 404, 409, 422, 429, 503)
IDEMPOTENT = ("Idempotency-Key",)


def _command(path: str, name: str, summary: str, run: Run, **extra: object) -> Operation:
    return Operation(
        "POST",
        f"/sessions/{{id}}/{path}",
        name,
        summary,
        WRITE,
        run,
        models.Accepted,
        status=202,
        refusals=WRITES,
        headers=IDEMPOTENT,
        **extra,  # type: ignore[arg-type]
    )


OPERATIONS = (
    Operation(
        "GET",
        "/sessions",
        "listSessions",
        "List your sessions",
        READ,
        sessions.list_sessions,
        models.SessionList,
        query=models.ListQuery,
    ),
    Operation(
        "POST",
        "/sessions",
        "startSession",
        "Start a session",
        WRITE,
        sessions.start_session,
        models.Started,
        status=201,
        body=models.StartSession,
        refusals=WRITES,
        headers=IDEMPOTENT,
    ),
    Operation(
        "GET",
        "/sessions/{id}",
        "getSession",
        "A session, its prompts and their results",
        READ,
        sessions.get_session,
        models.SessionOut,
    ),
    Operation(
        "GET",
        "/sessions/{id}/diff",
        "getDiff",
        "The diff at the last checkpoint",
        READ,
        sessions.get_diff,
        models.Diff,
    ),
    Operation(
        "GET",
        "/sessions/{id}/events",
        "followEvents",
        "Follow the progress events (SSE)",
        READ,
        events.events,
        None,
        query=models.EventsQuery,
        headers=("Last-Event-ID",),
    ),
    _command("prompts", "sendPrompt", "Send a prompt", sessions.send_prompt, body=models.PromptIn),
    _command(
        "ship",
        "ship",
        "Ship: push and open the merge request",
        sessions.ship,
        query=models.ShipQuery,
    ),
    _command("undo", "undo", "Take back the last run", sessions.undo),
    _command(
        "compare",
        "compare",
        "Run a prompt with several models",
        sessions.compare,
        body=models.CompareIn,
    ),
    _command(
        "pick",
        "pick",
        "Adopt one candidate of the last comparison",
        sessions.pick,
        body=models.PickIn,
    ),
    Operation(
        "POST",
        "/sessions/{id}/cancel",
        "cancel",
        "Cancel the running and waiting prompts",
        WRITE,
        sessions.cancel,
        models.CancelOut,
        refusals=WRITES,
    ),
    Operation(
        "POST",
        "/sessions/{id}/archive",
        "archive",
        "Archive the session",
        WRITE,
        sessions.archive,
        models.Done,
        refusals=WRITES,
    ),
    Operation(
        "POST",
        "/reviews",
        "askReview",
        "Review a pull request or merge request",
        WRITE,
        reviews.ask_review,
        models.ReviewQueued,
        status=202,
        body=models.ReviewIn,
        refusals=(400, 401, 403, 422, 429, 503),
        headers=IDEMPOTENT,
    ),
)


def register(app: web.Application, ctx: WebContext) -> None:
    api = ApiContext(
        ctx, accounts_on(ctx.settings, ctx.aredis), ApiTokens(ctx.aredis), Executor(ctx.service)
    )
    sub = web.Application(middlewares=[problems], client_max_size=256 * 1024)
    document = describe(OPERATIONS, ctx.settings.public_url)

    async def openapi(_request: web.Request) -> web.Response:
        return web.json_response(document, headers={"Access-Control-Allow-Origin": "*"})

    sub.router.add_get("/openapi.json", openapi)
    for op in OPERATIONS:
        sub.router.add_route(op.method, op.path, handler(api, op))
    sub[events.STOPPING] = asyncio.Event()
    sub.on_shutdown.append(events.stop_streams)
    app.add_subapp(PREFIX, sub)


if __name__ == "__main__":  # `python -m handlers.api.routes > docs/openapi.json`
    import json

    print(json.dumps(describe(OPERATIONS, "https://repobox.example.com"), indent=2))
