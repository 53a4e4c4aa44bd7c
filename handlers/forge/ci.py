"""Failed CI: GitHub `check_suite`, `check_run` or `workflow_run` completed with `failure`,
GitLab's Pipeline Hook with status `failed`.

The three GitHub events often all arrive for one red push (a workflow's run, its suite, each
failed job's check run): each is taken, and the job's one-attempt-per-head rule
(`jobs.ci_jobs`) makes them one fix.

Answered at once with no call to the platform: the delivery is read into a `CiFailure`,
deduped by its delivery id and handed to `jobs.ci_jobs`, which decides (a branch Repobox
pushed, its head, the attempts left). REPOBOX_TRIGGERS=off ignores them. Docs:
docs/triggers.md.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated, TypeVar

from aiohttp import web
from pydantic import Field

from bot.core.dispatch import safe_id
from bot.forges.ci_runs import CiFailure
from handlers.common.context import WebContext
from handlers.common.fields import Id, Payload, at_most, read, shaped
from handlers.common.payload import Malformed
from handlers.forge.webhooks import enqueue_once, ignored, malformed
from jobs.ci_jobs import handle_ci_failure

log = logging.getLogger(__name__)

MAX_BUILDS = 200  # builds read from one pipeline
FAILED = ("failure", "timed_out")  # GitHub conclusions that ask for a fix
_REPO = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")
_PATH = re.compile(r"[A-Za-z0-9_.-]{1,255}(?:/[A-Za-z0-9_.-]{1,255}){1,20}")
_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_URL = re.compile(r"https?://\S{1,2000}")
Branch = Annotated[str, at_most(255)]
Sha = Annotated[str, at_most(64), shaped(_SHA)]
Url = Annotated[str, at_most(2100), shaped(_URL)]
Word = Annotated[str, at_most(40)]
Hook = TypeVar("Hook", bound=Payload)


class _Suite(Payload):
    id: Id
    head_branch: Branch | None = None
    head_sha: Sha
    conclusion: Word | None = None


class _Repository(Payload):
    id: Id
    full_name: Annotated[str, at_most(201), shaped(_REPO)]
    html_url: Url | None = None


class _CheckSuite(Payload):
    action: Word
    check_suite: _Suite
    repository: _Repository


class _SuiteOfRun(Payload):
    id: Id
    head_branch: Branch | None = None


class _Run(Payload):
    id: Id
    head_sha: Sha
    conclusion: Word | None = None
    check_suite: _SuiteOfRun


class _CheckRun(Payload):
    action: Word
    check_run: _Run
    repository: _Repository


class _WorkflowRun(Payload):
    id: Id
    head_branch: Branch | None = None
    head_sha: Sha
    conclusion: Word | None = None
    html_url: Url | None = None


class _WorkflowRunHook(Payload):
    action: Word
    workflow_run: _WorkflowRun
    repository: _Repository


class _Pipeline(Payload):
    id: Id
    ref: Branch
    sha: Sha
    status: Word
    tag: bool = False
    url: Url | None = None


class _Project(Payload):
    id: Id
    path_with_namespace: Annotated[str, at_most(2000), shaped(_PATH)]
    web_url: Url | None = None


class _Build(Payload):
    id: Id
    name: Annotated[str, at_most(255)]
    status: Word


class _PipelineHook(Payload):
    object_attributes: _Pipeline
    project: _Project
    builds: Annotated[list[_Build], Field(max_length=MAX_BUILDS)] = []


async def github_check_suite(
    ctx: WebContext, payload: dict[str, object], delivery: str | None
) -> web.Response:
    event = _completed("check_suite", _CheckSuite, payload)
    if isinstance(event, web.Response):
        return event
    suite, repo = event.check_suite, event.repository
    return await _github(
        ctx, repo, "check suite", suite.conclusion, suite.head_branch, suite.head_sha,
        _checks_page(repo, suite.head_sha), delivery, suite_id=suite.id,
    )  # fmt: skip


async def github_check_run(
    ctx: WebContext, payload: dict[str, object], delivery: str | None
) -> web.Response:
    """One failed check run: its suite's failed runs are what the fix reads."""
    event = _completed("check_run", _CheckRun, payload)
    if isinstance(event, web.Response):
        return event
    run, repo = event.check_run, event.repository
    return await _github(
        ctx, repo, "check run", run.conclusion, run.check_suite.head_branch, run.head_sha,
        _checks_page(repo, run.head_sha), delivery, suite_id=run.check_suite.id,
    )  # fmt: skip


