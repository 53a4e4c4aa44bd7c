"""A merge request that a session shipped, merged or closed: the session's place there ends.

After that a mention on it starts its own session again, as on any merge request. GitHub
says so with a `pull_request` delivery (`closed`, merged or not), GitLab with a Merge
Request Hook (`close`, `merge`). Answered at once; no call to the platform.
"""

from __future__ import annotations

import logging
from typing import Annotated

from aiohttp import web

from handlers.common.context import WebContext
from handlers.common.fields import Id, Payload, at_most, read
from handlers.common.payload import Malformed
from handlers.forge.webhooks import ignored, malformed

log = logging.getLogger(__name__)

Word = Annotated[str, at_most(40)]
GITLAB_CLOSING = ("close", "merge")


class _Repository(Payload):
    id: Id


class _Numbered(Payload):
    number: Id


class _PullClosed(Payload):
    action: Word
    repository: _Repository
    pull_request: _Numbered


class _MergeRequest(Payload):
    iid: Id
    action: Word | None = None


class _GitLabProject(Payload):
    id: Id


class _MergeRequestHook(Payload):
    object_attributes: _MergeRequest
    project: _GitLabProject


async def github_pull_request(ctx: WebContext, payload: dict[str, object]) -> web.Response:
    try:
        event = read(_PullClosed, payload)
    except Malformed as error:
        raise malformed("github", error.what) from None
    if event.action != "closed":
        return ignored(f"pull_request {event.action}")
    thread = f"{event.repository.id}:merge_request:{event.pull_request.number}"
    return await _close(ctx, "github", thread)


async def gitlab_merge_request(ctx: WebContext, payload: dict[str, object]) -> web.Response:
    try:
        hook = read(_MergeRequestHook, payload)
    except Malformed as error:
        raise malformed("gitlab", error.what) from None
    action = hook.object_attributes.action or ""
    if action not in GITLAB_CLOSING:
        return ignored(f"merge request {action or 'event'}")
    thread = f"{hook.project.id}:merge_request:{hook.object_attributes.iid}"
    return await _close(ctx, "gitlab", thread)


async def _close(ctx: WebContext, surface: str, thread: str) -> web.Response:
    session_id = await ctx.service.sessions.close_place(surface, thread)
    if session_id is None:
        return ignored("not a session's place")
    log.info("%s %s is no longer a place of session %s", surface, thread, session_id)
    return web.json_response({"status": "unbound", "session": session_id})
