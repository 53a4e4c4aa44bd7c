"""Issue events that may start or cancel a session: GitHub `issues` (labeled, unlabeled,
assigned, unassigned) and GitLab's Issue Hook (`changes.labels`, `changes.assignees`).

Answered at once with no call to the platform: the delivery is read into an
`IssueChange`, deduped by its delivery id and handed to `jobs.trigger_jobs`, which decides
(the bot's own user, the repository's label, who may drive it). REPOBOX_TRIGGERS=off
ignores them all. Docs: docs/triggers.md.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated

from aiohttp import web
from pydantic import Field

from bot.core.dispatch import safe_id
from bot.forges.forge import ForgeUser
from bot.forges.issue_events import IssueChange
from handlers.common.context import WebContext
from handlers.common.fields import Id, Object, Payload, Text, at_most, read, shaped
from handlers.common.payload import Malformed
from handlers.forge.webhooks import enqueue_once, ignored, is_self, malformed
from jobs.trigger_jobs import handle_issue_change

log = logging.getLogger(__name__)

GITHUB_ACTIONS = {"labeled", "unlabeled", "assigned", "unassigned"}
MAX_NAMES = 100  # labels or assignees read from one change
_REPO = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")
_PATH = re.compile(r"[A-Za-z0-9_.-]{1,255}(?:/[A-Za-z0-9_.-]{1,255}){1,20}")
_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,254}(?:\[bot\])?")
Name = Annotated[str, at_most(255)]
Login = Annotated[str, at_most(255), shaped(_LOGIN)]


class _GitHubUser(Payload):
    login: Login
    id: Id
    type: Text | None = None


class _GitHubRepository(Payload):
    id: Id
    full_name: Annotated[str, at_most(201), shaped(_REPO)]


class _GitHubIssue(Payload):
    number: Id
    pull_request: Object | None = None


class _Label(Payload):
    name: Name


class _GitHubIssues(Payload):
    action: Annotated[str, at_most(40)]
    issue: _GitHubIssue
    repository: _GitHubRepository
    sender: _GitHubUser
    label: _Label | None = None
    assignee: _GitHubUser | None = None


class _GitLabUser(Payload):
    id: Id
    username: Login
    name: Text | None = None
    email: Annotated[str, at_most(320)] | None = None


class _GitLabProject(Payload):
    id: Id
    path_with_namespace: Annotated[str, at_most(2000), shaped(_PATH)]


class _GitLabIssue(Payload):
    iid: Id


class _Titled(Payload):
    title: Name


class _Named(Payload):
    username: Login


class _LabelsChange(Payload):
    previous: Annotated[list[_Titled], Field(max_length=MAX_NAMES)] | None = None
    current: Annotated[list[_Titled], Field(max_length=MAX_NAMES)] | None = None


class _AssigneesChange(Payload):
    previous: Annotated[list[_Named], Field(max_length=MAX_NAMES)] | None = None
    current: Annotated[list[_Named], Field(max_length=MAX_NAMES)] | None = None


class _Changes(Payload):
    labels: _LabelsChange | None = None
    assignees: _AssigneesChange | None = None


class _IssueHook(Payload):
    user: _GitLabUser
    project: _GitLabProject
    object_attributes: _GitLabIssue
    changes: _Changes | None = None


async def github_issues(
    ctx: WebContext, payload: dict[str, object], delivery: str | None
) -> web.Response:
    action = payload.get("action")
    if action not in GITHUB_ACTIONS:
        return ignored(f"issues {str(action)[:40]}")
    try:
        event = read(_GitHubIssues, payload)
    except Malformed as error:
        raise malformed("github", error.what) from None
    if event.issue.pull_request is not None:
        return ignored("a pull request, not an issue")
    sender = event.sender
    if sender.type == "Bot" or sender.login.endswith("[bot]"):
        return ignored("a bot's change")
    label = [event.label.name] if event.label is not None else []
    person = [event.assignee.login] if event.assignee is not None else []
    change = IssueChange(
        provider="github",
        project=event.repository.full_name,
        project_id=event.repository.id,
        number=event.issue.number,
        sender=ForgeUser(
            id=str(sender.id),
            username=sender.login,
            name=sender.login,
            email=f"{sender.id}+{sender.login}@users.noreply.github.com",
        ),
        labeled=tuple(label if event.action == "labeled" else ()),
        unlabeled=tuple(label if event.action == "unlabeled" else ()),
        assigned=tuple(person if event.action == "assigned" else ()),
        unassigned=tuple(person if event.action == "unassigned" else ()),
        delivery=delivery or "",
    )
    return await _take(ctx, change)


async def gitlab_issue(
    ctx: WebContext, payload: dict[str, object], delivery: str | None
) -> web.Response:
    if payload.get("object_kind") != "issue":
        return ignored("not an issue event")
    try:
        hook = read(_IssueHook, payload)
    except Malformed as error:
        raise malformed("gitlab", error.what) from None
    changes = hook.changes or _Changes()
    labels = changes.labels or _LabelsChange()
    people = changes.assignees or _AssigneesChange()
    before = {t.title for t in labels.previous or ()}
    after = {t.title for t in labels.current or ()}
    was = {n.username for n in people.previous or ()}
    now = {n.username for n in people.current or ()}
    user = hook.user
    change = IssueChange(
        provider="gitlab",
        project=hook.project.path_with_namespace,
        project_id=hook.project.id,
        number=hook.object_attributes.iid,
        sender=ForgeUser(str(user.id), user.username, user.name or user.username, user.email),
        labeled=tuple(sorted(after - before)),
        unlabeled=tuple(sorted(before - after)),
        assigned=tuple(sorted(now - was)),
        unassigned=tuple(sorted(was - now)),
        delivery=delivery or "",
    )
    return await _take(ctx, change)


async def _take(ctx: WebContext, change: IssueChange) -> web.Response:
    """Off, nothing of interest, the bot itself, a redelivery: ignored; else enqueued."""
    if not ctx.settings.triggers:
        return ignored("triggers are off (REPOBOX_TRIGGERS)")
    if not (change.labeled or change.unlabeled or change.assigned or change.unassigned):
        return ignored("no label or assignee changed")
    if await is_self(ctx, change.provider, change.sender.username):
        return ignored("my own change")
    delivery = f"{change.provider}:delivery:{change.delivery}" if change.delivery else None
    answer = await enqueue_once(
        ctx,
        [("delivery", delivery)],
        handle_issue_change,
        job_id=safe_id(f"trigger-{change.provider}-{change.thread_key}-{change.delivery}"),
        change=dict(change.to_dict()),
    )
    if answer.status != 202:
        return answer
    log.info("%s issue %s#%s changed; taken", change.provider, change.project, change.number)
    return answer
