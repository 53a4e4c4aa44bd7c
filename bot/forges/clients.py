"""PyGithub and python-gitlab clients, built one way for the providers and for the token
and rights look-ups, and what each library's errors mean to the retry policy.

The libraries each retry differently (python-gitlab obeys 429s only; PyGithub's default
retries POST but not PATCH, and gives up with an exception of another family), so their
retries of server errors are off here and `bot.core.retry.forge_api` does it, the same
way for every call. Clients are lazy: an object costs one request, when it is read.
"""

from __future__ import annotations

import time

import gitlab
import requests
from github import Auth, Github, GithubException, RateLimitExceededException
from gitlab.exceptions import GitlabError

from bot.core.config import Settings
from bot.core.errors import ConfigError
from bot.core.retry import TRANSIENT_STATUSES, Failure, RetryPolicy, forge_api, retry_after

GITLAB_LONGEST_PAUSE = 12  # seconds python-gitlab may sleep for one 429 (ten at the most)
SECONDARY_LIMIT_WAIT = 60.0  # GitHub: "wait at least one minute" without a Retry-After


def github_client(settings: Settings, token: str | Auth.Auth, timeout: float = 30) -> Github:
    """PyGithub against `GITHUB_API_URL`; no retries or write delays of its own. `token` is
    a token, or an `Auth` that finds one per request (a GitHub App's installation)."""
    return Github(
        base_url=settings.github_api_url,
        auth=Auth.Token(token) if isinstance(token, str) else token,
        timeout=int(timeout),
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
        lazy=True,
    )


def gitlab_client(
    settings: Settings, token: str | None, *, bearer: bool = False, timeout: float = 30
) -> gitlab.Gitlab:
    """python-gitlab against `GITLAB_URL`; `bearer` sends the token as OAuth does (an OAuth
    token is only accepted that way, a personal one either way)."""
    if not settings.gitlab_url:
        raise ConfigError("GITLAB_URL is not set")
    return gitlab.Gitlab(
        url=settings.gitlab_url,
        private_token=None if bearer else token,
        oauth_token=token if bearer else None,
        timeout=timeout,
        retry_transient_errors=False,  # the policy does it, with its own backoff
        session=_gitlab_session(),
    )


def _gitlab_session() -> requests.Session:
    session = requests.Session()
    session.hooks["response"].append(_bounded_pause)
    return session


def _bounded_pause(response: requests.Response, *_: object, **__: object) -> requests.Response:
    """python-gitlab sleeps out a 429's `Retry-After` (or until `RateLimit-Reset`) itself, up
    to ten times, reading the header with `int()`: a host asking for an hour would hold a
    worker for ten, and one asking for "soon" would crash the call. So a 429's pause is cut
    to `GITLAB_LONGEST_PAUSE` and an unreadable one dropped (python-gitlab then backs off by
    itself, from 0.1 s doubling)."""
    if response.status_code == 429:
        wait = retry_after(response.headers)
        response.headers.pop("RateLimit-Reset", None)
        if wait is None:
            response.headers.pop("Retry-After", None)
        else:
            response.headers["Retry-After"] = str(min(int(wait), GITLAB_LONGEST_PAUSE))
    return response


def github_policy(settings: Settings) -> RetryPolicy:
    return forge_api("GitHub", github_failure, settings)


def gitlab_policy(settings: Settings) -> RetryPolicy:
    return forge_api("GitLab", gitlab_failure, settings)


def github_failure(error: BaseException) -> Failure | None:
    """5xx, 429 and rate limits (with the wait GitHub asks for), and dropped connections."""
    if isinstance(error, GithubException):
        wait = retry_after(error.headers or {})
        if isinstance(error, RateLimitExceededException) or (
            error.status == 403 and "rate limit" in github_message(error).lower()
        ):
            reset = _header(error, "X-RateLimit-Reset")
            if wait is None and _header(error, "X-RateLimit-Remaining") == "0" and reset:
                wait = max(0.0, float(reset) - time.time()) + 1
            return Failure(error.status, wait if wait is not None else SECONDARY_LIMIT_WAIT)
        if error.status in TRANSIENT_STATUSES:
            return Failure(error.status, wait)
        return None
    return _dropped(error)


def gitlab_failure(error: BaseException) -> Failure | None:
    if isinstance(error, GitlabError) and error.response_code in TRANSIENT_STATUSES:
        return Failure(error.response_code)
    return _dropped(error)


def github_message(error: GithubException) -> str:
    """What GitHub said, in its own words (its message and those of its `errors`)."""
    data = error.data if isinstance(error.data, dict) else {}
    parts = [str(data.get("message") or "")]
    for item in data.get("errors") or []:
        if isinstance(item, dict) and item.get("message"):
            parts.append(str(item["message"]))
    return "; ".join(p for p in parts if p)


def _dropped(error: BaseException) -> Failure | None:
    if isinstance(error, requests.ConnectionError | requests.Timeout):
        return Failure(None)
    return None


def _header(error: GithubException, name: str) -> str | None:
    for key, value in (error.headers or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None
