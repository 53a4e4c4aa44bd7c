"""An issue's label or assignment changed: start its session, or cancel it before it ships.

A start: the issue assigned to the bot's user, or given the trigger label (the repository's
`.repobox.yml` `triggers:` on its default branch, else REPOBOX_TRIGGER_LABEL). The issue's
title and body are the first prompt, the issue is the session's thread (its progress
comment is the card, as for a session a comment started), and a `ship it` waits behind
the prompt: it opens a draft MR/PR that closes the issue once the required checks pass,
or says why not. Taking the label or the assignment back before the push cancels it.
The person who labelled or assigned is the asker (their rights, the acting rule).
"""

from __future__ import annotations

import logging
from typing import Any

from bot.checks.config import ChecksConfig, ConfigInvalid, Triggers
from bot.checks.reading import read_config
from bot.core import keys
from bot.core.dispatch import safe_id
from bot.core.errors import Conflict, UpstreamError, UserError
from bot.core.logs import crash_reference
from bot.forges import registry as providers
from bot.forges.forge import Forge, ReplyTarget
from bot.forges.issue_events import IssueChange
from bot.forges.registry import forge_for
from bot.sessions.session import Person, SessionState, Thread
from jobs.session_jobs import context
from jobs.steps import forge_context
from jobs.steps.context import JobContext

log = logging.getLogger(__name__)

STARTING_TTL = 600  # one start per issue at a time, however many deliveries say so


def handle_issue_change(change: dict[str, Any]) -> None:
    event = IssueChange.from_dict(change)
    ctx = context()
    if not ctx.settings.triggers:
        return
    try:
        forge = forge_for(event.provider, ctx.settings)
    except UserError as error:
        log.warning("issue change on %s#%s not handled: %s", event.project, event.number, error)
        return
    turn = TriggerTurn(ctx, forge, event)
    try:
        turn.run()
    except UserError as error:
        turn.say(str(error))
    except UpstreamError as error:
        log.warning("issue change on %s#%s: %s", event.project, event.number, error)
    except Exception:
        ref = crash_reference(log, f"issue change on {event.project}#{event.number} failed")
        turn.say(f"Something went wrong on our side (ref {ref}).")


class TriggerTurn:
    def __init__(self, ctx: JobContext, forge: Forge, event: IssueChange) -> None:
        self.ctx = ctx
        self.forge = forge
        self.event = event
        self.target = ReplyTarget(event.project, "issue", event.number)

    @property
    def person(self) -> Person:
        sender = self.event.sender
        return Person(id=sender.username, name=sender.name or sender.username, email=sender.email)

    def say(self, text: str) -> None:
        try:
            self.forge.post(self.target, text)
        except (UserError, UpstreamError) as error:
            log.warning(
                "could not answer on %s#%s: %s", self.event.project, self.event.number, error
            )

    def run(self) -> None:
        event = self.event
        me = self.forge.identity()
        mine = me.username.lower()
        assigned = any(name.lower() == mine for name in event.assigned)
        unassigned = any(name.lower() == mine for name in event.unassigned)
        if not (assigned or unassigned or event.labeled or event.unlabeled):
            return  # someone else's assignment: nothing to read
        if event.sender.id == me.id or event.sender.username.lower() == mine:
            return
        triggers = self._triggers()
        label = triggers.label or self.ctx.settings.trigger_label
        if label in event.unlabeled or (triggers.assigned and unassigned):
            self._cancel(f"removed the `{label}` label" if label in event.unlabeled else
                         f"unassigned @{me.username}")  # fmt: skip
        if label in event.labeled:
            self._start("label")
        elif triggers.assigned and assigned:
            self._start("assigned")

    def _triggers(self) -> Triggers:
        """`triggers:` of `.repobox.yml` on the default branch (never an issue's branch)."""
        provider = providers.for_name(self.event.provider, self.ctx.settings)
        repo = provider.resolve(self.event.project)
        mirror = self.ctx.mirrors.ensure(repo.clone_url, provider.credentials(self.event.project))
        _branch, commit = self.ctx.mirrors.resolve(mirror, repo.default_branch)
        try:
            config: ChecksConfig = read_config(mirror, commit)
        except ConfigInvalid:
            return Triggers()  # its mistakes are said where its checks run
        return config.triggers

    def _may_drive(self) -> bool:
        if self.forge.may_drive(self.event.project, self.event.sender):
            return True
        log.info(
            "%s may not drive %s; their issue change starts nothing",
            self.event.sender.username,
            self.event.project,
        )
        return False

    def _start(self, why: str) -> None:
        event = self.event
        sessions = self.ctx.service.sessions
        existing = sessions.find_by_thread(event.provider, event.thread_key)
        if existing is not None and existing.state is not SessionState.ARCHIVED:
            return  # labelled and assigned, or delivered twice: one session
        starting = keys.forge(event.provider, f"trigger:{event.thread_key}")
        if not self.ctx.redis.set(starting, event.delivery or "1", nx=True, ex=STARTING_TTL):
            return
        try:
            if self._may_drive():
                self._open(why)
        finally:
            self.ctx.redis.delete(starting)

    def _open(self, why: str) -> None:
        event = self.event
        conversation = self.forge.conversation(event.project, "issue", event.number)
        prompt = "\n\n".join(
            p for p in (conversation.title.strip(), conversation.body.strip()) if p
        )
        if not prompt:
            raise UserError("This issue has no title or description to work from.")
        person = self.person
        request = safe_id(f"trigger-{event.provider}-{event.thread_key}-{event.delivery}")
        try:
            started = self.ctx.service.run(
                lambda service: service.start(
                    repo=f"{event.provider}:{event.project}",
                    base=None,
                    prompt=prompt,
                    thread=Thread(event.provider, event.thread_key, conversation.url),
                    person=person,
                    request_id=request,
                    context=forge_context.session_context(conversation, ()),
                )
            )
        except Conflict:
            return  # another delivery started it a moment ago
        session = started.session
        self.ctx.service.sessions.update(session.id, title=conversation.title, trigger=why)
        self.ctx.service.run(
            lambda service: service.ship(session, person, request_id=f"{request}-ship")
        )
        log.info("%s on %s#%s started session %s", why, event.project, event.number, session.id)

    def _cancel(self, what: str) -> None:
        event = self.event
        session = self.ctx.service.sessions.find_by_thread(event.provider, event.thread_key)
        if session is None or session.trigger is None or session.shipped:
            return  # not one a trigger started, or its work is out already
        if session.state is SessionState.ARCHIVED:
            return
        person = self.person
        self.ctx.service.run(lambda service: service.archive(session, person))
        self.say(
            f"Cancelled session `{session.id}`: @{event.sender.username} {what} before "
            "the work shipped. Add it again to start over."
        )
