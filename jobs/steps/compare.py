"""A comparison: one prompt run by each candidate at once, each in its own workdir.

Every candidate starts from the session's latest checkpoint (`Workdirs.fork`: a pooled
clone that fetches only what the mirror lacks), runs the agent it names with the session's
budgets, commits its own checkpoint and runs the repository's checks there. The session's
workdir is not touched: the comparison ends with the candidates kept on disk (`record`)
until `pick` adopts one. They all share the run's `RunControl`, so `cancel`, the time
limit and a shutdown stop all of them at once.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

from bot.agents import claude_code
from bot.agents.attachments import Attachment, copied
from bot.agents.base import RunRequest
from bot.compare import record as records
from bot.compare.candidates import Candidate, resolve, settings_for
from bot.compare.outcome import CandidateOutcome, Comparison
from bot.compare.record import CompareRecord, Fork, capped
from bot.core.logs import crash_reference
from bot.core.mcp_servers import McpServer
from bot.core.redaction import Redactor
from bot.git import checkpoints
from bot.git.branches import valid_branch
from bot.git.mirrors import repo_key
from bot.git.workdirs import FORK_SUFFIX, fetch_head
from bot.processes.control import RunControl
from bot.sessions import metrics
from bot.sessions.events import EventKind, ProgressEvent, ProgressStream
from bot.sessions.prompts import Prompt, PromptState
from bot.sessions.results import RunResult
from bot.sessions.session import Session
from jobs.steps.agent_turn import checkpoint, drive, earlier_prompts, keep_leftovers, show
from jobs.steps.attachments import prompt_attachments
from jobs.steps.autofix import check_and_fix, verdicts
from jobs.steps.checks import repo_egress_hosts, repo_mcp_servers
from jobs.steps.context import JobContext
from jobs.steps.run_prompt import HandBack, LeaseLost, Outcome, charge_spend

log = logging.getLogger(__name__)


class CandidateStream(ProgressStream):
    """The session's stream, with every event tagged as candidate `number`'s."""

    def __init__(self, redis: Redis, session_id: str, number: int, label: str) -> None:
        super().__init__(redis, session_id)
        self.number, self.label = number, label

    def append(self, event: ProgressEvent) -> str:
        data = {**event.data, "candidate": self.number, "label": self.label}
        return super().append(replace(event, data=data))


@dataclass(frozen=True)
class Comparing:
    """What every candidate of one comparison shares: the run's control included, so one
    cancel stops them all."""

    ctx: JobContext
    session: Session
    prompt: Prompt
    base: str  # the session's checkpoint every candidate starts from
    control: RunControl
    held: Callable[[], bool]
    attachments: tuple[Attachment, ...] = ()  # fetched once; each candidate gets a copy
    mcp_servers: tuple[McpServer, ...] = ()  # the repository's, as a single run has them


@dataclass(frozen=True)
class Ran:
    """One candidate's run, before the verdicts that need all of them."""

    outcome: CandidateOutcome
    fork: Fork | None  # None when its workdir could not be made


