"""`@repobox fix this` in a finding's thread, `@repobox fix all` on the merge request: the
findings Repobox remembers for it, made into one prompt for the merge request's session.

Only Repobox's own findings are fixed: the thread's root must be a Repobox review comment
(its hidden `repobox-finding` mark) and the finding must still be open in the memory of the
last review. A fix must land to count, so the session pushes: a session working on the
merge request's own branch that has not pushed yet is marked as pushed at the head the
host shows, and its run's commit then goes to that branch (`jobs.steps.ship.push_update`).
"""

from __future__ import annotations

import json
import logging

from bot.agents.findings import Finding
from bot.commands.grammar import Command, CommandKind
from bot.core import keys
from bot.core.errors import UserError
from bot.forges.events import CommentEvent
from bot.forges.forge import Forge, ForgeUser
from bot.review.fixing import fix_prompt, marked_key
from bot.review.memory import Remembered
from bot.sessions.session import Session
from jobs.steps.context import JobContext
from jobs.steps.review import reviewer_of

log = logging.getLogger(__name__)

FIXES = frozenset({CommandKind.FIX_THIS, CommandKind.FIX_ALL})
NOT_A_FINDING = (
    "`fix this` works as a reply in the thread of a Repobox review finding. "
    "Here, just tell me what to change."
)


def open_findings(ctx: JobContext, provider: str, project: str, number: int) -> Remembered:
    raw = ctx.redis.get(keys.review_findings(provider, project, number))
    if raw is None:
        return Remembered()
    try:
        return Remembered.from_stored(json.loads(raw))
    except (ValueError, TypeError):
        log.warning("unreadable findings of %s!%s", project, number)
        return Remembered()


def as_prompt(
    ctx: JobContext, forge: Forge, event: CommentEvent, command: Command, me: ForgeUser
) -> Command:
    """The prompt that fixes what `command` names; a `UserError` says why there is none."""
    if event.kind != "merge_request":
        raise UserError(f"`{command.kind.value.replace('_', ' ')}` works on a merge request.")
    remembered = open_findings(ctx, event.provider, event.project, event.number)
    if command.kind is CommandKind.FIX_ALL:
        findings = list(remembered.findings.values())
        if not findings:
            raise UserError(
                "There is no open finding of a Repobox review here. "
                f"Ask `@{ctx.settings.bot_name} review` first."
            )
        return Command(CommandKind.PROMPT, prompt=fix_prompt(findings))
    return Command(CommandKind.PROMPT, prompt=fix_prompt([_this(forge, event, me, remembered)]))


def _this(forge: Forge, event: CommentEvent, me: ForgeUser, remembered: Remembered) -> Finding:
    if event.review is None and event.reply.discussion_id is None:
        raise UserError(NOT_A_FINDING)
    ours = [r.body for r in forge.thread_remarks(event.reply) if r.author.id == me.id]
    key = marked_key(ours)
    if key is None:
        raise UserError(NOT_A_FINDING)
    finding = remembered.findings.get(key)
    if finding is None:
        raise UserError(
            "That finding is no longer open in my last review here (fixed, or forgotten "
            "after 90 days). Just tell me what to change."
        )
    return finding


def pushes_to_merge_request(
    ctx: JobContext, forge: Forge, event: CommentEvent, session: Session
) -> None:
    """Let a fix land: a session on the merge request's branch that has not pushed yet
    pushes its next commit there, as if shipped at the head the host has now."""
    if session.shipped:
        return
    target = reviewer_of(forge).review_target(event.project, event.number)
    if target.from_fork or session.work_branch != target.head_ref:
        raise UserError(
            f"This session works on `{session.work_branch}`, not on the branch of this merge "
            "request, so a fix would not land here. Say `ship it` in the session first."
        )
    ctx.service.sessions.update(session.id, pushed_commit=target.head_sha)
