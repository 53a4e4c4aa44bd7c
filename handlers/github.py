"""`POST /webhooks/github`: `issue_comment`, `pull_request_review_comment` and `ping`.

Chain: `X-Hub-Signature-256` (HMAC of the raw body, constant time) → JSON → event of
interest (a created comment) → not a bot, not the bot itself → mentions the bot → dedupe
(`X-GitHub-Delivery`, then the comment id) → enqueue. Permissions are checked in the job.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.providers.forge import ForgeUser, Kind, ReplyTarget
from bot.surfaces.forge_events import CommentEvent, Review
from bot.surfaces.forge_text import mentions
from handlers.web import CONTEXT_KEY, WebContext
from handlers.webhooks import (
    Rejected,
    accept,
    ignored,
    is_self,
    malformed,
    read_json,
    unauthorized,
    valid_signature,
)

SURFACE = "github"
COMMENT_EVENTS = frozenset({"issue_comment", "pull_request_review_comment"})


def register(app: web.Application, ctx: WebContext) -> None:
    del ctx
    app.router.add_post("/webhooks/github", receive)


async def receive(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT_KEY]
    secret = ctx.settings.github_webhook_secret
    if not secret:
        return web.json_response({"error": "GITHUB_WEBHOOK_SECRET is not set"}, status=503)
    body = await request.read()
    try:
        if not valid_signature(secret, body, request.headers.get("X-Hub-Signature-256")):
            raise unauthorized(SURFACE)
        payload = read_json(SURFACE, body)
        name = request.headers.get("X-GitHub-Event", "")
        if name == "ping":
            return web.json_response({"status": "pong"})
        if name not in COMMENT_EVENTS:
            return ignored(f"event {name or 'unnamed'}")
        return handle_comment(ctx, name, payload, request.headers.get("X-GitHub-Delivery"))
    except Rejected as rejected:
        return rejected.response


def handle_comment(
    ctx: WebContext, name: str, payload: dict[str, Any], delivery: str | None
) -> web.Response:
    try:
        action = payload["action"]
        comment = payload["comment"]
        body = comment["body"]
        user = comment["user"]
        login = str(user["login"])
    except (KeyError, TypeError) as error:
        raise malformed(SURFACE, f"missing {error}") from None
    if action != "created":
        return ignored(f"comment {action}")
    if user.get("type") == "Bot" or login.endswith("[bot]") or is_self(ctx, SURFACE, login):
        return ignored("a bot's comment")
    if not isinstance(body, str) or not mentions(body, ctx.settings.bot_name):
        return ignored("no mention")
    try:
        event = _event(name, payload, body, delivery or "")
    except (KeyError, TypeError, ValueError) as error:
        raise malformed(SURFACE, f"bad or missing {error}") from None
    return accept(ctx, event, delivery)


def _event(name: str, payload: dict[str, Any], body: str, delivery: str) -> CommentEvent:
    repository = payload["repository"]
    comment = payload["comment"]
    project = str(repository["full_name"])
    review: Review | None = None
    kind: Kind
    if name == "issue_comment":
        issue = payload["issue"]
        kind = "merge_request" if issue.get("pull_request") else "issue"
        number = int(issue["number"])
        reply = ReplyTarget(project, kind, number)
    else:
        kind, number = "merge_request", int(payload["pull_request"]["number"])
        root = comment.get("in_reply_to_id") or comment["id"]
        reply = ReplyTarget(project, kind, number, review_comment_id=int(root))
        line = comment.get("line") or comment.get("original_line")
        review = Review(
            str(comment["path"]),
            int(line) if line is not None else None,
            str(comment.get("diff_hunk") or ""),
        )
    user = comment["user"]
    return CommentEvent(
        provider=SURFACE,
        project=project,
        project_id=int(repository["id"]),
        kind=kind,
        number=number,
        comment_id=int(comment["id"]),
        author=ForgeUser(
            id=str(user["id"]),
            username=str(user["login"]),
            name=str(user["login"]),
            email=f"{user['id']}+{user['login']}@users.noreply.github.com",
        ),
        body=body,
        url=str(comment.get("html_url") or ""),
        reply=reply,
        review=review,
        delivery=delivery,
    )
