"""`POST /webhooks/gitlab`: Note Hooks on issues and merge requests, diff notes included.

Chain: secret (constant time) → JSON → event of interest (a new note, not an edit, not a
system note, on an issue or MR) → not the bot itself → mentions the bot → dedupe
(`Idempotency-Key`, then the note id) → enqueue. Permissions are checked in the job.
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
    same_secret,
    unauthorized,
)

SURFACE = "gitlab"
KINDS: dict[str, Kind] = {"Issue": "issue", "MergeRequest": "merge_request"}
THREAD_NOTE_TYPES = frozenset({"DiscussionNote", "DiffNote"})


def register(app: web.Application, ctx: WebContext) -> None:
    del ctx
    app.router.add_post("/webhooks/gitlab", receive)


async def receive(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT_KEY]
    secret = ctx.settings.gitlab_webhook_secret
    if not secret:
        return web.json_response({"error": "GITLAB_WEBHOOK_SECRET is not set"}, status=503)
    try:
        if not same_secret(secret, request.headers.get("X-Gitlab-Token")):
            raise unauthorized(SURFACE)
        payload = read_json(SURFACE, await request.read())
        if request.headers.get("X-Gitlab-Event") != "Note Hook":
            return ignored("not a Note Hook")
        return handle_note(ctx, payload, request.headers.get("Idempotency-Key"))
    except Rejected as rejected:
        return rejected.response


def handle_note(ctx: WebContext, payload: dict[str, Any], delivery: str | None) -> web.Response:
    try:
        attributes = payload["object_attributes"]
        action = attributes.get("action", "create")  # GitLab before 16.11 sends no action
        kind = KINDS.get(str(attributes.get("noteable_type")))
        body = attributes["note"]
        user = payload["user"]
        username = str(user["username"])
    except (KeyError, TypeError, AttributeError) as error:
        raise malformed(SURFACE, f"missing {error}") from None
    if payload.get("object_kind") != "note" or action != "create":
        return ignored(f"note {action}")
    if kind is None or attributes.get("system"):
        return ignored("not a comment on an issue or merge request")
    if is_self(ctx, SURFACE, username):
        return ignored("my own comment")
    if not isinstance(body, str) or not mentions(body, ctx.settings.bot_name):
        return ignored("no mention")
    try:
        event = _event(payload, attributes, kind, body, delivery or "")
    except (KeyError, TypeError, ValueError) as error:
        raise malformed(SURFACE, f"bad or missing {error}") from None
    return accept(ctx, event, delivery)


def _event(
    payload: dict[str, Any], attributes: dict[str, Any], kind: Kind, body: str, delivery: str
) -> CommentEvent:
    project = payload["project"]
    noteable = payload["issue" if kind == "issue" else "merge_request"]
    user = payload["user"]
    email = user.get("email")
    number = int(noteable["iid"])
    discussion = attributes.get("discussion_id")
    in_thread = attributes.get("type") in THREAD_NOTE_TYPES and bool(discussion)
    path = str(project["path_with_namespace"])
    return CommentEvent(
        provider=SURFACE,
        project=path,
        project_id=int(project.get("id") or payload["project_id"]),
        kind=kind,
        number=number,
        comment_id=int(attributes["id"]),
        author=ForgeUser(
            id=str(user["id"]),
            username=str(user["username"]),
            name=str(user.get("name") or user["username"]),
            email=email if isinstance(email, str) and "@" in email else None,
        ),
        body=body,
        url=str(attributes.get("url") or ""),
        reply=ReplyTarget(path, kind, number, str(discussion) if in_thread else None),
        review=_review(attributes),
        delivery=delivery,
    )


def _review(attributes: dict[str, Any]) -> Review | None:
    position = attributes.get("position")
    if attributes.get("type") != "DiffNote" or not isinstance(position, dict):
        return None
    path = position.get("new_path") or position.get("old_path")
    line = position.get("new_line") or position.get("old_line")
    return Review(str(path), int(line) if line is not None else None) if path else None
