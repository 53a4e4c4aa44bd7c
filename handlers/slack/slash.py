"""`/repobox …`: a slash command's answer rides in its acknowledgement, seen by the person
alone unless it concerns the channel (`link`).

A session started here has no thread yet (slash commands cannot be used in threads): the
bot posts its parent message, and until then the session is bound to the command.
"""

from __future__ import annotations

import uuid
from typing import TypedDict

from bot.commands.executor import ANYWHERE, Asker, Executor
from bot.commands.grammar import Command, CommandKind, parse
from bot.core.errors import UserError
from bot.sessions.session import Person
from bot.surfaces.slack import blocks as render
from bot.surfaces.slack import kit
from bot.surfaces.slack.thread import SlackThread
from handlers.slack.answers import rendered
from handlers.slack.connect import connect_answer, wants_connect
from handlers.slack.request import SlashCommand
from handlers.slack.review import ask_review
from handlers.slack.said import Said, plain
from handlers.slack.workspace import Workspace


class AckBody(TypedDict, total=False):
    """What a slash command's acknowledgement carries (Bolt's `ack(**body)`)."""

    response_type: str
    text: str
    blocks: list[kit.BlockDict]


def ephemeral(text: str, blocks: list[kit.BlockDict] | None = None) -> AckBody:
    fallback, default_blocks = kit.notice(text)
    return {"response_type": "ephemeral", "text": fallback, "blocks": blocks or default_blocks}


class SlashCommands:
    def __init__(self, workspace: Workspace, executor: Executor) -> None:
        self.workspace = workspace
        self.executor = executor

    async def answer(self, payload: SlashCommand) -> AckBody:
        """The acknowledgement's body: an ephemeral answer, an in-channel one, or nothing."""
        team, channel, user = payload.team_id, payload.channel_id, payload.user_id
        name = payload.user_name or user
        text = plain(payload.text).strip()
        workspace = self.workspace
        if wants_connect(text):  # a private sign-in link to link forge accounts
            return ephemeral(await connect_answer(workspace.ctx, team, user, name))
        try:
            command = parse(text) if text else Command(CommandKind.HELP)
            if command.kind in ANYWHERE:
                asker = Asker(
                    Person(user, name), f"slack:{team}:{channel}:cmd:{payload.trigger_id}"
                )
                reply = await self.executor.execute(command, None, asker)
                shown = rendered(reply, workspace.settings)
                return ephemeral(*shown) if shown else {}
            if command.kind is CommandKind.REVIEW:
                return ephemeral(await ask_review(workspace, payload, command))
            if command.kind is CommandKind.NEW:
                await self.start(payload, command)
                return {}
            if command.kind is CommandKind.LINK:
                answer = await workspace.link_channel(team, channel, command.repo or "")
                return {"response_type": "in_channel", "text": answer}
            if command.kind is CommandKind.STATUS:
                listed = await workspace.channel_sessions(team, channel)
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

    async def start(self, payload: SlashCommand, command: Command) -> None:
        """The session's thread will be a parent message the bot posts (slash commands
        cannot be used in threads); until then the session is bound to this command."""
        team, channel, user = payload.team_id, payload.channel_id, payload.user_id
        trigger = payload.trigger_id or uuid.uuid4().hex
        said = Said(team, channel, user, f"cmd-{trigger}", None, "")
        person = Person(user, payload.user_name or user)
        thread = SlackThread(team, channel, None, pending=trigger)
        await self.workspace.start(
            command.repo or "",
            command.base,
            command.prompt,
            thread,
            said,
            person,
            model=command.model,
        )
