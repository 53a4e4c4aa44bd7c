"""One-time sign-in links: for the operator (`python app.py login`, the start-up banner)
and for `/repobox connect` and the App Home. On `redis.asyncio`: the web process awaits
them on its shared client; the CLI runs them with `bot.core.redisio.run_async`.

The link carries a random token; Redis keeps only its SHA-256, with the person it signs
in as, for a few minutes. Redeeming takes the key with GETDEL, so a link works once even
when two tabs race for it, and a copied Redis dump holds nothing that signs anyone in.
"""

from __future__ import annotations

import hashlib
import secrets

from redis.asyncio import Redis as AsyncRedis

from bot.core import keys
from bot.core.config import Settings
from bot.core.redisio import as_str
from bot.identity.accounts import AccountStore
from bot.identity.people import Identity

DEFAULT_TTL = 10 * 60
PATH = "/account/link/"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(
    settings: Settings, redis: AsyncRedis, person_id: str, ttl: int = DEFAULT_TTL
) -> str:
    """A URL that signs in as `person_id` once, within `ttl` seconds."""
    token = secrets.token_urlsafe(32)
    await redis.set(keys.signin_token(_digest(token)), person_id, ex=ttl)
    return f"{settings.public_url}{PATH}{token}"


async def redeem(redis: AsyncRedis, token: str) -> str | None:
    """The person the link signs in as, or None if it is unknown, used or expired."""
    if not token or len(token) > 128:
        return None
    raw = await redis.getdel(keys.signin_token(_digest(token)))
    return as_str(raw) if raw is not None else None


async def connect_link(accounts: AccountStore, team: str, user: str, name: str) -> str:
    """What `/repobox connect` answers privately: a one-time link that signs this Slack
    user in to the settings page, creating their account on first use."""
    person = await accounts.person_for(Identity.slack(team, user), name)
    return await issue(accounts.settings, accounts.redis, person.id)
