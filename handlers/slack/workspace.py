"""Sessions in a Slack workspace, as every listener needs them: start one in a thread, find
the one a thread holds, list a channel's, and link a channel to a repository.

Every Redis call here is awaited on the web app's async client (the session service's
too), so nothing blocks the event loop.
"""

from __future__ import annotations

from bot.commands.repo_spec import Reach
from bot.core.dispatch import FAST_QUEUE
from bot.sessions.session import Person, Session, Thread
from bot.surfaces.slack import kit
from bot.surfaces.slack.thread import SURFACE, SlackThread
from handlers.common.context import WebContext
from handlers.slack.connect import require_linked
from handlers.slack.said import Said
from jobs.slack_jobs import sync_session


class Workspace:
    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.service = ctx.service

    async def start(
        self,
        repo: str,
        base: str | None,
        prompt: str | None,
        thread: SlackThread,
        said: Said,
        person: Person | None = None,
        model: str | None = None,
    ) -> None:
        self.check_repo(repo)
        who = person or said.person
        await require_linked(self.ctx, repo, said.team, who.id, who.name)
        started = await self.service.start(
            repo=repo,
            base=base,
            prompt=prompt,
            thread=Thread(SURFACE, thread.key),
            person=who,
            request_id=said.request_id,
            origin=said.origin if thread.ts is not None else None,
            model=model,
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