async def github_workflow_run(
    ctx: WebContext, payload: dict[str, object], delivery: str | None
) -> web.Response:
    """A failed Actions workflow run: its failed jobs are what the fix reads."""
    event = _completed("workflow_run", _WorkflowRunHook, payload)
    if isinstance(event, web.Response):
        return event
    run = event.workflow_run
    return await _github(
        ctx, event.repository, "workflow run", run.conclusion, run.head_branch, run.head_sha,
        run.html_url or "", delivery, run_id=run.id,
    )  # fmt: skip


def _completed(kind: str, model: type[Hook], payload: dict[str, object]) -> Hook | web.Response:
    """A `completed` GitHub CI event read into `model`; another action is ignored, a
    malformed one refused (400)."""
    if payload.get("action") != "completed":
        return ignored(f"{kind} {str(payload.get('action'))[:40]}")
    try:
        return read(model, payload)
    except Malformed as error:
        raise malformed("github", error.what) from None


def _checks_page(repo: _Repository, sha: str) -> str:
    return f"{repo.html_url}/commit/{sha}/checks" if repo.html_url else ""


async def _github(
    ctx: WebContext,
    repo: _Repository,
    what: str,
    conclusion: str | None,
    branch: str | None,
    sha: str,
    url: str,
    delivery: str | None,
    *,
    suite_id: int = 0,
    run_id: int = 0,
) -> web.Response:
    """A failed conclusion on a branch is taken, with the suite or run that names its jobs."""
    if conclusion not in FAILED or not branch:
        return ignored(f"{what} {conclusion or 'without a conclusion'}")
    failure = CiFailure(
        provider="github",
        project=repo.full_name,
        project_id=repo.id,
        branch=branch,
        sha=sha,
        url=url,
        suite_id=suite_id,
        run_id=run_id,
        delivery=delivery or "",
    )
    return await _take(ctx, failure)


async def gitlab_pipeline(
    ctx: WebContext, payload: dict[str, object], delivery: str | None
) -> web.Response:
    if payload.get("object_kind") != "pipeline":
        return ignored("not a pipeline event")
    try:
        hook = read(_PipelineHook, payload)
    except Malformed as error:
        raise malformed("gitlab", error.what) from None
    pipeline = hook.object_attributes
    if pipeline.status != "failed" or pipeline.tag:
        return ignored(f"pipeline {pipeline.status}")
    page = pipeline.url or (
        f"{hook.project.web_url}/-/pipelines/{pipeline.id}" if hook.project.web_url else ""
    )
    failure = CiFailure(
        provider="gitlab",
        project=hook.project.path_with_namespace,
        project_id=hook.project.id,
        branch=pipeline.ref,
        sha=pipeline.sha,
        url=page,
        jobs=tuple((b.id, b.name) for b in hook.builds if b.status == "failed"),
        delivery=delivery or "",
    )
    return await _take(ctx, failure)


async def _take(ctx: WebContext, failure: CiFailure) -> web.Response:
    """Off or a redelivery: ignored; else enqueued (the job finds the session)."""
    if not ctx.settings.triggers:
        return ignored("triggers are off (REPOBOX_TRIGGERS)")
    delivery = f"{failure.provider}:delivery:{failure.delivery}" if failure.delivery else None
    answer = await enqueue_once(
        ctx,
        [("delivery", delivery)],
        handle_ci_failure,
        job_id=safe_id(f"ci-{failure.provider}-{failure.sha[:12]}-{failure.delivery}"),
        failure=failure.to_dict(),
    )
    if answer.status != 202:
        return answer
    log.info("CI failed on %s %s; taken", failure.project, failure.branch)
    return answer
