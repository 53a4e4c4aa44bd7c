"""Who a GitHub or GitLab token belongs to, what it may do and how much rate limit is left.

One look-up serves three places: the OAuth callback (whose account is this?), the
settings page (a pasted token is checked before it is stored; the "test" button) and
`python app.py doctor` (is the bot's own token valid?). The token only ever travels in
an Authorization header; errors say what the host answered, never the token.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from github import GithubException
from gitlab import Gitlab
from gitlab.exceptions import GitlabError

from bot.core.config import Settings
from bot.core.errors import UpstreamError, UserError
from bot.core.retry import RetryPolicy
from bot.forges.clients import github_client, github_policy, gitlab_client, gitlab_policy
from bot.identity.people import Provider

TIMEOUT = 10.0
WHAT = "look up the token"


class TokenRefused(UserError):
    """The host does not accept the token (revoked, expired, mistyped)."""


@dataclass(frozen=True)
class TokenInfo:
    provider: Provider
    login: str
    name: str
    scopes: tuple[str, ...] | None  # None: the host does not say (GitHub fine-grained tokens)
    rate_limit_remaining: int | None

    @property
    def scopes_text(self) -> str:
        if self.scopes is None:
            return "fine-grained (no classic scopes)"
        return ", ".join(self.scopes) or "none"


def _refused(title: str, status: int | None) -> TokenRefused:
    return TokenRefused(
        f"{title} does not accept this token (HTTP {status}).",
        hint="Check that it is complete, not expired and not revoked.",
    )


def _remaining(headers: Mapping[str, object], header: str) -> int | None:
    value = str(headers.get(header, ""))
    return int(value) if value.isdigit() else None


def inspect_github(settings: Settings, token: str) -> TokenInfo:
    """`GET /user` with the token: who it is, its classic scopes and the calls left."""
    client = github_client(settings, token, TIMEOUT)
    try:
        user = github_policy(settings).call(WHAT, lambda: client.get_user().complete())
    except GithubException as error:
        if error.status in (401, 403):
            raise _refused("GitHub", error.status) from None
        raise UpstreamError(f"GitHub answered HTTP {error.status} for /user") from None
    headers = user.raw_headers  # PyGithub gives them lower-cased
    header = headers.get("x-oauth-scopes")
    scopes = (
        None if header is None else tuple(s.strip() for s in str(header).split(",") if s.strip())
    )
    return TokenInfo(
        Provider.GITHUB,
        user.login,
        user.name or user.login,
        scopes,
        _remaining(headers, "x-ratelimit-remaining"),
    )


def inspect_gitlab(settings: Settings, token: str) -> TokenInfo:
    """`GET /user` with the token, then what the token says of itself (its scopes)."""
    client = gitlab_client(settings, token, bearer=True, timeout=TIMEOUT)
    try:
        response = gitlab_policy(settings).call(WHAT, lambda: client.http_request("get", "/user"))
    except GitlabError as error:
        if error.response_code in (401, 403):
            raise _refused("GitLab", error.response_code) from None
        raise UpstreamError(f"GitLab answered HTTP {error.response_code} for /user") from None
    user = response.json()
    return TokenInfo(
        Provider.GITLAB,
        str(user["username"]),
        str(user.get("name") or user["username"]),
        _gitlab_scopes(client, gitlab_policy(settings)),
        _remaining(response.headers, "RateLimit-Remaining"),
    )


def _gitlab_scopes(client: Gitlab, policy: RetryPolicy) -> tuple[str, ...] | None:
    """A personal/project/group token describes itself; an OAuth token is introspected."""
    own = _optional(policy, lambda: client.http_get("/personal_access_tokens/self"))
    if own is not None:
        return _words(own.get("scopes"))
    info = _optional(policy, lambda: client.http_get(f"{client.url}/oauth/token/info"))
    if info is not None:
        return _words(info.get("scope") or info.get("scopes"))
    return None


def _optional(policy: RetryPolicy, get: Callable[[], object]) -> dict[str, object] | None:
    """The object GitLab answered, or None when it refused (this kind of token cannot ask)."""
    try:
        found = policy.call(WHAT, get)
    except GitlabError:
        return None
    return found if isinstance(found, dict) else None


def _words(raw: object) -> tuple[str, ...]:
    """Scopes as GitLab lists them: a list, or one space-separated string."""
    items = raw.split() if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return tuple(str(s) for s in items)


def inspect(settings: Settings, provider: Provider, token: str) -> TokenInfo:
    if provider is Provider.GITHUB:
        return inspect_github(settings, token)
    return inspect_gitlab(settings, token)
