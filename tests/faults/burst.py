"""A stand-in for a comment job (a webhook's parse, reply and reaction): it holds a worker
for a fixed time, so a burst of them has a known cost. Enqueued by name, like real jobs."""

from __future__ import annotations

import time


def comment_job(seconds: float) -> None:
    time.sleep(seconds)