def run_comparison(
    ctx: JobContext,
    session: Session,
    prompt: Prompt,
    control: RunControl,
    held: Callable[[], bool],
) -> Outcome:
    workdir = Path(session.workdir or "")
    if not held():
        raise LeaseLost
    keep_leftovers(ctx, workdir)
    discard(ctx, session)  # an earlier comparison nobody picked from
    base = checkpoints.head(workdir)
    candidates = [resolve(name) for name in prompt.candidates]
    started = time.monotonic()
    attached = prompt_attachments(ctx, session, prompt, workdir)
    servers = repo_mcp_servers(session, workdir)
    shared = Comparing(ctx, session, prompt, base, control, held, attached, servers)
    with ThreadPoolExecutor(len(candidates), thread_name_prefix=f"compare-{session.id}") as pool:
        futures = [
            pool.submit(_candidate, shared, number, candidate)
            for number, candidate in enumerate(candidates, start=1)
        ]
        ran = [future.result() for future in futures]
    duration = time.monotonic() - started
    if not held():
        discard(ctx, session)
        raise LeaseLost
    if control.reason == "shutdown":
        discard(ctx, session)  # the comparison runs again from the start
        raise HandBack
    comparison = Comparison(tuple(r.outcome for r in ran), base).with_verdicts()
    forks = tuple(r.fork for r in ran if r.fork is not None)
    _figures(ctx, comparison)
    result = _total(comparison, duration)
    charge_spend(ctx, session, prompt, result)  # every candidate's spend, even if cancelled
    if control.cancelled:
        discard(ctx, session)
        prompt.error = f"cancelled after {duration:.0f}s"
        text = f"Comparison cancelled after {duration:.0f}s; every candidate was stopped."
        return Outcome(ProgressEvent(EventKind.CANCELLED, text, prompt.id), None)
    records.save(
        ctx.redis,
        session.id,
        CompareRecord(prompt.id, base, forks, _between(forks)),
    )
    summary = _summary(comparison, duration)
    kept = [c for c in comparison.candidates if c.commit]
    prompt.result, prompt.summary = result, summary
    if not kept:
        prompt.error = "no candidate produced a change to pick"
        return Outcome(ProgressEvent(EventKind.ERROR, summary, prompt.id, result.to_dict()), None)
    return Outcome(ProgressEvent(EventKind.RESULT, summary, prompt.id, result.to_dict()), None)


def _candidate(shared: Comparing, number: int, candidate: Candidate) -> Ran:
    """Run one candidate; whatever happens, it ends with one event and an outcome."""
    ctx, prompt = shared.ctx, shared.prompt
    stream = CandidateStream(ctx.redis, shared.session.id, number, candidate.label)
    show(stream, ProgressEvent(EventKind.STARTED, f"{candidate.label}: working", prompt.id))
    fork: Fork | None = None
    try:
        outcome, fork = _run(shared, number, candidate, stream)
    except Exception:
        ref = crash_reference(log, f"candidate {number} of {prompt.id} crashed")
        outcome = CandidateOutcome(
            number,
            candidate.label,
            PromptState.FAILED,
            summary=f"Something went wrong on our side (ref {ref}).",
        )
    kind = {
        PromptState.DONE: EventKind.RESULT,
        PromptState.CANCELLED: EventKind.CANCELLED,
    }.get(outcome.state, EventKind.ERROR)
    data = outcome.result.to_dict() if outcome.result is not None else {}
    show(stream, ProgressEvent(kind, outcome.summary, prompt.id, data))
    return Ran(outcome, fork)


def _run(
    shared: Comparing, number: int, candidate: Candidate, stream: CandidateStream
) -> tuple[CandidateOutcome, Fork]:
    ctx, session, prompt, base = shared.ctx, shared.session, shared.prompt, shared.base
    control, held = shared.control, shared.held
    source = Path(session.workdir or "")
    branch = _branch(session, number)
    mirror = ctx.mirrors.path_for(session.clone_url or session.repo)
    workdir, _pooled = ctx.workdirs.fork(
        f"{session.id}{FORK_SUFFIX}{number}",
        repo_key(session.clone_url or session.repo),
        mirror,
        source,
        branch,
    )
    own = replace(
        session, id=f"{session.id}{FORK_SUFFIX}{number}", workdir=str(workdir),
        agent_conversation=None,
    )  # fmt: skip
    agent = settings_for(ctx.settings, candidate)
    history = earlier_prompts(ctx, session, prompt)
    request = RunRequest(prompt.text, workdir, own, prompt.author, history, prompt.origin)
    request = replace(
        request,
        egress_hosts=repo_egress_hosts(ctx, session, workdir),
        attachments=copied(shared.attachments, workdir),
        mcp_servers=shared.mcp_servers,
    )
    started = time.monotonic()
    result, failure = drive(ctx, request, control, prompt.id, agent=agent, stream=stream)
    finished = result is not None and failure is None
    commit = checkpoint(ctx, workdir, prompt, control, failure, result)
    checked = None
    if commit and finished and not control.should_stop():
        checked, result = check_and_fix(
            ctx, own, prompt, control, held, commit, base, result, agent=agent, stream=stream
        )
        commit = checkpoints.head(workdir)
    duration = time.monotonic() - started
    stat = checkpoints.diffstat(workdir, base)
    data: dict[str, object] = dict(result.data) if result is not None else {}
    summary = Redactor(ctx.settings.secret_values())(result.text if result else "") or "Done."
    summary = verdicts(summary, checked, data)
    data.update(
        duration_s=round(duration, 2),
        commit=commit if stat.files else None,
        files=[f.to_dict() for f in stat.files],
        diffstat=stat.summary(),
    )
    data.setdefault("model", candidate.model or candidate.preset)
    run = RunResult.from_dict(data)
    if control.cancelled:
        state, summary = PromptState.CANCELLED, f"cancelled after {duration:.0f}s"
    elif control.expired:
        state = PromptState.FAILED
        summary = f"stopped at the {control.time_limit / 60:.0f}-minute time limit"
    elif failure is not None:
        state, summary = PromptState.FAILED, failure
    else:
        state = PromptState.DONE
    patch, truncated = capped(checkpoints.diff_text(workdir, base))
    fork = Fork(number, candidate.label, str(workdir), run.commit, patch, truncated)
    return CandidateOutcome(number, candidate.label, state, run, summary), fork


