"""`POST /webhooks/github`: comments (`issue_comment`, `pull_request_review_comment`),
submitted reviews (`pull_request_review`) and `ping`.

Chain: `X-Hub-Signature-256` (HMAC of the raw body, constant time) → the body read once
into typed values (JSON, or the `payload` field of a form delivery; anything else is a
400) → event of interest (a created comment, a submitted review) → not a bot, not the bot
itself → mentions the bot → dedupe (`X-GitHub-Delivery`, then the comment id) → enqueue.
Permissions are checked in the job.
"""

from __future__ import annotations

import re

from aiohttp import web

from bot.forges.events import CommentEvent, Review
from bot.forges.forge import ForgeUser, Kind, ReplyTarget
from handlers.common.context import CONTEXT_KEY, WebContext
from handlers.common.payload import Malformed, Obj
from handlers.forge.webhooks import (
    Incoming,
    decide,
    delivery_id,
    guarded,
    ignored,
    malformed,
    read_payload,
    unauthorized,
    valid_signature,
)

SURFACE = "github"
TAKEN = {
    "issue_comment": "created",
    "pull_request_review_comment": "created",
    "pull_request_review": "submitted",
}
MAX_BODY = 65536  # GitHub refuses longer comment and review bodies
_REPO = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")
_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}(?:\[bot\])?")
_WORD = re.compile(r"[a-z_]{1,40}")
_URL = re.compile(r"https?://\S{1,2000}")


def register(app: web.Application, ctx: WebContext) -> None:
    del ctx
    app.router.add_post("/webhooks/github", receive)


@guarded(SURFACE)
async def receive(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT_KEY]
    secret = ctx.settings.github_webhook_secret
    if not secret:
        return web.json_response({"error": "GITHUB_WEBHOOK_SECRET is not set"}, status=503)
    body = await request.read()
    if not valid_signature(secret, body, request.headers.get("X-Hub-Signature-256")):
        raise unauthorized(SURFACE)
    delivery = delivery_id(SURFACE, request.headers.get("X-GitHub-Delivery"))
    payload = read_payload(SURFACE, body, request.content_type)
    name = request.headers.get("X-GitHub-Event", "")
    if name == "ping":
        return web.json_response({"status": "pong"})
    if name not in TAKEN:
        return ignored(f"event {name[:40] or 'unnamed'}")
    try:
        incoming = read_comment(name, payload, delivery or "")
    except Malformed as error:
        raise malformed(SURFACE, error.what) from None
    return await decide(ctx, incoming, TAKEN[name], delivery)


def read_comment(name: str, payload: Obj, delivery: str) -> Incoming:
    """The one place a GitHub delivery becomes typed values."""
    action = payload.text("action", _WORD)
    repository = payload.obj("repository")
    project = repository.text("full_name", _REPO, limit=201)
    # A submitted review's summary has an id, a body and a user, like a comment.
    comment = payload.obj("review" if name == "pull_request_review" else "comment")
    user = comment.obj("user")
    login = user.text("login", _LOGIN)
    user_id = user.integer("id")
    review: Review | None = None
    kind: Kind
    if name == "issue_comment":
        issue = payload.obj("issue")
        kind = "merge_request" if issue.opt_obj("pull_request") else "issue"
        number = issue.integer("number")
        reply = ReplyTarget(project, kind, number)
    elif name == "pull_request_review":
        kind, number = "merge_request", payload.obj("pull_request").integer("number")
        reply = ReplyTarget(project, kind, number)  # answers go to the conversation
    else:
        kind, number = "merge_request", payload.obj("pull_request").integer("number")
        root = comment.opt_integer("in_reply_to_id") or comment.integer("id")
        reply = ReplyTarget(project, kind, number, review_comment_id=root)
        line = comment.opt_integer("line") or comment.opt_integer("original_line")
        review = Review(
            comment.text("path", limit=4096),
            line,
            comment.opt_text("diff_hunk", limit=MAX_BODY) or "",
        )
    event = CommentEvent(
        provider=SURFACE,
        project=project,
        project_id=repository.integer("id"),
        kind=kind,
        number=number,
        comment_id=comment.integer("id"),
        author=ForgeUser(
            id=str(user_id),
            username=login,
            name=login,
            email=f"{user_id}+{login}@users.noreply.github.com",
        ),
        body=comment.opt_text("body", limit=MAX_BODY) or "",
        url=comment.opt_text("html_url", _URL, limit=2100) or "",
        reply=reply,
        review=review,
        delivery=delivery,
        whole_review=name == "pull_request_review",
    )
    by_bot = user.opt_text("type") == "Bot" or login.endswith("[bot]")
    return Incoming(action, by_bot, event)
