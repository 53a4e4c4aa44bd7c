"""May this token write to that repository? Asked with the token itself, so the answer is
the person's own rights (or the bot's), not what the bot can see of them.

Write means what pushing a branch and opening a merge/pull request needs: GitHub's
`push` permission (write, maintain or admin), GitLab's Developer (30) or above, from a
project membership or a group one. The answer says plainly who lacks what.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import requests

from bot.core.config import Settings
from bot.core.errors import ConfigError, UpstreamError
from bot.identity.accounts import Provider

TIMEOUT = 10.0
DEVELOPER = 30


@dataclass(frozen=True)
class Rights:
    can_write: bool
    detail: str  # for people: "alice can push to acme/app", "… has Reporter access only"


GITLAB_ROLES = {10: "Guest", 15: "Planner", 20: "Reporter", 30: "Developer", 40: "Maintainer"}


def _get(url: str, token: str, title: str) -> requests.Response:
    try:
        return requests.get(
            url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        raise UpstreamError(f"{title} could not be reached ({type(error).__name__})") from None


def github_rights(settings: Settings, token: str, repo: str, who: str) -> Rights:
    response = _get(f"{settings.github_api_url}/repos/{repo}", token, "GitHub")
    if response.status_code == 401:
        return Rights(False, f"GitHub does not accept the token of {who} any more")
    if response.status_code in (403, 404):
        return Rights(False, f"{who} cannot see {repo} on GitHub")
    if not response.ok:
        raise UpstreamError(f"GitHub answered HTTP {response.status_code} for {repo}")
    permissions = response.json().get("permissions") or {}
    if permissions.get("push"):
        return Rights(True, f"{who} can push to {repo}")
    return Rights(False, f"{who} has read access only to {repo} on GitHub (write is needed)")


def gitlab_rights(settings: Settings, token: str, repo: str, who: str) -> Rights:
    if not settings.gitlab_url:
        raise ConfigError("GITLAB_URL is not set")
    url = f"{settings.gitlab_url}/api/v4/projects/{quote(repo, safe='')}"
    response = _get(url, token, "GitLab")
    if response.status_code == 401:
        return Rights(False, f"GitLab does not accept the token of {who} any more")
    if response.status_code in (403, 404):
        return Rights(False, f"{who} cannot see {repo} on GitLab")
    if not response.ok:
        raise UpstreamError(f"GitLab answered HTTP {response.status_code} for {repo}")
    permissions = response.json().get("permissions") or {}
    levels = [
        int((permissions.get(kind) or {}).get("access_level") or 0)
        for kind in ("project_access", "group_access")
    ]
    level = max(levels)
    if level >= DEVELOPER:
        return Rights(True, f"{who} can push to {repo}")
    role = GITLAB_ROLES.get(level, "no")
    return Rights(False, f"{who} has {role} access to {repo} on GitLab (Developer is needed)")


def rights(settings: Settings, provider: Provider, token: str, repo: str, who: str) -> Rights:
    """`who` names the token's owner in the answer ("you", "Repobox", a login)."""
    if provider is Provider.GITHUB:
        return github_rights(settings, token, repo, who)
    return gitlab_rights(settings, token, repo, who)
