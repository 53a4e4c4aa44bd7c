"""Taking an inbound request once: a sender that delivers it again (Slack's retry, a
webhook redelivered, a surface resending a command) finds it taken and changes nothing.

Each request is remembered under `keys.request(name)` for as long as its sender may
deliver it again; the TTLs are named here so every place that dedupes says how long, and
why, in one list.
"""

from __future__ import annotations

from redis.asyncio import Redis as AsyncRedis

from bot.core import keys
from bot.core.redisio import as_str

# Slack retries an event it thinks we missed three times within minutes (X-Slack-Retry-Num).
SLACK_EVENT_TTL = 24 * 3600
# GitLab and GitHub redeliver a webhook by hand, from the hook's page, days later.
FORGE_DELIVERY_TTL = 7 * 24 * 3600
# A command a surface resends (`new`, a prompt) answers with what the first one made.
NEW_SESSION_TTL = 7 * 24 * 3600
PROMPT_TTL = 7 * 24 * 3600  # taken by `SUBMIT` (bot.sessions.scripts), with the prompt


async def take(redis: AsyncRedis, name: str, ttl: int, value: str = "1") -> bool:
    """Record request `name` as taken (with what it produced, `value`); False when it was
    taken before."""
    return bool(await redis.set(keys.request(name), value, nx=True, ex=ttl))


async def taken_by(redis: AsyncRedis, name: str) -> str | None:
    """What request `name` produced when it was taken (e.g. the session it created)."""
    found = await redis.get(keys.request(name))
    return as_str(found) if found is not None else None


async def release(redis: AsyncRedis, *names: str) -> None:
    """Forget requests that were not handled after all, so the sender's retry gets a go."""
    if names:
        await redis.delete(*(keys.request(name) for name in names))
