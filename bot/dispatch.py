"""Enqueue RQ jobs by name, so `bot/` never imports `jobs/` (imports flow one way).

Job arguments are JSON (RQ's JSONSerializer, never pickle) and hold ids, not secrets.
Job ids are derived from the request, so enqueueing the same request twice is a no-op.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from redis import Redis
from rq import Queue
from rq.exceptions import DuplicateJobError
from rq.serializers import JSONSerializer

log = logging.getLogger(__name__)

RUN_QUEUE = "repobox"
FAST_QUEUE = "repobox-fast"


def host_queue(host: str) -> str:
    """The queue only the workers of one machine listen on (a session's workdir lives there)."""
    return f"repobox-host-{safe_id(host)}"


def safe_id(value: str, limit: int = 120) -> str:
    """RQ job ids may hold only letters, digits, `_` and `-` (Slack ts values hold `.`).

    A part of a longer id takes a smaller `limit`, so the whole still fits in 120."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", value)[:limit]


class Dispatcher:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def queue(self, name: str) -> Queue:
        return Queue(name, connection=self.redis, serializer=JSONSerializer)

    def enqueue(
        self,
        function: Callable[..., object] | str,
        *,
        job_id: str,
        queue: str = RUN_QUEUE,
        timeout: float = 600,
        **kwargs: Any,
    ) -> bool:
        """Enqueue `function(**kwargs)` once per `job_id`; False if that job already exists.

        Pass the function itself, so the type checker sees a renamed job; a dotted name is
        only for `bot/`, which must not import `jobs/` (imports flow handlers → jobs → bot)."""
        name = function if isinstance(function, str) else function.__name__
        target: Any = function  # RQ types the two forms as one type variable
        job_id = safe_id(job_id)
        try:
            self.queue(queue).enqueue(
                target,
                kwargs=kwargs,
                job_id=job_id,
                unique=True,
                job_timeout=int(timeout),
                result_ttl=3600,
                failure_ttl=7 * 24 * 3600,
                description=f"{name.rsplit('.', 1)[-1]} {job_id}",
            )
        except DuplicateJobError:
            log.info("job %s already enqueued; not enqueued again", job_id)
            return False
        return True

    def depth(self) -> dict[str, int]:
        """Jobs waiting per queue (for status and metrics)."""
        return {name: self.queue(name).count for name in (RUN_QUEUE, FAST_QUEUE)}