def _branch(session: Session, number: int) -> str:
    """The candidate's local branch: the work branch with its number (never pushed)."""
    name = f"{session.work_branch}-candidate-{number}"
    return name if valid_branch(name) else f"repobox-candidate-{number}"


def _between(forks: tuple[Fork, ...]) -> dict[str, str]:
    """The diff from each candidate to each later one, for the live page."""
    pairs: dict[str, str] = {}
    with_commits = [f for f in forks if f.commit]
    for index, first in enumerate(with_commits):
        for second in with_commits[index + 1 :]:
            fetch_head(Path(second.workdir), Path(first.workdir))
            patch = checkpoints.diff_text(
                Path(second.workdir), first.commit or "", second.commit or ""
            )
            pairs[f"{first.number}-{second.number}"] = capped(patch)[0]
    return pairs


def _total(comparison: Comparison, duration: float) -> RunResult:
    """The comparison's own result: the sum of its candidates' spend, and the table."""
    tokens: dict[str, int] = {}
    cost = 0.0
    for candidate in comparison.candidates:
        if candidate.result is None:
            continue
        cost += candidate.result.cost_usd
        for kind, count in candidate.result.tokens.items():
            tokens[kind] = tokens.get(kind, 0) + count
    return RunResult(
        duration_s=round(duration, 2),
        cost_usd=round(cost, 6),
        tokens=tokens,
        extra={"comparison": comparison.to_dict()},
    )


def _summary(comparison: Comparison, duration: float) -> str:
    labels = ", ".join(c.label for c in comparison.candidates)
    lines = [f"Compared {len(comparison.candidates)} candidates ({labels}) in {duration:.0f}s."]
    for candidate in comparison.candidates:
        lines.append(f"{candidate.number}. {candidate.label}: {candidate.verdict}")
    if any(c.commit for c in comparison.candidates):
        lines.append("Reply `pick <n>` to adopt one; the others are then discarded.")
    else:
        lines.append("No candidate changed anything, so there is nothing to pick.")
    return "\n".join(lines)


def _figures(ctx: JobContext, comparison: Comparison) -> None:
    try:
        for candidate in comparison.candidates:
            metrics.record_candidate(ctx.redis, candidate.label, candidate.state.value)
    except RedisError:
        log.warning("comparison figures not recorded: Redis refused the write")


def discard(ctx: JobContext, session: Session) -> None:
    """Return an unpicked comparison's workdirs (to the pool) and forget it."""
    key = repo_key(session.clone_url or session.repo)
    for leftover in ctx.workdirs.forks_of(session.id):
        ctx.workdirs.remove(leftover, key)
        # a claude-code candidate's own state (its transcripts), kept under its name
        shutil.rmtree(claude_code.config_dir(ctx.settings, leftover.name), ignore_errors=True)
    try:
        records.drop(ctx.redis, session.id)
    except RedisError:
        log.warning("comparison record of %s not dropped: Redis refused the write", session.id)
