"""A GitHub and a GitLab with Repobox in front, for the acting tests: the real app on a
port, the real client libraries against the fakes, real RQ jobs and git; people linked
through the real account store (sealed in Valkey)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from bot.core import keys
from bot.core.config import Settings
from bot.identity import accounts
from bot.identity.people import Credential, Identity, Provider, Source
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.conftest import MakeRepo, run_jobs
from tests.fakes.github import FakeGitHub, webhook_request
from tests.fakes.gitlab import DEFAULT_TOKEN, DEVELOPER, MAINTAINER, FakeGitLab
from tests.forge_harness import WebApp

SECRET = "hook-secret"
REPO = "octo/widgets"


def link(
    settings: Settings,
    redis: Redis,
    provider: Provider,
    login: str,
    token: str,
    scopes: tuple[str, ...] = (),
) -> str:
    """Link `login`'s token to a new person, as the settings page stores it; their id."""

    async def save(store: accounts.AccountStore) -> str:
        person = await store.person_for(Identity.forge(provider, login), login.title())
        await store.save_credential(
            person.id, Credential(provider, token, login, scopes, Source.TOKEN)
        )
        return person.id

    return accounts.blocking(settings, redis, save)


def swap_sealed(redis: Redis, one: str, other: str, provider: Provider) -> None:
    """Put each person's sealed token on the other's record, straight in Valkey."""
    first = json.loads(redis.hget(keys.credentials(one), provider.value) or "{}")
    second = json.loads(redis.hget(keys.credentials(other), provider.value) or "{}")
    first["sealed"], second["sealed"] = second["sealed"], first["sealed"]
    redis.hset(keys.credentials(one), provider.value, json.dumps(first))
    redis.hset(keys.credentials(other), provider.value, json.dumps(second))


@dataclass
class Hub:
    fake: FakeGitHub
    app: WebApp
    ctx: JobContext
    origin: Path
    redis: Redis

    def comment(self, number: int, body: str, user: str = "alice") -> None:
        payload = self.fake.issue_comment_payload(REPO, number, body, user=user)
        raw, headers = webhook_request(payload, SECRET)
        assert self.app.post("/webhooks/github", raw, headers)[0] == 202
        run_jobs(self.ctx)

    def said(self, number: int) -> str:
        return "\n".join(
            c.body for c in self.fake.comments(REPO, number) if c.user == "repobox-bot"
        )


def hub_with(settings: Settings, redis: Redis, origin: Path) -> Iterator[Hub]:
    with FakeGitHub() as fake:
        fake.add_repo(REPO, origin.as_uri(), permissions={"alice": "write", "bob": "write"})
        configured = settings.with_changes(
            github_api_url=fake.url,
            github_token=fake.token,
            github_webhook_secret=SECRET,
            forge_retries=2,
            forge_backoff=0.01,
        )
        ctx = runtime.install(configured, redis)
        with WebApp(configured, redis) as app:
            yield Hub(fake, app, ctx, origin, redis)


@pytest.fixture
def origin(make_repo: MakeRepo) -> Path:
    return make_repo(files={"README.md": "# Widgets\n"})


@pytest.fixture
def hub(settings: Settings, redis: Redis, origin: Path) -> Iterator[Hub]:
    yield from hub_with(settings, redis, origin)


@dataclass
class Lab:
    fake: FakeGitLab
    app: WebApp
    ctx: JobContext
    project: int
    redis: Redis

    def comment(self, kind: str, iid: int, body: str, author: str = "alice") -> None:
        payload: dict[str, Any] = self.fake.note_hook_payload(self.project, kind, iid, body, author)  # type: ignore[arg-type]
        raw = json.dumps(payload).encode()
        status, _ = self.app.post("/webhooks/gitlab", raw, self.fake.hook_headers(SECRET))
        assert status == 202
        run_jobs(self.ctx)

    def said(self, kind: str, iid: int) -> str:
        notes = self.fake.notes(self.project, kind, iid)  # type: ignore[arg-type]
        return "\n".join(n.body for n in notes if n.author_id == self.fake.bot.id)


@pytest.fixture
def lab(settings: Settings, redis: Redis, origin: Path) -> Iterator[Lab]:
    with FakeGitLab() as fake:
        alice = fake.add_user("alice", "Alice Liddell", token="glpat-alicealicealice9876")
        bob = fake.add_user("bob", "Bob")
        project = fake.add_project(
            "acme/widgets",
            origin.as_uri(),
            members={alice.id: DEVELOPER, bob.id: DEVELOPER, fake.bot.id: MAINTAINER},
        )
        configured = settings.with_changes(
            gitlab_url=fake.url,
            gitlab_token=DEFAULT_TOKEN,
            gitlab_webhook_secret=SECRET,
            default_provider="gitlab",
            forge_retries=2,
            forge_backoff=0.01,
        )
        ctx = runtime.install(configured, redis)
        with WebApp(configured, redis) as app:
            yield Lab(fake, app, ctx, project.id, redis)
