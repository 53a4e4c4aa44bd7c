"""Linked credentials found broken when used: one that no longer decrypts (a key gone, a
blob copied from someone else), one the host refuses (401: revoked or expired) or one
without the scope writing needs.

Marked the first time a write tries it, so the person hears it where they asked, their
settings page and App Home say it with what to do, and the admin health page lists it,
instead of Repobox quietly acting as the bot. Linking that host again clears the mark.
Only the person's id, the provider and the reason are kept: never the token.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from redis.asyncio import Redis as AsyncRedis

from bot.core import keys
from bot.core.redisio import maybe_str, str_fields
from bot.identity.people import Provider

log = logging.getLogger(__name__)

TITLES = {Provider.GITHUB: "GitHub", Provider.GITLAB: "GitLab"}


@dataclass(frozen=True)
class BrokenLink:
    person_id: str
    provider: Provider
    why: str  # "GitHub no longer accepts the token (revoked or expired)"
    at: float

    @property
    def title(self) -> str:
        return TITLES[self.provider]


def _field(person_id: str, provider: Provider) -> str:
    return f"{person_id}/{provider.value}"


async def mark(redis: AsyncRedis, person_id: str, provider: Provider, why: str) -> None:
    """Record that the person's link to `provider` failed, and why (logged once)."""
    data = json.dumps({"why": why, "at": time.time()})
    if await redis.hset(keys.broken_links(), _field(person_id, provider), data):
        log.warning("person %s: linked %s credential is broken: %s", person_id, provider, why)


async def clear(redis: AsyncRedis, person_id: str, provider: Provider) -> None:
    await redis.hdel(keys.broken_links(), _field(person_id, provider))


async def get(redis: AsyncRedis, person_id: str, provider: Provider) -> BrokenLink | None:
    raw = maybe_str(await redis.hget(keys.broken_links(), _field(person_id, provider)))
    return _load(_field(person_id, provider), raw) if raw else None


async def of_person(redis: AsyncRedis, person_id: str) -> list[BrokenLink]:
    found = [await get(redis, person_id, provider) for provider in Provider]
    return [link for link in found if link is not None]


async def every(redis: AsyncRedis) -> list[BrokenLink]:
    """All broken links, oldest first."""
    return listed(str_fields(await redis.hgetall(keys.broken_links())))


def listed(raw: Mapping[str, str]) -> list[BrokenLink]:
    """The links of a `keys.broken_links()` hash read whole (the doctor reads it off the
    loop), oldest first."""
    found = [_load(name, value) for name, value in raw.items()]
    return sorted((link for link in found if link is not None), key=lambda link: link.at)


def _load(name: str, raw: str) -> BrokenLink | None:
    person_id, _, provider = name.rpartition("/")
    try:
        data = json.loads(raw)
        return BrokenLink(person_id, Provider(provider), str(data["why"]), float(data["at"]))
    except (ValueError, KeyError, TypeError):
        return None  # an entry of no shape we wrote: not shown
