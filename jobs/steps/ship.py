"""Shipping: push the work branch, then open (or update) the merge request.

Shipping again pushes the new commits to the same branch and updates the open MR/PR, so
`ship it` can always be asked for again without harm.
"""

from __future__ import annotations

from pathlib import Path

from bot.checks.results import CheckReport
from bot.compare.outcome import Comparison, adopted
from bot.core.errors import UpstreamError, UserError
from bot.core.redaction import Redactor
from bot.forges import registry as providers
from bot.forges.provider import MergeRequest
from bot.git import checkpoints
from bot.identity import acting
from bot.security.links import session_link
from bot.sessions.events import EventKind, ProgressEvent, ProgressStream
from bot.sessions.merge_request import MergeRequestRef
from bot.sessions.prompts import Action, Prompt, PromptState
from bot.sessions.results import RunResult
from bot.sessions.session import Session
from bot.surfaces.forge import description as mr_text
from jobs.steps.context import JobContext


def ship(ctx: JobContext, session: Session, prompt: Prompt) -> ProgressEvent:
    """Push and open the MR/PR; returns the event that ends the item (the caller records it)."""
    workdir = Path(session.workdir or "")
    if session.base_commit and checkpoints.head(workdir) == session.base_commit:
        raise UserError(
            "Nothing to ship yet: there are no changes on the work branch.",
            hint="Send a prompt first.",
        )
    report = gate(ctx, session, workdir)
    anyway = prompt.text == ANYWAY
    if report is not None and not report.passed and not anyway:
        raise refusal(report)
    overridden = [r.name for r in report.blocking] if report is not None and anyway else None
    now = mr_text.Override(prompt.author.name, tuple(overridden)) if overridden else None
    who = shipping_as(ctx, session, prompt)
    merge_request = _push_and_open(ctx, session, who, now)
    session = ctx.service.sessions.get(session.id)
    where = f" to `{session.project}`"
    text = f"Pushed `{session.work_branch}`{where}."
    if merge_request is not None:
        verb = "Opened" if merge_request.created else "Updated"
        kind = "pull request" if session.provider == "github" else "merge request"
        text = f"{verb} {kind} {merge_request.url}"
    prompt.summary = text
    prompt.result = RunResult(
        branch=session.work_branch,
        url=merge_request.url if merge_request else None,
        extra={"override": overridden} if overridden else {},
    )
    if overridden:
        names = ", ".join(overridden)
        text += f"\n⚠️ Shipped past failing checks: {names} (recorded in the description)."
    if who.sentence():
        text += f"\n{who.sentence()}"
    data = {
        "branch": session.work_branch,
        "url": merge_request.url if merge_request else None,
        "commit": session.pushed_commit,
    }
    return ProgressEvent(EventKind.SHIPPED, text, prompt.id, data)


def push_update(ctx: JobContext, session: Session, prompt: Prompt) -> bool:
    """After a run on a shipped session: push, so the open MR/PR shows the new commit.
    Whether it landed."""
    stream = ProgressStream(ctx.redis, session.id)
    try:
        merge_request = _push_and_open(ctx, session, shipping_as(ctx, session, prompt))
    except (UserError, UpstreamError) as error:
        stream.emit(
            EventKind.ERROR,
            f"Could not update the merge request: {error} Say `ship it` to retry.",
            prompt.id,
        )
        return False
    where = merge_request.url if merge_request else f"`{session.work_branch}`"
    stream.emit(
        EventKind.INFO,
        f"Pushed the new commit to {where}.",
        prompt.id,
        url=merge_request.url if merge_request else None,
    )
    return True


def shipping_as(ctx: JobContext, session: Session, prompt: Prompt) -> acting.Acting:
    """Whose token pushes and opens the MR/PR: the asker's linked one when the acting rule
    allows (`bot.identity.acting`), else the bot's, with the asker named in the body."""
    return acting.decide(ctx.settings, ctx.redis, session, prompt.author)


