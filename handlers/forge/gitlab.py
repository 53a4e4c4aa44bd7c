"""`POST /webhooks/gitlab`: Note Hooks on issues and merge requests, diff notes included.

Chain: secret (constant time) → JSON → event of interest (a new note, not an edit, not a
system note, on an issue or MR) → not the bot itself → mentions the bot → dedupe
(`Idempotency-Key`, then the note id) → enqueue. Permissions are checked in the job.
"""

from __future__ import annotations

import re
from typing import Annotated

from aiohttp import web
from pydantic import TypeAdapter

from bot.forges.events import CommentEvent, Review
from bot.forges.forge import ForgeUser, Kind, ReplyTarget
from handlers.common.context import CONTEXT_KEY, WebContext
from handlers.common.fields import (
    Flag,
    Id,
    Object,
    Payload,
    Text,
    at_most,
    first,
    read,
    read_as,
    shaped,
)
from handlers.common.payload import Malformed
from handlers.forge import auto_review, ci, closing, triggers
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
Word = Annotated[str, at_most(1000), shaped(_WORD)]
FilePath = Annotated[str, at_most(4096)]
ID: TypeAdapter[int] = TypeAdapter(Id, config={"strict": True})
MAYBE_ID: TypeAdapter[int | None] = TypeAdapter(Id | None, config={"strict": True})
MAYBE_PATH: TypeAdapter[str | None] = TypeAdapter(FilePath | None, config={"strict": True})


class Heading(Payload):
    """What decides whether a note is read at all (before 16.11 there is no action)."""

    action: Word | None = None
    noteable_type: Word | None = None


class Hook(Payload):
    object_kind: object = None  # only compared with "note"
    object_attributes: Heading


class Marked(Payload):
    system: Flag = False  # GitLab's own note ("changed the description")


class MarkedHook(Payload):
    object_attributes: Marked


class Attributes(Payload):
    id: Id
    note: Annotated[str, at_most(MAX_NOTE)]
    url: Annotated[str, at_most(2100), shaped(_URL)] | None = None
    discussion_id: Annotated[str, at_most(1000), shaped(_DISCUSSION)] | None = None
    type: Word | None = None
    position: Object | None = None  # read as a `Position` on a diff note only


class Project(Payload):
    path_with_namespace: Annotated[str, at_most(2000), shaped(_PATH)]
    id: Id | None = None


class Author(Payload):
    id: Id
    username: Annotated[str, at_most(1000), shaped(_USERNAME)]
    email: Annotated[str, at_most(320)] | None = None
    name: Text | None = None


class Note(Payload):
    object_attributes: Attributes
    project: Project
    user: Author
    project_id: object = None  # read only when the project has no id


class Noteable(Payload):
    """The issue or merge request, under the key its kind names."""

    iid: Id


class Position(Payload):
    new_path: FilePath | None = None
    old_path: object = None  # each `old_` field is read only when its `new_` one is absent
    new_line: Id | None = None
    old_line: object = None


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
    if request.headers.get("X-Gitlab-Event") == "Merge Request Hook":
        if _action(payload) in closing.GITLAB_CLOSING:
            return await closing.gitlab_merge_request(ctx, payload)
        return await auto_review.gitlab_merge_request(ctx, payload, delivery)
    if request.headers.get("X-Gitlab-Event") == "Issue Hook":  # labels or assignees changed
        return await triggers.gitlab_issue(ctx, payload, delivery)
    if request.headers.get("X-Gitlab-Event") == "Pipeline Hook":  # failed: maybe a CI fix
        return await ci.gitlab_pipeline(ctx, payload, delivery)
    if request.headers.get("X-Gitlab-Event") != "Note Hook":
        return ignored("not a Note Hook")
    try:
        incoming = read_note(payload, delivery or "")
    except Malformed as error:
        raise malformed(SURFACE, error.what) from None
    if isinstance(incoming, str):
        return ignored(incoming)
    return await decide(ctx, incoming, "create", delivery)


def read_note(payload: dict[str, object], delivery: str) -> Incoming | str:
    """The one place a Note Hook becomes typed values; a str says why it is ignored."""
    heading = read(Hook, payload).object_attributes
    action = heading.action or "create"
    kind = KINDS.get(heading.noteable_type or "")
    if payload.get("object_kind") != "note" or action != "create":
        return f"note {action}"
    if kind is None or read(MarkedHook, payload).object_attributes.system:
        return "not a comment on an issue or merge request"
    note = read(Note, payload)
    where = "issue" if kind == "issue" else "merge_request"
    number = read(Noteable, payload.get(where), where).iid
    attributes, user, project = note.object_attributes, note.user, note.project
    discussion = attributes.discussion_id
    in_thread = attributes.type in THREAD_NOTE_TYPES and bool(discussion)
    path = project.path_with_namespace
    project_id = project.id or read_as(ID, note.project_id, "project_id")
    event = CommentEvent(
        provider=SURFACE,
        project=path,
        project_id=project_id,
        kind=kind,
        number=number,
        comment_id=attributes.id,
        author=ForgeUser(
            id=str(user.id),
            username=user.username,
            name=user.name or user.username,
            email=user.email if user.email and "@" in user.email else None,
        ),
        body=attributes.note,
        url=attributes.url or "",
        reply=ReplyTarget(path, kind, number, discussion if in_thread else None),
        review=_review(attributes),
        delivery=delivery,
    )
    return Incoming(action, False, event)


def _review(attributes: Attributes) -> Review | None:
    if attributes.type != "DiffNote" or attributes.position is None:
        return None
    where = "object_attributes.position"
    position = read(Position, attributes.position, where)
    path = first(
        position.new_path, lambda: read_as(MAYBE_PATH, position.old_path, f"{where}.old_path")
    )
    line = first(
        position.new_line, lambda: read_as(MAYBE_ID, position.old_line, f"{where}.old_line")
    )
    return Review(path, line) if path else None


def _action(payload: dict[str, object]) -> object:
    attributes = payload.get("object_attributes")
    return attributes.get("action") if isinstance(attributes, dict) else None
