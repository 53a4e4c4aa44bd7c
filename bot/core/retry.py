"""One retry policy for calls to other services, on tenacity: what is worth another try,
how long to wait, and when to give up and say so.

Each service names its transient failures (`classify`: a `Failure`, or None for "raise it
as it is"); the policy does the rest the same way for all of them: exponential backoff
from `backoff`, a `Retry-After` obeyed when the service asks (a pause longer than
`LONGEST_WAIT` is reported at once instead: it would hold a worker), `retries` retries at
most, one log line per retry. The named policies below are the ones Repobox uses. The
client libraries' own retries are switched off where a policy runs, so no call is retried
twice over. Calls that answer instead of raising (Slack's Web API wrapper) retry with
`until_landed`, on the same library; `retry_after` reads a service's `Retry-After` for all.
Redis reconnects are redis-py's and `bot.core.health`'s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NoReturn, TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    retry_if_result,
    wait_exponential,
)
from tenacity.stop import stop_base

from bot.core.config import Settings
from bot.core.errors import UpstreamError

log = logging.getLogger(__name__)

T = TypeVar("T")

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
LONGEST_WAIT = 120.0  # a service asking for a longer pause gets the failure reported instead
MODEL_STREAM_RETRIES = 3  # errors in the middle of a model's response, which its SDK cannot retry
MODEL_STREAM_BACKOFF = 0.5


def retry_after(headers: Mapping[str, object]) -> float | None:
    """The seconds a `Retry-After` header asks for (any capitalisation; a value or a list of
    values); None when it is absent or not a plain number of seconds."""
    raw = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    try:
        seconds = float(str(raw)) if raw is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds < float("inf") else None


@dataclass(frozen=True)
class Failure:
    """A transient failure: its HTTP status (None: no answer) and the wait the service asked."""

    status: int | None
    retry_after: float | None = None


Classify = Callable[[BaseException], Failure | None]
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class RetryPolicy:
    service: str  # "GitLab", "GitHub", "Anthropic": named in the log and the message people read
    classify: Classify  # a `Failure` for transient errors; None: raise the error as it is
    retries: int = 4
    backoff: float = 1.0  # seconds before the first retry; doubles each time
    sleep: Sleep = time.sleep  # a run passes its cancel event's `wait`, so a stop cuts it short

    def call(self, what: str, action: Callable[[], T]) -> T:
        """`action()`, retried; when the retries run out, an `UpstreamError` whose message can
        be shown as is: it names the service and what it answered, never a token or a URL."""
        return self._retrying(what, reraise=False)(action)

    def attempts(self, what: str) -> Retrying:
        """The same retries for code that cannot be one callable (a generator that yields
        while it tries): `for attempt in policy.attempts(…): with attempt: …`. When they run
        out, the last error is raised as it is, for the caller to word."""
        return self._retrying(what, reraise=True)

    def _retrying(self, what: str, *, reraise: bool) -> Retrying:
        return Retrying(
            sleep=self.sleep,
            retry=retry_if_exception(lambda error: self.classify(error) is not None),
            wait=self._wait,
            stop=_Stop(self),
            before_sleep=lambda state: self._log(what, state),
            reraise=reraise,
            retry_error_callback=None if reraise else lambda state: self._give_up(what, state),
        )

    def _failure(self, state: RetryCallState) -> tuple[BaseException, Failure]:
        error = state.outcome.exception() if state.outcome is not None else None
        failure = self.classify(error) if error is not None else None
        assert error is not None and failure is not None  # only transient failures get here
        return error, failure

    def _wait(self, state: RetryCallState) -> float:
        _, failure = self._failure(state)
        if failure.retry_after is not None:
            return failure.retry_after
        return wait_exponential(multiplier=self.backoff)(state)

    def _log(self, what: str, state: RetryCallState) -> None:
        error, failure = self._failure(state)
        log.warning(
            "%s %s failed (%s); retry %d/%d in %.2fs",
            self.service,
            what,
            failure.status or type(error).__name__,
            state.attempt_number,
            self.retries,
            state.upcoming_sleep,
        )

    def _give_up(self, what: str, state: RetryCallState) -> NoReturn:
        error, failure = self._failure(state)
        answer = f"answered {failure.status}" if failure.status else "did not answer"
        attempts = state.attempt_number
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        raise UpstreamError(
            f"{self.service} {answer} when I tried to {what}{tries}.",
            retry_after=failure.retry_after,
        ) from error


class _Stop(stop_base):
    """Out of retries, or asked to wait longer than `LONGEST_WAIT`."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    def __call__(self, state: RetryCallState) -> bool:
        _, failure = self.policy._failure(state)
        asked = failure.retry_after
        return state.attempt_number > self.policy.retries or (
            asked is not None and asked > LONGEST_WAIT
        )


# -- the named policies --------------------------------------------------------------------
def forge_api(service: str, classify: Classify, settings: Settings) -> RetryPolicy:
    """GitLab and GitHub, for the providers and the token and rights look-ups alike:
    `FORGE_RETRIES` (4) retries of a 429, a 5xx or a dropped connection, `FORGE_BACKOFF`
    (1 s) doubling, a `Retry-After` obeyed up to two minutes."""
    return RetryPolicy(service, classify, settings.forge_retries, settings.forge_backoff)


def model_stream(classify: Classify, sleep: Sleep) -> RetryPolicy:
    """Errors in the middle of an Anthropic response (its SDK retries whole requests
    itself): 3 retries, 0.5 s doubling, each wait cut short when the run is stopped."""
    return RetryPolicy(
        "Anthropic", classify, MODEL_STREAM_RETRIES, MODEL_STREAM_BACKOFF, sleep=sleep
    )


def until_landed(
    attempt: Callable[[], T],
    pause: Callable[[T], float | None],
    *,
    within: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Sleep = time.sleep,
) -> T:
    """For calls that answer rather than raise (Slack's wrapper): `attempt` again while
    `pause` asks for a wait (its seconds), for at most `within` seconds; the last answer
    either way."""
    give_up = clock() + within

    def answer(state: RetryCallState) -> T:
        assert state.outcome is not None
        result: T = state.outcome.result()
        return result

    retrying = Retrying(
        retry=retry_if_result(lambda result: pause(result) is not None),
        wait=lambda state: pause(answer(state)) or 0.0,
        stop=lambda state: clock() >= give_up,
        sleep=sleep,
        retry_error_callback=answer,
    )
    return retrying(attempt)