def _push_and_open(
    ctx: JobContext,
    session: Session,
    who: acting.Acting,
    override: mr_text.Override | None = None,
) -> MergeRequest | None:
    settings = who.settings(ctx.settings)
    provider = providers.for_name(session.provider, settings)
    repo = provider.resolve(session.project)
    credentials = provider.credentials(session.project)
    redact = Redactor(settings.secret_values())
    try:
        commit = checkpoints.push(
            Path(session.workdir or ""), repo.clone_url, session.work_branch, credentials
        )
    except UpstreamError as error:
        raise UserError(f"Pushing `{session.work_branch}` failed: {redact(str(error))}") from None
    ctx.service.sessions.update(session.id, pushed_commit=commit)
    try:
        merge_request = provider.open_or_update_merge_request(
            repo,
            branch=session.work_branch,
            base=session.base_branch or repo.default_branch or "main",
            title=merge_request_title(ctx, session),
            description=_with_acting(merge_request_description(ctx, session, override), who),
            draft=session.trigger is not None,  # work nobody asked for in words: a draft
        )
    except UpstreamError as error:
        raise UserError(
            f"The branch is pushed, but opening the merge request failed: {redact(str(error))}",
            hint="Say `ship it` again to retry.",
        ) from None
    if merge_request is not None:
        ref = MergeRequestRef(merge_request.url, merge_request.number)
        ctx.service.sessions.update(session.id, merge_request=ref)
        if repo.project_id is not None:  # a mention on it is a prompt in this session
            place = f"{repo.project_id}:merge_request:{merge_request.number}"
            ctx.service.sessions.bind_place(session.id, session.provider, place)
    return merge_request


def _with_acting(description: str, who: acting.Acting) -> str:
    """The body, naming the asker the bot acted for (with their co-author line)."""
    said = who.description()
    return f"{description.rstrip()}\n\n{said}\n" if said else description


ANYWAY = "ship it anyway"


def gate(ctx: JobContext, session: Session, workdir: Path) -> CheckReport | None:
    """The checks report of the latest checkpoint, when one exists for it."""
    tip = checkpoints.head(workdir)
    for item in reversed(ctx.service.prompts.history(session.id)):
        report = item.result.check_report if item.result is not None else None
        if item.action is Action.RUN and report is not None and report.commit == tip:
            return report
    return None


def refusal(report: CheckReport) -> UserError:
    """`ship it` on failing required checks: which, and the two ways on."""
    failing = "; ".join(r.verdict() for r in report.blocking)  # one line: a chat's preview
    return UserError(
        f"Not shipping: required checks fail on `{report.commit[:10]}`: {failing}.",
        hint="Say `fix the checks` to hand them to the agent, or `ship it anyway` to ship "
        "and record that you did.",
    )


def merge_request_title(ctx: JobContext, session: Session) -> str:
    """A summary of the session's work; a session started from an issue keeps its title."""
    fallback = session.title or session.work_branch
    if session.context is not None and session.context.closes and session.title:
        return fallback if len(fallback) <= 120 else fallback[:119] + "…"
    return mr_text.title(_asked(ctx, session), fallback)


def merge_request_description(
    ctx: JobContext, session: Session, now: mr_text.Override | None = None
) -> str:
    """What was asked and by whom, what was done, the checks, usage, the live log, and
    the latest "ship it anyway" (`now`: this ship's)."""
    history = ctx.service.prompts.history(session.id)
    report = gate(ctx, session, Path(session.workdir or ""))
    tokens, cost = 0, 0.0
    override: mr_text.Override | None = None
    for item in history:
        if item.result is None:
            continue
        tokens += item.result.total_tokens
        cost += item.result.cost_usd
        failing = item.result.extra.get("override")
        if item.action is Action.SHIP and isinstance(failing, list):
            override = mr_text.Override(item.author.name, tuple(str(f) for f in failing))
    closes = session.context.closes if session.context is not None else None
    return mr_text.description(
        opened_for=session.created_by.name,
        prompts=_asked(ctx, session),
        report=report,
        usage=mr_text.Usage(tokens, cost or None),
        live_url=session_link(ctx.settings, session.id),
        closes=closes,
        override=now or override,
    )


def _asked(ctx: JobContext, session: Session) -> list[mr_text.AskedPrompt]:
    """The prompts whose changes are on the branch: runs, and comparisons someone picked
    from (with the picked candidate's checkpoint, files and the comparison's table)."""
    asked = []
    for item in ctx.service.prompts.history(session.id):
        if item.state is not PromptState.DONE or not adopted(item):
            continue
        comparison = Comparison.of(item.result)
        chosen = comparison.candidate(comparison.picked or 0) if comparison else None
        result = chosen.result if chosen is not None else item.result
        asked.append(
            mr_text.AskedPrompt(
                item.text.strip(),
                item.author.name,
                item.summary,
                result.commit if result is not None else None,
                tuple(f.path for f in result.files) if result is not None else (),
                comparison,
            )
        )
    return asked
