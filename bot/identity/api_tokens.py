"""Personal API tokens: how a script, a CI job or another bot acts as a person on `/api/v1/`.

A token is `rbx_` and 32 random bytes (URL-safe base64), shown once when it is made and
never again: Redis keeps only its SHA-256, so a copied dump signs no one in, and the key
expires with the token. Each has a name (what it is for), scopes (`read`; `write` also
starts sessions and sends prompts and commands), an expiry and the time it was last used,
which the settings page shows. Revoking deletes the key, so the next request is refused.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass, replace
from enum import StrEnum

from redis.asyncio import Redis as AsyncRedis

from bot.core import keys
from bot.core.errors import UserError
from bot.core.redisio import as_str, maybe_str
from bot.core.stored import JsonObject, dump, load

PREFIX = "rbx_"
MAX_DAYS = 366  # a token lives a year at most: a forgotten one expires by itself
NAME_LIMIT = 80
LAST_USED_EVERY = 60.0  # seconds between writes of "last used" (not one per request)


class Scope(StrEnum):
    READ = "read"  # list and read sessions, their diffs and events
    WRITE = "write"  # and start sessions, send prompts and commands


@dataclass(frozen=True)
class ApiToken:
    """What is stored and shown of a token: never the token itself."""

    id: str
    person_id: str
    name: str
    scopes: tuple[Scope, ...]
    created_at: float
    expires_at: float
    last_used: float | None = None

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes

    def to_dict(self) -> JsonObject:
        return dump(self)

    @classmethod
    def from_json(cls, raw: str) -> ApiToken:
        return load(cls, json.loads(raw))


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(value: str) -> bool:
    """A cheap check before any Redis call: our prefix and a sane length."""
    return value.startswith(PREFIX) and 20 <= len(value) <= 100 and value.isascii()


def _scopes(asked: list[str]) -> tuple[Scope, ...]:
    try:
        chosen = {Scope(s) for s in asked}
    except ValueError:
        raise UserError("A token's scopes are `read` and `write`.") from None
    if not chosen:
        raise UserError("Choose at least one scope: `read`, or `read` and `write`.")
    chosen.add(Scope.READ)  # whoever may write may read what they wrote
    return tuple(sorted(chosen))


class ApiTokens:
    """A person's API tokens, on the web process's async client."""

    def __init__(self, redis: AsyncRedis) -> None:
        self.redis = redis

    async def create(
        self, person_id: str, name: str, scopes: list[str], days: float
    ) -> tuple[str, ApiToken]:
        """A new token (in the clear: show it once, then forget it) and what is stored of it."""
        name = " ".join(name.split())[:NAME_LIMIT]
        if not name:
            raise UserError("Give the token a name, so you know later what uses it.")
        if not 0 < days <= MAX_DAYS:
            raise UserError(f"A token expires in 1 to {MAX_DAYS} days.")
        token = PREFIX + secrets.token_urlsafe(32)
        now = time.time()
        made = ApiToken(
            secrets.token_hex(6), person_id, name, _scopes(scopes), now, now + days * 86400
        )
        hashed = digest(token)
        async with self.redis.pipeline() as pipe:
            pipe.set(keys.api_token(hashed), json.dumps(made.to_dict()), exat=int(made.expires_at))
            pipe.hset(keys.api_tokens_of(person_id), made.id, hashed)
            await pipe.execute()
        return token, made

    async def of(self, person_id: str) -> list[ApiToken]:
        """The person's live tokens, newest first; expired ones are tidied away."""
        listed = {
            as_str(k): as_str(v)
            for k, v in (await self.redis.hgetall(keys.api_tokens_of(person_id))).items()
        }
        if not listed:
            return []
        raws = await self.redis.mget([keys.api_token(d) for d in listed.values()])
        found, gone = [], []
        for token_id, raw in zip(listed, raws, strict=True):
            text = maybe_str(raw)
            if text is None:
                gone.append(token_id)
            else:
                found.append(ApiToken.from_json(text))
        if gone:
            await self.redis.hdel(keys.api_tokens_of(person_id), *gone)
        return sorted(found, key=lambda t: t.created_at, reverse=True)

    async def revoke(self, person_id: str, token_id: str) -> bool:
        """Delete one of the person's tokens (someone else's id finds nothing)."""
        hashed = maybe_str(await self.redis.hget(keys.api_tokens_of(person_id), token_id[:40]))
        if hashed is None:
            return False
        async with self.redis.pipeline() as pipe:
            pipe.delete(keys.api_token(hashed))
            pipe.hdel(keys.api_tokens_of(person_id), token_id)
            await pipe.execute()
        return True

    async def authenticate(self, token: str) -> ApiToken | None:
        """The live token this is, with its last use recorded; None when it is unknown,
        revoked or expired (the three look alike to the caller, on purpose)."""
        if not looks_like_token(token):
            return None
        key = keys.api_token(digest(token))
        raw = maybe_str(await self.redis.get(key))
        if raw is None:
            return None
        found = ApiToken.from_json(raw)
        now = time.time()
        if found.expires_at <= now:
            return None
        if found.last_used is None or now - found.last_used > LAST_USED_EVERY:
            used = replace(found, last_used=now)
            await self.redis.set(key, json.dumps(used.to_dict()), keepttl=True, xx=True)
        return found
