"""Who a GitHub or GitLab token belongs to, what it may do and how much rate limit is left.

One look-up serves three places: the OAuth callback (whose account is this?), the
settings page (a pasted token is checked before it is stored; the "test" button) and
`python app.py doctor` (is the bot's own token valid?). The token only ever travels in
an Authorization header; errors say what the host answered, never the token.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests

from bot.core.config import Settings
from bot.core.errors import ConfigError, UpstreamError, UserError
from bot.identity.accounts import Provider

TIMEOUT = 10.0


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


def _get(url: str, token: str, title: str, accept: str = "application/json") -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", "Accept": accept}
    try:
        return requests.get(url, headers=headers, timeout=TIMEOUT, allow_redirects=False)
    except requests.RequestException as error:
        raise UpstreamError(f"{title} could not be reached ({type(error).__name__})") from None


def _remaining(response: requests.Response, header: str) -> int | None:
    value = response.headers.get(header, "")
    return int(value) if value.isdigit() else None


def _refused(title: str, response: requests.Response) -> TokenRefused:
    return TokenRefused(
        f"{title} does not accept this token (HTTP {response.status_code}).",
        hint="Check that it is complete, not expired and not revoked.",
    )


def inspect_github(settings: Settings, token: str) -> TokenInfo:
    response = _get(
        f"{settings.github_api_url}/user", token, "GitHub", "application/vnd.github+json"
    )
    if response.status_code in (401, 403):
        raise _refused("GitHub", response)
    if not response.ok:
        raise UpstreamError(f"GitHub answered HTTP {response.status_code} for /user")
    user = response.json()
    header = response.headers.get("X-OAuth-Scopes")
    scopes = None if header is None else tuple(s.strip() for s in header.split(",") if s.strip())
    return TokenInfo(
        Provider.GITHUB,
        str(user["login"]),
        str(user.get("name") or user["login"]),
        scopes,
        _remaining(response, "X-RateLimit-Remaining"),
    )


def inspect_gitlab(settings: Settings, token: str) -> TokenInfo:
    if not settings.gitlab_url:
        raise ConfigError("GITLAB_URL is not set")
    api = f"{settings.gitlab_url}/api/v4"
    response = _get(f"{api}/user", token, "GitLab")
    if response.status_code in (401, 403):
        raise _refused("GitLab", response)
    if not response.ok:
        raise UpstreamError(f"GitLab answered HTTP {response.status_code} for /user")
    user = response.json()
    return TokenInfo(
        Provider.GITLAB,
        str(user["username"]),
        str(user.get("name") or user["username"]),
        _gitlab_scopes(settings, token),
        _remaining(response, "RateLimit-Remaining"),
    )


def _gitlab_scopes(settings: Settings, token: str) -> tuple[str, ...] | None:
    """A personal/project/group token describes itself; an OAuth token is introspected."""
    own = _get(f"{settings.gitlab_url}/api/v4/personal_access_tokens/self", token, "GitLab")
    if own.ok:
        return tuple(str(s) for s in own.json().get("scopes", []))
    info = _get(f"{settings.gitlab_url}/oauth/token/info", token, "GitLab")
    if info.ok:
        raw = info.json().get("scope") or info.json().get("scopes") or []
        return tuple(str(s) for s in (raw.split() if isinstance(raw, str) else raw))
    return None


def inspect(settings: Settings, provider: Provider, token: str) -> TokenInfo:
    if provider is Provider.GITHUB:
        return inspect_github(settings, token)
    return inspect_gitlab(settings, token)
