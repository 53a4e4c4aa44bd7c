"""A GitLab or GitHub comment that mentions Repobox: the slow part, in a fast-queue job.

Order: ignore the bot itself and other bots → check the person may push (a polite
one-line refusal otherwise) → 👀 on the comment → parse the command → start the session
bound to the issue or merge request, or continue it (the command side's coroutines, run
off the loop with `BlockingService.run`). Reading the conversation for the
agent's context happens here too, never in the web process.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from bot.commands.executor import SURFACE_COMMANDS, Asker, Executor, needs_session
from bot.commands.grammar import Command, CommandKind, parse
from bot.core import keys
from bot.core.errors import UpstreamError, UserError
from bot.core.logs import crash_reference
from bot.forges.events import CommentEvent
from bot.forges.forge import Forge, ForgeUser
from bot.forges.registry import forge_for
from bot.forges.text import command_text, defuse, host_words
from bot.sessions.comment_order import CommentOrder
from bot.sessions.session import Person, Session, SessionState, Thread
from bot.surfaces.forge import replies as forge_replies
from bot.surfaces.forge.answers import answer_text
from jobs.review_jobs import REVIEW_TIMEOUT, review_merge_request
from jobs.session_jobs import context
from jobs.steps import fix_findings, forge_context, places
from jobs.steps.context import JobContext

log = logging.getLogger(__name__)
T = TypeVar("T")

# Commands whose progress answers where they were asked (a review comment's thread), and
# whose agent sees that comment's file and line.
ANSWERED_WHERE_ASKED = frozenset(
    {CommandKind.PROMPT, CommandKind.SHIP, CommandKind.COMPARE, CommandKind.PICK}
)

IDENTITY_TTL = 3600
REFUSAL_EVERY = 3600  # one refusal per person and thread per hour, however often they ask


def handle_comment(
    event: dict[str, Any], command: dict[str, Any] | None = None, mistake: str | None = None
) -> None:
    """`command` was parsed by the webhook handler (or `mistake` says why it could not be);
    a job queued by an older web process has neither, and is parsed here once."""
    comment = CommentEvent.from_dict(event)
    ctx = context()
    try:
        forge = forge_for(comment.provider, ctx.settings)
    except UserError as error:
        log.warning("comment %s not handled: %s", comment.request_id, error)
        CommentOrder(ctx.redis, comment).skip()  # it holds no later comment back
        return
    CommentTurn(ctx, forge, comment, _parsed(comment, command, mistake, ctx)).run()


def _parsed(
    event: CommentEvent, command: dict[str, Any] | None, mistake: str | None, ctx: JobContext
) -> Command | UserError:
    if command is not None:
        return Command.from_dict(command)
    if mistake is not None:
        return UserError(mistake)
    try:
        return parse(command_text(event.body, ctx.settings.bot_name))
    except UserError as error:
        return error


class CommentTurn:
    def __init__(
        self, ctx: JobContext, forge: Forge, event: CommentEvent, command: Command | UserError
    ) -> None:
        self.ctx = ctx
        self.forge = forge
        self.event = event
        self.command = command
        self.service = ctx.service
        self.name = ctx.settings.bot_name
        self.without_write = False  # a review asked by someone who may not push

    def run(self) -> None:
        """The slow part (who asked, the 👀), then the command in the thread's order: it
        runs once every comment written before it in the thread has run (see
        `bot.sessions.comment_order`); a job queued without a place just runs it."""
        order = CommentOrder(self.ctx.redis, self.event)
        if not order.reserved():
            self._guarded(lambda: self._dispatch_if(self._prepare()))
            return
        me: ForgeUser | None = None
        try:
            me = self._guarded(self._prepare)
        finally:
            if me is None:
                order.skip()
            else:
                order.ready(self._record(me))
        order.run_ready(self._run_record)

    def _record(self, me: ForgeUser) -> dict[str, Any]:
        """What another job needs to run this comment's command in its turn (JSON)."""
        command = self.command
        said = {"mistake": str(command)} if isinstance(command, UserError) else {}
        return {
            "event": self.event.to_dict(),
            "me": me.to_dict(),
            "command": None if isinstance(command, UserError) else command.to_dict(),
            "without_write": self.without_write,
            **said,
        }

    def _run_record(self, record: dict[str, Any]) -> None:
        event = CommentEvent.from_dict(record["event"])
        command = _parsed(event, record.get("command"), record.get("mistake"), self.ctx)
        turn = CommentTurn(self.ctx, self.forge, event, command)
        me = ForgeUser.from_dict(record["me"])
        turn.without_write = record.get("without_write") is True
        turn._guarded(lambda: turn._dispatch(me))

    def _dispatch_if(self, me: ForgeUser | None) -> None:
        if me is not None:
            self._dispatch(me)

    def _guarded(self, step: Callable[[], T]) -> T | None:
        """Whatever happens is said in the thread, in words for people."""
        try:
            return step()
        except UserError as error:
            self.say(str(error))
        except UpstreamError as error:
            log.warning("comment %s: %s", self.event.request_id, error)
            self.say(f"{error} Please try again in a moment.")
        except Exception:
            ref = crash_reference(log, f"comment {self.event.request_id} failed")
            self.say(f"Something went wrong on our side (ref {ref}).")
        return None

    def say(self, text: str) -> None:
        try:
            self.forge.post(
                self.event.reply, host_words(defuse(text, self.name), self.event.provider)
            )
        except (UserError, UpstreamError) as error:
            log.warning("could not answer comment %s: %s", self.event.request_id, error)

    def _prepare(self) -> ForgeUser | None:
        """Who Repobox is, whether the author may drive it, the 👀: the forge's part,
        before the comment's place in the thread. None: nothing to run."""
        author = self.event.author
        me = self.forge.identity()
        self.ctx.redis.set(
            keys.forge(self.event.provider, "identity"), json.dumps(me.to_dict()), ex=IDENTITY_TTL
        )
        if author.id == me.id or author.username == me.username or self.forge.is_bot(author):
            log.info("comment %s is from a bot; ignored", self.event.request_id)
            return None
        if not self.forge.may_drive(self.event.project, author):
            if not self._asks_review():
                self._refuse(author)
                return None
            self.without_write = True  # the review job reads whether `.repobox.yml` allows it
        if not self.event.whole_review:  # a review summary has no comment to react to
            try:
                self.forge.react(self.event.reply, self.event.comment_id, "eyes")
            except UpstreamError as error:  # a missing 👀 must not stop the work
                log.warning("no reaction on %s: %s", self.event.request_id, error)
        return me

    def _asks_review(self) -> bool:
        command = self.command
        return not isinstance(command, UserError) and command.kind is CommandKind.REVIEW

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
            person = self.person  # a fresh start replaces a failed one
            self.service.run(lambda service: service.archive(session, person))
            return None
        return session

    def _dispatch(self, me: ForgeUser) -> None:
        if isinstance(self.command, UserError):
            raise self.command  # a mistake in the comment, answered in the thread
        command = self.command
        if command.kind is CommandKind.REVIEW:
            self._review(command.prompt)
            return
        fixing = command.kind in fix_findings.FIXES
        if fixing:  # the findings, as a prompt answered (and resolved) where it was asked
            command = fix_findings.as_prompt(self.ctx, self.forge, self.event, command, me)
        session = self._session()
        if fixing and session is not None:
            fix_findings.pushes_to_merge_request(self.ctx, self.forge, self.event, session)
        if command.kind in SURFACE_COMMANDS:
            self.say(f"Here I work on `{self.event.project}`: just tell me what to change.")
            return
        if command.kind is CommandKind.PROMPT and session is None:
            self._start(command.prompt or "", me, fixing)
            return
        if needs_session(command) and session is None:
            self.say(forge_replies.no_session(self.name))
            return
        origin = None
        elsewhere = session is not None and not self._at_home(session)
        if command.kind in ANSWERED_WHERE_ASKED:
            refresh = command.kind in (CommandKind.PROMPT, CommandKind.COMPARE)
            if refresh and session is not None and not elsewhere:  # a place's comments are
                self._refresh_comments(session, me)  # not the home conversation's
            origin = forge_context.origin(self.forge, self.event)  # answers go back there
        busy = session is not None and self._busy(session)
        asker = Asker(self.person, self.event.request_id, origin)
        reply = self.service.run(lambda service: Executor(service).execute(command, session, asker))
        text = answer_text(reply, self.name)
        if text is not None:
            self.say(text)
        if session is not None and elsewhere and command.kind in ANSWERED_WHERE_ASKED:
            places.note_elsewhere(self.ctx.redis, self.event, session.id, command, busy)

    def _at_home(self, session: Session) -> bool:
        """Whether the comment is in the session's own thread, not in one of its places."""
        thread = session.thread
        return (thread.surface, thread.key) == (self.event.provider, self.event.thread_key)

    def _busy(self, session: Session) -> bool:
        prompts = self.service.prompts
        return prompts.running(session.id) is not None or prompts.has_waiting(session.id)

    def _review(self, focus: str | None) -> None:
        """A review runs in a job of its own on the run queue; the 👀 says it was heard."""
        event = self.event
        if event.kind != "merge_request":
            raise UserError("`review` works on a merge request, not on an issue.")
        self.ctx.service.dispatch.enqueue(
            review_merge_request,
            job_id=f"review:{event.provider}:{event.project}:{event.number}:{event.request_id}",
            timeout=REVIEW_TIMEOUT,
            provider=event.provider,
            project=event.project,
            number=event.number,
            focus=focus,
            reply=dict(event.reply.to_dict()),
            without_write=self.without_write,
        )

    def _refresh_comments(self, session: Session, me: ForgeUser) -> None:
        """The agent sees the conversation as it stands at this prompt."""
        if session.context is not None:
            comments = forge_context.earlier_comments(self.forge, self.event, me)
            self.service.sessions.update(
                session.id, context=session.context.with_comments(comments)
            )

    def _start(self, text: str, me: ForgeUser, fixing: bool = False) -> None:
        event = self.event
        comments = forge_context.earlier_comments(self.forge, event, me)
        origin = forge_context.origin(self.forge, event)
        conversation = self.forge.conversation(event.project, event.kind, event.number)
        if conversation.from_fork:
            raise UserError(
                "This merge request comes from a fork; I can only push to branches of "
                f"`{event.project}`" + (", so I cannot commit this fix." if fixing else ".")
            )
        branch = conversation.source_branch if event.kind == "merge_request" else None
        started = self.service.run(
            lambda service: service.start(
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
        )
        if event.kind == "issue" and conversation.title:
            self.service.sessions.update(started.session.id, title=conversation.title)
        if fixing:  # its commit lands on the merge request's branch
            fix_findings.pushes_to_merge_request(self.ctx, self.forge, event, started.session)
