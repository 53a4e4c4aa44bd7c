"""`POST /webhooks/gitlab`: Note Hooks on issues and merge requests, diff notes included.

Chain: secret (constant time) → JSON → event of interest (a new note, not an edit, not a
system note, on an issue or MR) → not the bot itself → mentions the bot → dedupe
(`Idempotency-Key`, then the note id) → enqueue. Permissions are checked in the job.
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
    same_secret,
    unauthorized,
)

SURFACE = "gitlab"
KINDS: dict[str, Kind] = {"Issue": "issue", "MergeRequest": "merge_request"}
THREAD_NOTE_TYPES = frozenset({"DiscussionNote", "DiffNote"})
MAX_NOTE = 1_000_000  # GitLab's own limit on a note
_PATH = re.compile(r"[A-Za-z0-9_.-]{1,255}(?:/[A-Za-z0-9_.-]{1,255}){1,20}")
_USERNAME = re.compile(r"[A-Za-z0-9_.-]{1,255}")
_WORD = re.compile(r"[A-Za-z_ ]{1,40}")
_DISCUSSION = re.compile(r"[0-9a-f]{1,64}")
_URL = re.compile(r"https?://\S{1,2000}")


def register(app: web.Application, ctx: WebContext) -> None:
    del ctx
    app.router.add_post("/webhooks/gitlab", receive)


@guarded(SURFACE)
async def receive(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT_KEY]
    secret = ctx.settings.gitlab_webhook_secret
    if not secret:
        return web.json_response({"error": "GITLAB_WEBHOOK_SECRET is not set"}, status=503)
    if not same_secret(secret, request.headers.get("X-Gitlab-Token")):
        raise unauthorized(SURFACE)
    delivery = delivery_id(SURFACE, request.headers.get("Idempotency-Key"))
    payload = read_payload(SURFACE, await request.read())
    if request.headers.get("X-Gitlab-Event") != "Note Hook":
        return ignored("not a Note Hook")
    try:
        incoming = read_note(payload, delivery or "")
    except Malformed as error:
        raise malformed(SURFACE, error.what) from None
    if isinstance(incoming, str):
        return ignored(incoming)
    return await decide(ctx, incoming, "create", delivery)


def read_note(payload: Obj, delivery: str) -> Incoming | str:
    """The one place a Note Hook becomes typed values; a str says why it is ignored."""
    attributes = payload.obj("object_attributes")
    action = attributes.opt_text("action", _WORD) or "create"  # before 16.11: no action
    kind = KINDS.get(attributes.opt_text("noteable_type", _WORD) or "")
    if payload.raw("object_kind") != "note" or action != "create":
        return f"note {action}"
    if kind is None or attributes.flag("system"):
        return "not a comment on an issue or merge request"
    project = payload.obj("project")
    noteable = payload.obj("issue" if kind == "issue" else "merge_request")
    user = payload.obj("user")
    username = user.text("username", _USERNAME)
    email = user.opt_text("email", limit=320)
    number = noteable.integer("iid")
    discussion = attributes.opt_text("discussion_id", _DISCUSSION)
    in_thread = attributes.opt_text("type", _WORD) in THREAD_NOTE_TYPES and bool(discussion)
    path = project.text("path_with_namespace", _PATH, limit=2000)
    project_id = project.opt_integer("id") or payload.integer("project_id")
    event = CommentEvent(
        provider=SURFACE,
        project=path,
        project_id=project_id,
        kind=kind,
        number=number,
        comment_id=attributes.integer("id"),
        author=ForgeUser(
            id=str(user.integer("id")),
            username=username,
            name=user.opt_text("name") or username,
            email=email if email and "@" in email else None,
        ),
        body=attributes.text("note", limit=MAX_NOTE),
        url=attributes.opt_text("url", _URL, limit=2100) or "",
        reply=ReplyTarget(path, kind, number, discussion if in_thread else None),
        review=_review(attributes),
        delivery=delivery,
    )
    return Incoming(action, False, event)


def _review(attributes: Obj) -> Review | None:
    position = attributes.opt_obj("position")
    if attributes.opt_text("type", _WORD) != "DiffNote" or position is None:
        return None
    path = position.opt_text("new_path", limit=4096) or position.opt_text("old_path", limit=4096)
    line = position.opt_integer("new_line") or position.opt_integer("old_line")
    return Review(path, line) if path else None
