"""The setup checklist admins see on the dashboard until every item passes or is dismissed.

Each item's state comes from the doctor's checks (bot/doctor/), the same the health page
and `./dev doctor` show, with the next step in words. The checks call out to Slack,
the forges and the model's API, so they run in a thread, at most once per `FRESH` seconds
per web process, and the dashboard loads the list after the page (htmx), never holding it.
Dismissed items are kept per admin in Redis.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from bot.core import keys
from bot.core.config import Settings
from bot.core.redisio import as_str
from bot.doctor.check import Check, Level
from bot.doctor.checks import run_all

Status = Literal["done", "todo", "failing"]
FRESH = 30.0
DEMO = "No key yet? `./dev demo` shows the whole flow with `REPOBOX_AGENT=demo`: no AI, deterministic edits from the prompt's words."  # noqa: E501
NEXT = {
    "agent": "Set `ANTHROPIC_API_KEY` so sessions can run (or `REPOBOX_AGENT=command` with `REPOBOX_AGENT_COMMAND`). "  # noqa: E501
    + DEMO,
    "slack": "Install the Slack app from `manifest.yml`, then set `SLACK_BOT_TOKEN` and `SLACK_SIGNING_SECRET` (or `SLACK_APP_TOKEN` for Socket Mode).",  # noqa: E501
    "gitlab": "Set `GITLAB_URL` and `GITLAB_TOKEN` (scope `api`) to work on GitLab projects, and `GITLAB_WEBHOOK_SECRET` to take comments.",  # noqa: E501
    "github": "Set `GITHUB_TOKEN` (scope `repo`) to work on GitHub repositories, and `GITHUB_WEBHOOK_SECRET` to take comments.",  # noqa: E501
    "oauth": "Create a GitHub or GitLab OAuth app and set `GITHUB_CLIENT_ID` and `GITHUB_CLIENT_SECRET` (or the `GITLAB_` pair), so people sign in as themselves. Until then `./dev login` prints a one-time link.",  # noqa: E501
    "sandbox": "Install bubblewrap (`apt-get install bubblewrap`) so agents' commands run confined, and leave `REPOBOX_SANDBOX` at `auto`.",  # noqa: E501
    "disk": "Free space under `REPOBOX_DATA_DIR`, or lower `REPOBOX_MIN_FREE_MB`: new sessions wait for it.",  # noqa: E501
}
TITLES = {
    "agent": "Agent",
    "slack": "Slack",
    "gitlab": "GitLab",
    "github": "GitHub",
    "oauth": "Sign-in with GitHub or GitLab",
    "sandbox": "Sandbox",
    "disk": "Disk",
}
ITEMS = tuple(TITLES)


@dataclass(frozen=True)
class SetupItem:
    key: str
    title: str
    status: Status
    detail: str
    next_step: str  # with `code` spans, as messages are written

    @property
    def prominent(self) -> bool:
        """The agent: nothing runs without it, so it leads while it is not done."""
        return self.key == "agent" and self.status != "done"


@dataclass(frozen=True)
class Checklist:
    items: list[SetupItem]  # not dismissed
    dismissed: int
    done: int
    total: int

    @property
    def finished(self) -> bool:
        return all(item.status == "done" for item in self.items)


def _status(check: Check) -> Status:
    if not check.ok:
        return "failing"
    return "done" if check.configured and check.level is Level.OK else "todo"


def _item(key: str, check: Check) -> SetupItem:
    status = _status(check)
    step = "" if status == "done" else NEXT.get(key, check.next_step)
    return SetupItem(key, TITLES[key], status, check.detail, step)


def _agent(settings: Settings, by_name: dict[str, Check]) -> SetupItem:
    anthropic, agent = by_name.get("Anthropic"), by_name.get("Agent")
    chosen = anthropic if settings.agent == "anthropic" and anthropic else agent
    if chosen is None:
        return SetupItem("agent", TITLES["agent"], "todo", "no agent check ran", NEXT["agent"])
    item = _item("agent", chosen)
    if item.status == "failing" and not settings.anthropic_api_key:  # not set up, not broken
        return SetupItem("agent", "Agent: not set up", "todo", item.detail, NEXT["agent"])
    return item


def _oauth(settings: Settings) -> Check:
    hosts = [
        name
        for name, client in (
            ("GitHub", settings.github_client_id),
            ("GitLab", settings.gitlab_client_id),
        )
        if client
    ]
    if not hosts:
        return Check("OAuth", Level.OK, "not configured: sign-in is by one-time link", "", False)
    return Check("OAuth", Level.OK, f"people sign in with {' and '.join(hosts)}")


def checklist(settings: Settings, checks: Sequence[Check], dismissed: set[str]) -> Checklist:
    by_name = {check.name: check for check in checks}
    missing = Check("?", Level.OK, "not checked", configured=False)
    every = [
        _agent(settings, by_name),
        _item("slack", by_name.get("Slack", missing)),
        _item("gitlab", by_name.get("GitLab", missing)),
        _item("github", by_name.get("GitHub", missing)),
        _item("oauth", _oauth(settings)),
        _item("sandbox", by_name.get("Sandbox", missing)),
        _item("disk", by_name.get("Disk", missing)),
    ]
    shown = [item for item in every if item.key not in dismissed or item.status == "failing"]
    return Checklist(
        items=shown,
        dismissed=len(every) - len(shown),
        done=sum(item.status == "done" for item in every),
        total=len(every),
    )


class DoctorCache:
    """The doctor's last answer in this process, for `FRESH` seconds; one run at a time."""

    def __init__(self) -> None:
        self._checks: list[Check] = []
        self._at = 0.0
        self._lock = asyncio.Lock()

    async def checks(self, settings: Settings, redis: Redis, *, fresh: bool = False) -> list[Check]:
        async with self._lock:
            if fresh or time.monotonic() - self._at > FRESH or not self._checks:
                self._checks = await asyncio.to_thread(self._run, settings, redis)
                self._at = time.monotonic()
            return list(self._checks)

    @staticmethod
    def _run(settings: Settings, redis: Redis) -> list[Check]:
        return run_all(settings, redis)


async def dismissed(redis: AsyncRedis, person_id: str) -> set[str]:
    return {as_str(raw) for raw in await redis.smembers(keys.setup_dismissed(person_id))}


async def dismiss(redis: AsyncRedis, person_id: str, item: str) -> bool:
    if item not in ITEMS:
        return False
    await redis.sadd(keys.setup_dismissed(person_id), item)
    return True


async def restore(redis: AsyncRedis, person_id: str) -> None:
    await redis.delete(keys.setup_dismissed(person_id))
