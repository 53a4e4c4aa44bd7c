"""What Repobox does with each Slack request the filters let through.

Listeners only parse, check, record and enqueue (the service's calls are Redis writes,
awaited on the event loop), so Slack gets its acknowledgement in milliseconds. A slash
command's answer rides in the acknowledgement itself; any other answer to one person is an
ephemeral message posted by a fast job. Mistakes (`UserError`) are answered to the person
who made them; crashes are logged with a reference and left to Slack's retry.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Sequence
from typing import Any

from redis.exceptions import RedisError
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.commands.executor import ANYWHERE, Asker, Executor
from bot.commands.grammar import Command, CommandKind, looks_like_repo, parse
from bot.commands.repo_spec import Reach
from bot.compare.picking import latest_comparison
from bot.core.dispatch import FAST_QUEUE
from bot.core.errors import Conflict, Forbidden, UserError
from bot.core.logs import crash_reference
from bot.security.links import session_link
from bot.sessions.prompts import Prompt
from bot.sessions.session import Person, Session, Thread
from bot.surfaces.slack import blocks as render
from bot.surfaces.slack import kit
from bot.surfaces.slack.comparison import ACTION_PICK
from bot.surfaces.slack.thread import SURFACE, SlackThread
from handlers.common import outage
from handlers.common.context import WebContext
from handlers.slack.answers import answer, rendered
from handlers.slack.assistant import AssistantMessage
from handlers.slack.connect import connect_answer, require_linked, wants_connect
from handlers.slack.filters import Claims, typed
from handlers.slack.replier import Replier
from handlers.slack.request import KEY, Action, EventCallback, Interaction, SlashCommand
from handlers.slack.said import Said, plain, slack_thread
from jobs.slack_jobs import sync_session

log = logging.getLogger(__name__)

NOT_HERE = "There is no session in this thread."
START_HINT = "Start one with `@repobox <repo> <prompt>` or `/repobox new <repo> <prompt>`."


def ephemeral(text: str, blocks: list[kit.Block] | None = None) -> dict[str, Any]:
    fallback, default_blocks = kit.notice(text)
    return {"response_type": "ephemeral", "text": fallback, "blocks": blocks or default_blocks}


class SlackListeners:
    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.service = ctx.service
        self.claims = Claims(ctx)
        self.executor = Executor(ctx.service)

    # -- what Bolt calls (each reads the typed request the boundary put in the context) --
    async def command(self, ack: AsyncAck, context: AsyncBoltContext) -> None:
        parsed = typed(context)
        assert isinstance(parsed, SlashCommand)
        await ack(**await self.slash(parsed))

    async def mention(self, ack: AsyncAck, context: AsyncBoltContext) -> None:
        await ack()
        said = self.said(context)
        if said is not None:
            await self.heard(
                said, said.without_mention(context.bot_user_id, self.settings.bot_name)
            )

    async def message(self, ack: AsyncAck, context: AsyncBoltContext) -> None:
        await ack()
        said = self.said(context)
        if said is None or said.thread_ts is None or said.mentions(context.bot_user_id):
            return  # channel chatter, or a mention (its app_mention event carries it)
        if await self.session_in(said.thread) is not None:
            await self.heard(said, plain(said.text).strip())

    async def assistant_message(self, message: AssistantMessage) -> None:
        """A message in Slack's assistant container: exactly a message in a session's thread
        (the assistant thread is the session's thread; `new …` there starts one)."""
        said = Said(
            message.team_id or "",
            message.channel,
            message.user_id,
            message.ts,
            message.thread_ts if message.thread_ts != message.ts else None,
            message.text,
        )
        await self.heard(said, plain(said.text).strip())

    async def click(self, ack: AsyncAck, context: AsyncBoltContext) -> None:
        await ack()
        parsed = typed(context)
        assert isinstance(parsed, Interaction)
        await self.clicked(parsed, parsed.actions[0])

    async def ignore(self, ack: AsyncAck) -> None:
        await ack()

    async def failed(self, error: Exception, request: AsyncBoltRequest) -> BoltResponse:
        """A crash: one log line with a reference; a slash command gets a polite answer,
        anything else a 400, or a 503 with Retry-After when Redis is what failed (with its
        claims released, so Slack's retry has another go)."""
        ref = crash_reference(log, "slack request failed", error)
        parsed = request.context.get(KEY)
        if isinstance(parsed, SlashCommand):
            answer = ephemeral(f"Sorry, that went wrong on our side (ref {ref}). Please try again.")
            return BoltResponse(
                status=200, body=json.dumps(answer), headers={"content-type": "application/json"}
            )
        if isinstance(parsed, EventCallback):
            said = Said.from_callback(parsed)
            names = [f"event:{parsed.event_id}", *([f"said:{said.request_id}"] if said else [])]
            try:
                for name in names:
                    await self.claims.release(name)
            except RedisError:
                pass  # Redis is what failed: nothing was claimed that a retry could miss
        if outage.is_outage(error):
            retry: dict[str, str | Sequence[str]] = {**outage.headers()}
            return BoltResponse(status=outage.STATUS, body="", headers=retry)
        return BoltResponse(status=400, body="")

    @staticmethod
    def said(context: AsyncBoltContext) -> Said | None:
        parsed = typed(context)
        return Said.from_callback(parsed) if isinstance(parsed, EventCallback) else None

    # -- people talking -------------------------------------------------------------------
    async def heard(self, said: Said, text: str) -> None:
        """A mention or a thread reply; each message is acted on once, whichever event
        (app_mention, message, a redelivery) brings it."""
        if await self.claims.take(f"said:{said.request_id}"):
            await self.act(said, text)

    async def act(self, said: Said, text: str) -> None:
        """Every Redis call here is awaited on the web app's async client (the session
        service's too: see the README's "Async web process"), so nothing blocks the loop."""
        reply = Replier(
            self.ctx,
            channel=said.channel,
            user=said.user,
            thread_ts=said.thread_ts,
            request_id=said.request_id,
        )
        session = await self.session_in(said.thread) if said.thread_ts else None
        try:
            command = parse(text)
            if session is not None:
                await self.in_session(session, said, command, reply)
            else:
                await self.outside(said, command, reply)
        except UserError as error:
            await reply(str(error))

    async def in_session(
        self, session: Session, said: Said, command: Command, reply: Replier
    ) -> None:
        if command.kind is CommandKind.LINK:
            await reply(await self.link_channel(said.team, said.channel, command.repo or ""))
        elif command.kind is CommandKind.NEW:
            raise Conflict(
                f"This thread already has session `{session.id}`.",
                hint="Send prompts here, or `archive` it and start again.",
            )
        else:
            asker = Asker(said.person, said.request_id, said.origin)
            await answer(await self.executor.execute(command, session, asker), reply, self.settings)

    async def outside(self, said: Said, command: Command, reply: Replier) -> None:
        """A mention where no session lives yet: start one (or answer a question)."""
        if command.kind in ANYWHERE:
            asker = Asker(said.person, said.request_id, said.origin)
            await answer(await self.executor.execute(command, None, asker), reply, self.settings)
        elif command.kind is CommandKind.LINK:
            await reply(await self.link_channel(said.team, said.channel, command.repo or ""))
        elif command.kind is CommandKind.STATUS:
            shown = render.channel_sessions(await self.channel_sessions(said.team, said.channel))
            await reply(*shown)
        elif command.kind is CommandKind.NEW:
            await self.start(command.repo or "", command.base, command.prompt, said.thread, said)
        elif command.kind is CommandKind.PROMPT:
            repo, prompt = await self.repo_and_prompt(said, command.prompt or "")
            await self.start(repo, None, prompt, said.thread, said)
        else:
            raise UserError(NOT_HERE, hint=START_HINT)

    async def repo_and_prompt(self, said: Said, text: str) -> tuple[str, str | None]:
        """`<repo> <prompt>`, or just `<prompt>` in a channel linked to a repository."""
        first, rest = [*re.split(r"\s+", text, maxsplit=1), ""][:2]
        candidate = first.strip("<>")
        linked = await self.service.linked_repo(SURFACE, f"{said.team}:{said.channel}")
        if looks_like_repo(candidate):
            try:
                self.check_repo(candidate)
                return candidate, rest.strip() or None
            except UserError:
                if linked is None:
                    raise
        if linked is not None:
            return linked, text
        raise UserError(
            "Which repository should I work on?",
            hint="Say `@repobox <repo> <prompt>`, or link one to this channel with "
            "`/repobox link <repo>`.",
        )

    # -- slash commands -------------------------------------------------------------------
    async def slash(self, payload: SlashCommand) -> dict[str, Any]:
        """The acknowledgement's body: an ephemeral answer, an in-channel one, or nothing."""
        team, channel = payload.team, payload.channel
        text = plain(payload.text).strip()
        if wants_connect(text):  # a private sign-in link to link forge accounts
            name = payload.user_name or payload.user
            return ephemeral(await connect_answer(self.ctx, team, payload.user, name))
        try:
            command = parse(text) if text else Command(CommandKind.HELP)
            if command.kind in ANYWHERE:
                person = Person(payload.user, payload.user_name or payload.user)
                asker = Asker(person, f"slack:{team}:{channel}:cmd:{payload.trigger_id}")
                shown = rendered(await self.executor.execute(command, None, asker), self.settings)
                return ephemeral(*shown) if shown else {}
            if command.kind is CommandKind.NEW:
                await self.start_from_command(payload, command)
                return {}
            if command.kind is CommandKind.LINK:
                answer = await self.link_channel(team, channel, command.repo or "")
                return {"response_type": "in_channel", "text": answer}
            if command.kind is CommandKind.STATUS:
                listed = await self.channel_sessions(team, channel)
                return ephemeral(*render.channel_sessions(listed))
            if command.kind is CommandKind.PROMPT:
                word = text.split()[0]
                raise UserError(
                    f"I don't know the command `{kit.escape(word[:40])}`.",
                    hint="`/repobox help` lists them. Prompts go in a session's thread: "
                    "start one with `/repobox new <repo> <prompt>`.",
                )
            raise UserError(
                f"`{command.kind.value}` works in a session's thread.",
                hint="Say it there, or use the buttons on the session's card.",
            )
        except UserError as error:
            return ephemeral(str(error))

    async def start_from_command(self, payload: SlashCommand, command: Command) -> None:
        """The session's thread will be a parent message the bot posts (slash commands
        cannot be used in threads); until then the session is bound to this command."""
        trigger = payload.trigger_id or uuid.uuid4().hex
        said = Said(payload.team, payload.channel, payload.user, f"cmd-{trigger}", None, "")
        person = Person(payload.user, payload.user_name or payload.user)
        thread = SlackThread(payload.team, payload.channel, None, pending=trigger)
        await self.start(command.repo or "", command.base, command.prompt, thread, said, person)

    # -- buttons --------------------------------------------------------------------------
    async def clicked(self, click: Interaction, action: Action) -> None:
        uid, channel, team = click.user, click.channel or "", click.team or ""
        if action.action_id == render.ACTION_LOG:
            return  # a link button: Slack opens the page, there is nothing to do
        request_id = f"slack:{team}:{channel}:action:{action.action_ts}:{uid}"
        reply = Replier(self.ctx, channel=channel, user=uid, thread_ts=None, request_id=request_id)
        try:
            pick = PICK_BUTTON.fullmatch(action.action_id)
            prompt = await self.service.prompts.get(action.value) if pick else None
            session = await self.service.sessions.get(prompt.session_id if prompt else action.value)
            thread = slack_thread(session.thread)
            if thread is None or thread.channel != channel:
                raise Forbidden("That button belongs to a session somewhere else.")
            reply.thread_ts = thread.ts
            command = BUTTONS.get(action.action_id)
            if pick is not None and prompt is not None:
                await self.check_latest(session, prompt)
                command = Command(CommandKind.PICK, number=int(pick.group(1)))
            if command is not None:
                asker = Asker(Person(uid, click.user_name or uid), request_id)
                await answer(
                    await self.executor.execute(command, session, asker), reply, self.settings
                )
        except UserError as error:
            await reply(str(error))

    async def check_latest(self, session: Session, compared: Prompt) -> None:
        """A Pick button picks from its own comparison, which must still be the latest one
        (typed, `pick <n>` always means the latest)."""
        latest = latest_comparison(await self.service.prompts.history(session.id))
        if latest is None or latest.id != compared.id:
            raise Conflict(
                "That comparison is not the latest one any more, so its candidates are gone.",
                hint="Pick from the latest comparison, or run `compare` again.",
            )

    # -- shared -----------------------------------------------------------------------------
    async def start(
        self,
        repo: str,
        base: str | None,
        prompt: str | None,
        thread: SlackThread,
        said: Said,
        person: Person | None = None,
    ) -> None:
        self.check_repo(repo)
        who = person or said.person
        await require_linked(self.ctx, repo, said.team, who.id, who.name)
        started = await self.service.start(
            repo=repo,
            base=base,
            prompt=prompt,
            thread=Thread(SURFACE, thread.key),
            person=person or said.person,
            request_id=said.request_id,
            origin=said.origin if thread.ts is not None else None,
        )
        await self.ctx.jobs.enqueue(  # post the card now, not when a run worker is free
            sync_session,
            job_id=f"slack-sync-{started.session.id}",
            queue=FAST_QUEUE,
            timeout=300,
            session_id=started.session.id,
        )

    def check_repo(self, repo: str) -> None:
        """What can be known about the repository without the network, so a typo is
        answered at once rather than by a failed set-up. Slack is a chat surface: local
        paths only under REPOBOX_LOCAL_ROOTS (the refusal is said to the person alone)."""
        self.service.check_spec(repo, Reach.CHAT)

    async def link_channel(self, team: str, channel: str, repo: str) -> str:
        self.check_repo(repo)
        await self.service.link_channel(SURFACE, f"{team}:{channel}", repo)
        name = self.settings.bot_name
        return (
            f"📌 This channel now works on `{kit.escape(repo)}`: "
            f"`@{name} <prompt>` starts a session on it."
        )

    async def session_in(self, thread: SlackThread) -> Session | None:
        return await self.service.sessions.find_by_thread(SURFACE, thread.key)

    async def channel_sessions(self, team: str, channel: str) -> list[Session]:
        prefix = f"{team}:{channel}:"
        return [
            s
            for s in await self.service.sessions.recent(limit=200)
            if s.thread.surface == SURFACE and s.thread.key.startswith(prefix)
        ]

    def link(self, session: Session) -> str:
        return session_link(self.settings, session.id)


PICK_BUTTON = re.compile(re.escape(ACTION_PICK) + r"(\d{1,3})")  # a comparison's "Pick n"
BUTTONS = {  # a button on the session's card is a command typed by its clicker
    render.ACTION_SHIP: Command(CommandKind.SHIP),
    render.ACTION_CANCEL: Command(CommandKind.CANCEL),
    render.ACTION_ARCHIVE: Command(CommandKind.ARCHIVE),
    render.ACTION_UNDO: Command(CommandKind.UNDO),
}
