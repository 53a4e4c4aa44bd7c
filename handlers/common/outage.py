"""A Redis outage is not the sender's fault: answer 503 with Retry-After, so Slack and the
forges deliver again later and nothing is lost. A bug stays a 4xx (a retry would only
crash again), and so does malformed input."""

from __future__ import annotations

from redis.exceptions import RedisError

RETRY_AFTER_SECONDS = 10
STATUS = 503


def is_outage(error: BaseException) -> bool:
    """Whether Redis (not our code, not the payload) is what failed, anywhere in the chain."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, RedisError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def headers() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_SECONDS)}
