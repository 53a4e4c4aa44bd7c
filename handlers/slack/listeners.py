"""What Repobox does with each Slack request the filters let through.

Listeners only parse, check, record and enqueue (the service's calls are Redis writes,
awaited on the event loop), so Slack gets its acknowledgement in milliseconds. A slash
command's answer rides in the acknowledgement itself (`slash`); a click is the command
its button stands for (`buttons`); any other answer to one person is an ephemeral
message posted by a fast job. Mistakes (`UserError`) are answered to the person who made
them; crashes are logged with a reference and left to Slack's retry.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence

from redis.exceptions import RedisError
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.commands.executor import ANYWHERE, Asker, Executor
from bot.commands.grammar import Command, CommandKind, looks_like_repo, parse
from bot.core.errors import Conflict, UserError
from bot.core.logs import crash_reference
from bot.sessions.session import Session
from bot.surfaces.slack import blocks as render
from bot.surfaces.slack.thread import SURFACE
from handlers.common import outage
from handlers.common.context import WebContext
from handlers.slack.answers import answer
from handlers.slack.assistant import AssistantMessage
from handlers.slack.buttons import Buttons
from handlers.slack.filters import Claims, typed
from handlers.slack.replier import Replier
from handlers.slack.request import KEY, EventCallback, Interaction, SlashCommand
from handlers.slack.said import Said, plain
from handlers.slack.slash import SlashCommands, ephemeral
from handlers.slack.workspace import Workspace

log = logging.getLogger(__name__)

NOT_HERE = "There is no session in this thread."
START_HINT = "Start one with `@repobox <repo> <prompt>` or `/repobox new <repo> <prompt>`."


class SlackListeners:
    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.service = ctx.service
        self.claims = Claims(ctx)
        self.executor = Executor(ctx.service)
        self.workspace = Workspace(ctx)
        self.slash = SlashCommands(self.workspace, self.executor)
        self.buttons = Buttons(self.workspace, self.executor)

    # -- what Bolt calls (each reads the typed request the boundary put in the context) --
    async def command(self, ack: AsyncAck, context: AsyncBoltContext) -> None:
        parsed = typed(context)
        assert isinstance(parsed, SlashCommand)
        await ack(**await self.slash.answer(parsed))

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
        if await self.workspace.session_in(said.thread) is not None:
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
        await self.buttons.clicked(parsed, parsed.actions[0])

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
        service's too: see docs/architecture.md, "The async web process"), so nothing blocks
        the loop."""
        reply = Replier(
            self.ctx,
            channel=said.channel,
            user=said.user,
            thread_ts=said.thread_ts,
            request_id=said.request_id,
        )
        session = await self.workspace.session_in(said.thread) if said.thread_ts else None
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
            workspace = self.workspace
            await reply(await workspace.link_channel(said.team, said.channel, command.repo or ""))
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
        workspace = self.workspace
        if command.kind in ANYWHERE:
            asker = Asker(said.person, said.request_id, said.origin)
            await answer(await self.executor.execute(command, None, asker), reply, self.settings)
        elif command.kind is CommandKind.LINK:
            await reply(await workspace.link_channel(said.team, said.channel, command.repo or ""))
        elif command.kind is CommandKind.STATUS:
            listed = await workspace.channel_sessions(said.team, said.channel)
            await reply(*render.channel_sessions(listed))
        elif command.kind is CommandKind.NEW:
            await workspace.start(
                command.repo or "",
                command.base,
                command.prompt,
                said.thread,
                said,
                model=command.model,
            )
        elif command.kind is CommandKind.PROMPT:
            repo, prompt = await self.repo_and_prompt(said, command.prompt or "")
            await workspace.start(repo, None, prompt, said.thread, said)
        else:
            raise UserError(NOT_HERE, hint=START_HINT)

    async def repo_and_prompt(self, said: Said, text: str) -> tuple[str, str | None]:
        """`<repo> <prompt>`, or just `<prompt>` in a channel linked to a repository."""
        first, rest = [*re.split(r"\s+", text, maxsplit=1), ""][:2]
        candidate = first.strip("<>")
        linked = await self.service.linked_repo(SURFACE, f"{said.team}:{said.channel}")
        if looks_like_repo(candidate):
            try:
                self.workspace.check_repo(candidate)
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
