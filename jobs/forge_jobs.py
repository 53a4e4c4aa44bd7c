"""A GitLab or GitHub comment that mentions Repobox: the slow part, in a fast-queue job.

Order: ignore the bot itself and other bots → check the person may push (a polite
one-line refusal otherwise) → 👀 on the comment → parse the command → start the session
bound to the issue or merge request, or continue it. Reading the conversation for the
agent's context happens here too, never in the web process.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from bot import keys
from bot.commands import Kind, parse
from bot.errors import UpstreamError, UserError
from bot.logs import crash_reference
from bot.providers.forge import Forge, ForgeUser, forge_for
from bot.sessions import Person, Session, SessionState, Thread
from bot.surfaces import forge_context, forge_replies
from bot.surfaces.forge_events import CommentEvent
from bot.surfaces.forge_text import command_text, defuse, host_words
from jobs.runtime import JobContext, context

log = logging.getLogger(__name__)

IDENTITY_TTL = 3600
REFUSAL_EVERY = 3600  # one refusal per person and thread per hour, however often they ask


def handle_comment(event: dict[str, Any]) -> None:
    comment = CommentEvent.from_dict(event)
    ctx = context()
    try:
        forge = forge_for(comment.provider, ctx.settings)
    except UserError as error:
        log.warning("comment %s not handled: %s", comment.request_id, error)
        return
    CommentTurn(ctx, forge, comment).run()


class CommentTurn:
    def __init__(self, ctx: JobContext, forge: Forge, event: CommentEvent) -> None:
        self.ctx = ctx
        self.forge = forge
        self.event = event
        self.service = ctx.service
        self.name = ctx.settings.bot_name

    def run(self) -> None:
        """Whatever happens is said in the thread, in words for people."""
        try:
            self._run()
        except UserError as error:
            self.say(str(error))
        except UpstreamError as error:
            log.warning("comment %s: %s", self.event.request_id, error)
            self.say(f"{error} Please try again in a moment.")
        except Exception:
            ref = crash_reference(log, f"comment {self.event.request_id} failed")
            self.say(f"Something went wrong on our side (ref {ref}).")

    def say(self, text: str) -> None:
        try:
            self.forge.post(
                self.event.reply, host_words(defuse(text, self.name), self.event.provider)
            )
        except (UserError, UpstreamError) as error:
            log.warning("could not answer comment %s: %s", self.event.request_id, error)

    def _run(self) -> None:
        author = self.event.author
        me = self.forge.identity()
        self.ctx.redis.set(
            keys.forge(self.event.provider, "identity"), json.dumps(me.to_dict()), ex=IDENTITY_TTL
        )
        if author.id == me.id or author.username == me.username or self.forge.is_bot(author):
            log.info("comment %s is from a bot; ignored", self.event.request_id)
            return
        if not self.forge.may_drive(self.event.project, author):
            self._refuse(author)
            return
        if not self.event.whole_review:  # a review summary has no comment to react to
            try:
                self.forge.react(self.event.reply, self.event.comment_id, "eyes")
            except UpstreamError as error:  # a missing 👀 must not stop the work
                log.warning("no reaction on %s: %s", self.event.request_id, error)
        self._dispatch(me)

    def _refuse(self, author: ForgeUser) -> None:
        throttle = keys.forge(self.event.provider, f"refused:{self.event.thread_key}:{author.id}")
        if self.ctx.redis.set(throttle, "1", nx=True, ex=REFUSAL_EVERY):
            self.say(forge_replies.refusal(self.event.provider))

    @property
    def person(self) -> Person:
        author = self.event.author
        return Person(id=author.username, name=author.name or author.username, email=author.email)

    def _session(self) -> Session | None:
        session = self.service.sessions.find_by_thread(self.event.provider, self.event.thread_key)
        if session is not None and session.state is SessionState.FAILED:
            self.service.archive(session, self.person)  # a fresh start replaces a failed one
            return None
        return session

    def _dispatch(self, me: ForgeUser) -> None:
        command = parse(command_text(self.event.body, self.name))
        session = self._session()
        if command.kind is Kind.PROMPT:
            self._prompt(session, command.prompt or "", me)
        elif command.kind is Kind.HELP:
            self.say(forge_replies.help_text(self.name))
        elif command.kind in (Kind.NEW, Kind.LINK):
            self.say(f"Here I work on `{self.event.project}`: just tell me what to change.")
        elif session is None:
            self.say(forge_replies.no_session(self.name))
        elif command.kind is Kind.SHIP:
            origin = forge_context.origin(self.forge, self.event)  # answers go back there
            self.service.ship(session, self.person, request_id=self.event.request_id, origin=origin)
        elif command.kind is Kind.STATUS:
            self.say(forge_replies.status_text(self.service.status(session)))
        elif command.kind is Kind.DIFF:
            self.say(forge_replies.diff_text(self.service.diff(session)))
        elif command.kind is Kind.CANCEL:
            cancelled = self.service.cancel(session, self.person)
            dropped = f" and dropped {len(cancelled.dropped)} waiting" if cancelled.dropped else ""
            stopped = "Stopping the run" if cancelled.running else "Nothing was running"
            self.say(f"{stopped}{dropped}.")
        elif command.kind is Kind.ARCHIVE:
            self.service.archive(session, self.person)
            self.say(f"Archived session `{session.id}`. Mention me again to start a new one.")

    def _prompt(self, session: Session | None, text: str, me: ForgeUser) -> None:
        event = self.event
        comments = forge_context.earlier_comments(self.forge, event, me)
        origin = forge_context.origin(self.forge, event)
        if session is not None and session.context is not None:
            context = session.context.with_comments(comments)
            self.service.sessions.update(session.id, context=context)
        if session is not None:
            self.service.submit(
                session, text, self.person, request_id=event.request_id, origin=origin
            )
            return
        conversation = self.forge.conversation(event.project, event.kind, event.number)
        if conversation.from_fork:
            raise UserError(
                "This merge request comes from a fork; I can only push to branches of "
                f"`{event.project}`."
            )
        branch = conversation.source_branch if event.kind == "merge_request" else None
        started = self.service.start(
            repo=f"{event.provider}:{event.project}",
            base=branch,
            prompt=text,
            thread=Thread(event.provider, event.thread_key, conversation.url),
            person=self.person,
            request_id=event.request_id,
            context=forge_context.session_context(conversation, comments),
            work_branch_name=branch,
            origin=origin,
        )
        if event.kind == "issue" and conversation.title:
            self.service.sessions.update(started.session.id, title=conversation.title)
