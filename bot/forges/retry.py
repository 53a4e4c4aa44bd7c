"""One retry policy for the GitLab and GitHub APIs: 429s, 5xx and dropped connections.

The client libraries each retry differently (python-gitlab obeys 429s only; PyGithub's
default retries POST but not PATCH, and gives up with an exception of another family), so
their own retries are switched off and every call goes through `RetryPolicy.call`. When
the retries run out the caller gets an `UpstreamError` whose message can be shown to
people as is: it names the host and what it answered, never a token or a URL.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.core.errors import UpstreamError

log = logging.getLogger(__name__)

T = TypeVar("T")

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
LONGEST_WAIT = 120.0  # a host asking for a longer pause gets the failure reported instead


@dataclass(frozen=True)
class Failure:
    """A transient failure: its HTTP status (None: no answer) and the wait the host asked."""

    status: int | None
    retry_after: float | None = None


Classify = Callable[[Exception], Failure | None]


@dataclass(frozen=True)
class RetryPolicy:
    host: str  # "GitLab" or "GitHub", for the message people read
    classify: Classify  # a `Failure` for transient errors; None: raise the error as it is
    retries: int = 4
    backoff: float = 1.0
    sleep: Callable[[float], None] = time.sleep

    def call(self, what: str, action: Callable[[], T]) -> T:
        """Run `action`, retrying transient failures with exponential backoff."""
        attempt = 0
        while True:
            try:
                return action()
            except Exception as error:
                failure = self.classify(error)
                if failure is None:
                    raise
                wait = self._wait(attempt, failure)
                if wait is None:
                    raise UpstreamError(
                        self._message(what, failure, attempt + 1),
                        retry_after=failure.retry_after,
                    ) from error
                log.warning(
                    "%s %s failed (%s); retry %d/%d in %.2fs",
                    self.host,
                    what,
                    failure.status or "no answer",
                    attempt + 1,
                    self.retries,
                    wait,
                )
                self.sleep(wait)
                attempt += 1

    def _wait(self, attempt: int, failure: Failure) -> float | None:
        if attempt >= self.retries:
            return None
        if failure.retry_after is not None:
            return failure.retry_after if failure.retry_after <= LONGEST_WAIT else None
        return float(self.backoff * (2**attempt))

    def _message(self, what: str, failure: Failure, attempts: int) -> str:
        answer = f"answered {failure.status}" if failure.status else "did not answer"
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        return f"{self.host} {answer} when I tried to {what}{tries}."
