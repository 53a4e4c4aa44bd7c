"""A review of one merge request, start to end: check the head out read-only, run the
reviewer, place each finding on the diff or in the summary, post one review.

No session is involved: a review changes nothing, so it needs no work branch, lease or
checkpoint. The checkout is a throw-away shared clone of the mirror, removed at the end.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from bot.agents import claude_code
from bot.agents.claude_review import ClaudeReviewer
from bot.agents.findings import Finding, Severity
from bot.agents.review_agent import ReviewAgent, ReviewOutcome, ReviewRequest
from bot.checks.reading import read_review
from bot.checks.schema import AutoReview
from bot.core import keys
from bot.core.config import Settings
from bot.core.errors import AgentError, Forbidden, UserError
from bot.forges.forge import Forge
from bot.forges.provider import Reviewer, ReviewTarget
from bot.processes.control import RunControl
from bot.review import checkout, prompt
from bot.review.diff import FileDiff, parse_diff
from bot.review.memory import Remembered, Sorted, line_moves, sort_findings
from bot.review.placing import Placed, github_comment, gitlab_comment, place
from bot.review.summary import Checked, Spent, counts, since_lines, summary
from bot.sessions.events import ProgressEvent
from bot.surfaces.forge.replies import refusal
from jobs.steps.context import JobContext

log = logging.getLogger(__name__)
FINDINGS_TTL = 90 * 24 * 3600


@dataclass
class ReviewDone:
    url: str
    counts: str
    placed: Placed
    tokens: int
    seconds: float
    sorted: Sorted = field(default_factory=Sorted)


def reviewer_of(forge: Forge) -> Reviewer:
    if not isinstance(forge, Reviewer):
        raise UserError("Reviews are not available on this host yet.")
    return forge


def reviewer_for(settings: Settings, *, from_fork: bool) -> ReviewAgent | ClaudeReviewer:
    """Claude Code when the deployment's agent is its preset; the built-in reviewer for a
    fork's pull request whatever the agent (it starts no process at all), and otherwise."""
    preset = settings.agent == "command" and claude_code.is_preset(settings.agent_command or "")
    return ClaudeReviewer(settings) if preset and not from_fork else ReviewAgent(settings)


def review(
    ctx: JobContext,
    forge: Forge,
    project: str,
    number: int,
    focus: str | None,
    *,
    auto: AutoReview | None = None,
    without_write: bool = False,
) -> ReviewDone | None:
    """Review merge request `number` of `project` and post the review; what was posted.

    `auto`: the event of an automatic review, which runs only when the base branch's
    `.repobox.yml` lists it (None otherwise: nothing posted). `without_write`: asked by
    someone who may not push, allowed only on a public repository whose `.repobox.yml`
    says `allow_without_write: true`."""
    started = time.monotonic()
    host = reviewer_of(forge)
    target = host.review_target(project, number)
    repo = forge.resolve(project)
    credentials = forge.credentials(project)
    mirror = ctx.mirrors.ensure(repo.clone_url, credentials)
    checkout.fetch_head(mirror, repo.clone_url, target.fetch_ref, number, credentials)
    wanted = read_review(mirror, target.base_ref)
    if auto is not None and auto not in wanted.auto:
        log.info("%s!%s %s: no automatic review declared", project, number, auto)
        return None
    if without_write and not (repo.public and wanted.allow_without_write):
        raise Forbidden(refusal(forge.name))
    where = ctx.settings.workdirs_dir / f"review-{uuid.uuid4().hex[:12]}"
    try:
        got = checkout.check_out(
            mirror, where, number, target.base_ref, target.head_sha, wanted.instructions
        )
        files = parse_diff(got.diff)
        task = prompt.task(target.title, target.description, files)
        request = ReviewRequest(where, prompt.system_text(got.rules, focus), task.text, task.diffs)
        reviewer = reviewer_for(ctx.settings, from_fork=target.from_fork)
        try:
            outcome = _drain(reviewer.review(request, RunControl(ctx.settings.run_timeout)))
        except AgentError as error:
            raise UserError(str(error)) from None
    finally:
        shutil.rmtree(where, ignore_errors=True)
    earlier = _recall(ctx, forge, project, number)
    moves = None
    if earlier.head is not None and earlier.findings:
        moves = line_moves(mirror, earlier.head, target.head_sha)
    sorted_ = sort_findings(earlier, outcome.findings, moves)
    key_of = {id(f): k for k, f in sorted_.new.items()}
    placed = place(list(sorted_.new.values()), files)
    tally = outcome.tally
    assert tally is not None
    resolved = host.resolve_findings(project, number, frozenset(sorted_.fixed))
    seconds = time.monotonic() - started
    checked = Checked(files, target.head_sha, tuple(got.rules), focus, task.outlined)
    spent = Spent(tally.tokens, tally.cost_usd if tally.priced else None, seconds, tally.model)
    still = [*sorted_.repeated.values(), *sorted_.kept.values()]
    since = since_lines(list(sorted_.fixed.values()), len(resolved), still) if earlier.head else ()
    event = "COMMENT"
    if wanted.request_changes == "blocker" and has_blocker(outcome.findings):
        event = "REQUEST_CHANGES"
    body = summary(placed, checked, spent, outcome.summary, since, event == "REQUEST_CHANGES")
    comments = [
        _comment(forge.name, f, key_of[id(f)], files[f.path], target) for f in placed.inline
    ]
    url = host.post_review(project, number, target, body, comments, event)
    _remember(ctx, forge, project, number, sorted_, target.head_sha)
    return ReviewDone(url, counts(outcome.findings), placed, tally.tokens, seconds, sorted_)


def _comment(
    provider: str, finding: Finding, key: str, diff: FileDiff, target: ReviewTarget
) -> dict[str, object]:
    if provider == "gitlab":
        return gitlab_comment(finding, key, diff, target)
    return github_comment(finding, key)


def _drain(events: Iterator[ProgressEvent]) -> ReviewOutcome:
    """Run the reviewer to its end; its steps go to the log (a review has no session stream)."""
    while True:
        try:
            event = next(events)
        except StopIteration as stop:
            outcome: ReviewOutcome = stop.value
            return outcome
        log.info("review step: %s", event.text)


def _recall(ctx: JobContext, forge: Forge, project: str, number: int) -> Remembered:
    raw = ctx.redis.get(keys.review_findings(forge.name, project, number))
    if raw is None:
        return Remembered()
    try:
        return Remembered.from_stored(json.loads(raw))
    except (ValueError, TypeError):
        log.warning("unreadable findings of %s!%s; starting afresh", project, number)
        return Remembered()


def _remember(
    ctx: JobContext, forge: Forge, project: str, number: int, sorted_: Sorted, head: str
) -> None:
    key = keys.review_findings(forge.name, project, number)
    stored = json.dumps(sorted_.remembered(head).to_dict())
    ctx.redis.set(key, stored, ex=FINDINGS_TTL)


def has_blocker(findings: list[Finding]) -> bool:
    return any(f.severity is Severity.BLOCKER for f in findings)
