"""`POST /webhooks/github`: comments (`issue_comment`, `pull_request_review_comment`),
submitted reviews (`pull_request_review`), `ping`, and a GitHub App's `installation` and
`installation_repositories` (`handlers.forge.github_installs`).

Chain: `X-Hub-Signature-256` (HMAC of the raw body, constant time) → the body read once
into typed values (JSON, or the `payload` field of a form delivery; anything else is a
400) → event of interest (a created comment, a submitted review) → not a bot, not the bot
itself → mentions the bot → dedupe (`X-GitHub-Delivery`, then the comment id) → enqueue.
Permissions are checked in the job.
"""

from __future__ import annotations

import re
from typing import Annotated

from aiohttp import web
from pydantic import TypeAdapter

from bot.forges.events import CommentEvent, Review
from bot.forges.forge import ForgeUser, Kind, ReplyTarget
from handlers.common.context import CONTEXT_KEY, WebContext
from handlers.common.fields import Id, Object, Payload, Text, at_most, first, read, read_as, shaped
from handlers.common.payload import Malformed
from handlers.forge import auto_review, ci, closing, github_installs, triggers
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
MAYBE_ID: TypeAdapter[int | None] = TypeAdapter(Id | None, config={"strict": True})


class User(Payload):
    login: Annotated[str, at_most(1000), shaped(_LOGIN)]
    id: Id
    type: Text | None = None


class Repository(Payload):
    full_name: Annotated[str, at_most(201), shaped(_REPO)]
    id: Id


class Comment(Payload):
    """A comment, or a submitted review's summary: an id, a body and a user, alike."""

    id: Id
    user: User
    body: Annotated[str, at_most(MAX_BODY)] | None = None
    html_url: Annotated[str, at_most(2100), shaped(_URL)] | None = None


class ReviewComment(Comment):
    """A comment on a line of a pull request's diff."""

    in_reply_to_id: Id | None = None
    line: Id | None = None
    original_line: object = None  # read only when `line` is absent
    path: Annotated[str, at_most(4096)]
    diff_hunk: Annotated[str, at_most(MAX_BODY)] | None = None


class Numbered(Payload):
    number: Id


class Issue(Numbered):
    pull_request: Object | None = None  # present: the issue is a pull request


class Delivery(Payload):
    action: Annotated[str, at_most(1000), shaped(_WORD)]
    repository: Repository


class IssueCommented(Delivery):
    comment: Comment
    issue: Issue


class Reviewed(Delivery):
    review: Comment
    pull_request: Numbered


class ReviewCommented(Delivery):
    comment: ReviewComment
    pull_request: Numbered


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
    if name in github_installs.EVENTS:  # the App's: where it is installed
        return await github_installs.receive(ctx, name, payload)
    if name == "pull_request":  # closed: a session's place there ends; else maybe a review
        if payload.get("action") == "closed":
            return await closing.github_pull_request(ctx, payload)
        return await auto_review.github_pull_request(ctx, payload, delivery)
    if name == "issues":  # labelled or assigned: a session may start or be cancelled
        return await triggers.github_issues(ctx, payload, delivery)
    if name == "check_suite":  # completed with a failure: maybe a CI fix in its session
        return await ci.github_check_suite(ctx, payload, delivery)
    if name in ("check_run", "workflow_run"):  # the same, for one run or one workflow run
        return await (ci.github_check_run if name == "check_run" else ci.github_workflow_run)(
            ctx, payload, delivery
        )
    if name not in TAKEN:
        return ignored(f"event {name[:40] or 'unnamed'}")
    try:
        incoming = read_comment(name, payload, delivery or "")
    except Malformed as error:
        raise malformed(SURFACE, error.what) from None
    return await decide(ctx, incoming, TAKEN[name], delivery)


def read_comment(name: str, payload: dict[str, object], delivery: str) -> Incoming:
    """The one place a GitHub delivery becomes typed values."""
    review: Review | None = None
    kind: Kind = "merge_request"
    delivered: Delivery
    comment: Comment
    if name == "issue_comment":
        commented = read(IssueCommented, payload)
        delivered, comment = commented, commented.comment
        if commented.issue.pull_request is None:
            kind = "issue"
        number = commented.issue.number
        reply = ReplyTarget(delivered.repository.full_name, kind, number)
    elif name == "pull_request_review":
        reviewed = read(Reviewed, payload)
        delivered, comment = reviewed, reviewed.review
        number = reviewed.pull_request.number
        reply = ReplyTarget(delivered.repository.full_name, kind, number)  # to the conversation
    else:
        on_diff = read(ReviewCommented, payload)
        delivered, comment = on_diff, on_diff.comment
        number = on_diff.pull_request.number
        root = on_diff.comment.in_reply_to_id or on_diff.comment.id
        reply = ReplyTarget(delivered.repository.full_name, kind, number, review_comment_id=root)
        line = first(
            on_diff.comment.line,
            lambda: read_as(MAYBE_ID, on_diff.comment.original_line, "comment.original_line"),
        )
        review = Review(on_diff.comment.path, line, on_diff.comment.diff_hunk or "")
    user, repository = comment.user, delivered.repository
    event = CommentEvent(
        provider=SURFACE,
        project=repository.full_name,
        project_id=repository.id,
        kind=kind,
        number=number,
        comment_id=comment.id,
        author=ForgeUser(
            id=str(user.id),
            username=user.login,
            name=user.login,
            email=f"{user.id}+{user.login}@users.noreply.github.com",
        ),
        body=comment.body or "",
        url=comment.html_url or "",
        reply=reply,
        review=review,
        delivery=delivery,
        whole_review=name == "pull_request_review",
    )
    by_bot = user.type == "Bot" or user.login.endswith("[bot]")
    return Incoming(delivered.action, by_bot, event)
