"""A click on one of Repobox's buttons is the command it stands for, typed by its clicker.

The card's buttons name their session; a comparison's "Pick n" names its comparison,
which must still be the session's latest. A button only works in the channel its session
lives in.
"""

from __future__ import annotations

import re

from bot.commands.executor import Asker, Executor
from bot.commands.grammar import Command, CommandKind
from bot.compare.picking import latest_comparison
from bot.core.errors import Conflict, Forbidden, UserError
from bot.sessions.prompts import Prompt
from bot.sessions.session import Person, Session
from bot.surfaces.slack import blocks as render
from bot.surfaces.slack.comparison import ACTION_PICK
from handlers.slack.answers import answer
from handlers.slack.replier import Replier
from handlers.slack.request import Action, Interaction
from handlers.slack.said import slack_thread
from handlers.slack.workspace import Workspace

PICK_BUTTON = re.compile(re.escape(ACTION_PICK) + r"(\d{1,3})")  # a comparison's "Pick n"
BUTTONS = {  # a button on the session's card is a command typed by its clicker
    render.ACTION_SHIP: Command(CommandKind.SHIP),
    render.ACTION_CANCEL: Command(CommandKind.CANCEL),
    render.ACTION_ARCHIVE: Command(CommandKind.ARCHIVE),
    render.ACTION_UNDO: Command(CommandKind.UNDO),
}


class Buttons:
    def __init__(self, workspace: Workspace, executor: Executor) -> None:
        self.workspace = workspace
        self.service = workspace.service
        self.executor = executor

    async def clicked(self, click: Interaction, action: Action) -> None:
        uid, channel, team = click.user.id, click.channel_id or "", click.team_id or ""
        if action.action_id == render.ACTION_LOG:
            return  # a link button: Slack opens the page, there is nothing to do
        request_id = f"slack:{team}:{channel}:action:{action.action_ts}:{uid}"
        ctx = self.workspace.ctx
        reply = Replier(ctx, channel=channel, user=uid, thread_ts=None, request_id=request_id)
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
                outcome = await self.executor.execute(command, session, asker)
                await answer(outcome, reply, ctx.settings)
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
