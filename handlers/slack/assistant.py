"""Repobox in Slack's assistant container (the split view, and DMs with the app), through
Bolt's `Assistant` middleware.

A new assistant thread gets suggested prompts: `new <repo> …` for the person's recent
repositories, a template when there are none, and `help`. A message in the thread names
the thread after the session (`<repo>: <first prompt>`) when it starts one, and is then
handed to `submit`, which treats it exactly like a message in a session's thread.
Standalone: `build_assistant(...)` returns the middleware; mounting it is `bolt.use(...)`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.set_suggested_prompts.async_set_suggested_prompts import (
    AsyncSetSuggestedPrompts,
)
from slack_bolt.context.set_title.async_set_title import AsyncSetTitle
from slack_bolt.middleware.assistant.async_assistant import AsyncAssistant

from bot.sessions.async_session import AsyncSessionStore
from handlers.slack.request import SlackEvent

MAX_PROMPTS = 4  # Slack shows up to four suggested prompts
MAX_TITLE = 80
PROMPTS_TITLE = "Start a session"


@dataclass(frozen=True)
class AssistantMessage:
    """A person's message in an assistant thread, as the session service needs it."""

    team_id: str | None
    channel: str
    thread_ts: str
    ts: str
    user_id: str
    text: str


RecentRepos = Callable[[str], Awaitable[Sequence[str]]]
"""The repositories a person (Slack user id) used lately, most recent first."""
Submit = Callable[[AssistantMessage], Awaitable[None]]


def suggested_prompts(repos: Sequence[str]) -> list[dict[str, str]]:
    """`new <repo> …` for up to three recent repositories (or a template), then `help`."""
    prompts = [
        {"title": f"New session on {repo}", "message": f"new {repo} "} for repo in repos[:3]
    ] or [{"title": "Start a session", "message": "new <group/project> <what to change>"}]
    prompts.append({"title": "What can Repobox do?", "message": "help"})
    return prompts[:MAX_PROMPTS]


def thread_title(text: str) -> str | None:
    """`<repo>: <prompt>` for a message that starts a session (`new <repo> [@base] prompt`)."""
    words = text.split()
    if len(words) < 2 or words[0].lower() != "new":
        return None
    repo, rest = words[1], [w for w in words[2:] if not w.startswith("@")]
    title = f"{repo}: {' '.join(rest)}" if rest else repo
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…"


async def recent_repositories(store: AsyncSessionStore, user_id: str, limit: int = 3) -> list[str]:
    """A person's repositories by their sessions' last activity (open ones, then archived)."""
    repos: list[str] = []
    for session in await store.recent(include_archived=True, limit=100):
        if session.created_by.id == user_id and session.repo not in repos:
            repos.append(session.repo)
    return repos[:limit]


def recent_from(store: AsyncSessionStore) -> RecentRepos:
    """`recent_repositories` of one store, awaited on the loop like every Redis call here."""

    async def recent(user_id: str) -> Sequence[str]:
        return await recent_repositories(store, user_id)

    return recent


def build_assistant(*, recent: RecentRepos, submit: Submit) -> AsyncAssistant:
    assistant = AsyncAssistant()

    @assistant.thread_started
    async def started(
        payload: Mapping[str, object], set_suggested_prompts: AsyncSetSuggestedPrompts
    ) -> None:
        thread = SlackEvent.model_validate(payload).assistant_thread
        user = thread.user_id if thread and thread.user_id else ""
        repos = await recent(user) if user else []
        await set_suggested_prompts(prompts=suggested_prompts(repos), title=PROMPTS_TITLE)

    @assistant.user_message
    async def message(
        payload: Mapping[str, object], context: AsyncBoltContext, set_title: AsyncSetTitle
    ) -> None:
        event = SlackEvent.model_validate(payload)
        if not (event.channel and event.thread_ts and event.ts):
            return  # nowhere to answer (Bolt matched it on `thread_ts` alone)
        text = event.text.strip()
        title = thread_title(text)
        if title is not None:
            await set_title(title)
        await submit(
            AssistantMessage(
                team_id=context.team_id,
                channel=event.channel,
                thread_ts=event.thread_ts,
                ts=event.ts,
                user_id=event.user or "",
                text=text,
            )
        )

    return assistant
