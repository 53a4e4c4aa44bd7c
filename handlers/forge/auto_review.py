"""Automatic reviews: a merge request opened, marked ready or pushed to.

GitHub says so with a `pull_request` delivery (`opened`, `ready_for_review`,
`synchronize`), GitLab with a Merge Request Hook (`open`; `update` with `oldrev` for a
push, or with `changes.draft` going false for ready). A draft is skipped until it is
ready. Whether the repository wants a review for that event is in `.repobox.yml` on the
base branch, which only the job can read; here the event is only read, deduped (the
delivery, then the head commit and event, so a redelivery or a second hook for the same
push reviews once) and queued. Answered at once; no call to the platform.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated

from aiohttp import web

from bot.checks.schema import AutoReview
from bot.core.dispatch import RUN_QUEUE
from handlers.common.context import WebContext
from handlers.common.fields import Flag, Id, Object, Payload, at_most, read, shaped
from handlers.common.payload import Malformed
from handlers.forge.webhooks import enqueue_once, ignored, malformed
from jobs.review_jobs import REVIEW_TIMEOUT, auto_review

log = logging.getLogger(__name__)

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_GITHUB_REPO = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")
_GITLAB_PATH = re.compile(r"[A-Za-z0-9_.-]{1,255}(?:/[A-Za-z0-9_.-]{1,255}){1,20}")
Word = Annotated[str, at_most(40)]
Sha = Annotated[str, at_most(64), shaped(_SHA)]
GITHUB_TRIGGERS: dict[str, AutoReview] = {
    "opened": "opened",
    "ready_for_review": "ready",
    "synchronize": "pushed",
}


class _Head(Payload):
    sha: Sha


class _Pull(Payload):
    number: Id
    draft: Flag = False
    head: _Head


class _GitHubRepository(Payload):
    full_name: Annotated[str, at_most(201), shaped(_GITHUB_REPO)]


class _PullEvent(Payload):
    action: Word
    pull_request: _Pull
    repository: _GitHubRepository


class _LastCommit(Payload):
    id: Sha


class _MergeRequest(Payload):
    iid: Id
    action: Word | None = None
    draft: Flag = False
    work_in_progress: Flag = False  # before GitLab 13.x said `draft`
    oldrev: Sha | None = None  # present on an update that pushed commits
    last_commit: _LastCommit


class _GitLabProject(Payload):
    path_with_namespace: Annotated[str, at_most(2000), shaped(_GITLAB_PATH)]


class _Change(Payload):
    previous: object = None
    current: object = None


class _MergeRequestHook(Payload):
    object_attributes: _MergeRequest
    project: _GitLabProject
    changes: Object | None = None


async def github_pull_request(
    ctx: WebContext, payload: dict[str, object], delivery: str | None
) -> web.Response:
    try:
        event = read(_PullEvent, payload)
    except Malformed as error:
        raise malformed("github", error.what) from None
    trigger = GITHUB_TRIGGERS.get(event.action)
    pull = event.pull_request
    if trigger is None:
        return ignored(f"pull_request {event.action}")
    if pull.draft:
        return ignored("a draft: reviewed once it is ready")
    project = event.repository.full_name
    return await _queue(ctx, "github", project, pull.number, pull.head.sha, trigger, delivery)


async def gitlab_merge_request(
    ctx: WebContext, payload: dict[str, object], delivery: str | None
) -> web.Response:
    try:
        hook = read(_MergeRequestHook, payload)
    except Malformed as error:
        raise malformed("gitlab", error.what) from None
    merge_request = hook.object_attributes
    trigger = _gitlab_trigger(hook)
    if trigger is None:
        return ignored(f"merge request {merge_request.action or 'event'}")
    if merge_request.draft or merge_request.work_in_progress:
        return ignored("a draft: reviewed once it is ready")
    project = hook.project.path_with_namespace
    sha = merge_request.last_commit.id
    return await _queue(ctx, "gitlab", project, merge_request.iid, sha, trigger, delivery)


def _gitlab_trigger(hook: _MergeRequestHook) -> AutoReview | None:
    action = hook.object_attributes.action
    if action == "open":
        return "opened"
    if action != "update":
        return None
    if _was_draft(hook.changes):
        return "ready"
    return "pushed" if hook.object_attributes.oldrev else None


def _was_draft(changes: Object | None) -> bool:
    """`changes.draft` (or the older `work_in_progress`) went from true to false."""
    for key in ("draft", "work_in_progress"):
        raw = (changes or {}).get(key)
        if isinstance(raw, dict):
            change = _Change.model_validate(raw)
            if change.previous is True and change.current is False:
                return True
    return False


async def _queue(
    ctx: WebContext,
    provider: str,
    project: str,
    number: int,
    sha: str,
    trigger: AutoReview,
    delivery: str | None,
) -> web.Response:
    delivered = f"{provider}:delivery:{delivery}" if delivery else None
    answer = await enqueue_once(
        ctx,
        [
            ("delivery", delivered),
            ("review", f"{provider}:auto-review:{project}:{number}:{sha}:{trigger}"),
        ],
        auto_review,
        job_id=f"review:{provider}:{project}:{number}:auto:{sha[:12]}:{trigger}",
        queue=RUN_QUEUE,
        timeout=REVIEW_TIMEOUT,
        provider=provider,
        project=project,
        number=number,
        trigger=trigger,
    )
    if answer.status != 202:
        return answer
    log.info("%s %s!%s %s: automatic review queued", provider, project, number, trigger)
    return answer
