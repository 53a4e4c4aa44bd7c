"""What the API tests share: the real app on a real port, tokens made as the settings page
makes them, and a plain Server-Sent Events reader."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests
from redis import Redis

from bot.core.config import Settings
from bot.core.redisio import run_async
from bot.identity.api_tokens import ApiToken, ApiTokens
from bot.identity.people import Identity
from handlers.cli.login import OPERATOR
from tests.accounts_support import SyncAccounts


def person(settings: Settings, redis: Redis, name: str, identity: Identity | None = None) -> str:
    """A person's account id (`OPERATOR`: the admin who holds the machine)."""
    accounts = SyncAccounts(settings, redis)
    return str(accounts.person_for(identity or Identity.slack("T1", name), name).id)


def operator(settings: Settings, redis: Redis) -> str:
    return person(settings, redis, "operator", OPERATOR)


def token(
    redis: Redis, person_id: str, scopes: tuple[str, ...] = ("read", "write"), days: float = 30
) -> tuple[str, ApiToken]:
    return run_async(
        redis, lambda aredis: ApiTokens(aredis).create(person_id, "tests", list(scopes), days)
    )


def revoke(redis: Redis, person_id: str, token_id: str) -> bool:
    return run_async(redis, lambda aredis: ApiTokens(aredis).revoke(person_id, token_id))


@dataclass
class Api:
    """`requests` with a bearer token, against `base` (the app's URL)."""

    base: str
    secret: str

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.secret}", **kwargs.pop("headers", {})}
        return requests.request(
            method, f"{self.base}/api/v1{path}", headers=headers, timeout=30, **kwargs
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, **kwargs)


@dataclass
class Sse:
    event: str
    id: str | None
    data: Any


def read_events(answer: requests.Response) -> Iterator[Sse]:
    """The messages of a Server-Sent Events answer, as they arrive (comments skipped)."""
    event, event_id, data = "message", None, []
    for raw in answer.iter_lines(decode_unicode=True):
        line = raw or ""
        if not line:
            if data:
                yield Sse(event, event_id, json.loads("\n".join(data)))
            event, event_id, data = "message", None, []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "id":
            event_id = value
        elif name == "data":
            data.append(value)
