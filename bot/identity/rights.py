"""May this token write to that repository? Asked with the token itself, so the answer is
the person's own rights (or the bot's), not what the bot can see of them.

Write means what pushing a branch and opening a merge/pull request needs: GitHub's
`push` permission (write, maintain or admin), GitLab's Developer (30) or above, from a
project membership or a group one. The answer says plainly who lacks what.
"""

from __future__ import annotations

from dataclasses import dataclass

from github import GithubException
from gitlab.exceptions import GitlabError

from bot.core.config import Settings
from bot.core.errors import UpstreamError
from bot.forges.clients import github_client, github_policy, gitlab_client, gitlab_policy
from bot.identity.people import Provider

TIMEOUT = 10.0
DEVELOPER = 30
WHAT = "check who may write to the repository"


@dataclass(frozen=True)
class Rights:
    can_write: bool
    detail: str  # for people: "alice can push to acme/app", "… has Reporter access only"
    refused: bool = False  # the host refused the token itself (401): revoked or expired


GITLAB_ROLES = {10: "Guest", 15: "Planner", 20: "Reporter", 30: "Developer", 40: "Maintainer"}
KINDS = ("project_access", "group_access")  # a project membership, or one through a group


def github_rights(settings: Settings, token: str, repo: str, who: str) -> Rights:
    client = github_client(settings, token, TIMEOUT)
    try:
        found = github_policy(settings).call(WHAT, lambda: client.get_repo(repo).permissions)
    except GithubException as error:
        if error.status == 401:
            return Rights(False, f"GitHub does not accept the token of {who} any more", True)
        if error.status in (403, 404):
            return Rights(False, f"{who} cannot see {repo} on GitHub")
        raise UpstreamError(f"GitHub answered HTTP {error.status} for {repo}") from None
    if found is not None and found.push:
        return Rights(True, f"{who} can push to {repo}")
    return Rights(False, f"{who} has read access only to {repo} on GitHub (write is needed)")


def gitlab_rights(settings: Settings, token: str, repo: str, who: str) -> Rights:
    client = gitlab_client(settings, token, bearer=True, timeout=TIMEOUT)
    try:
        project = gitlab_policy(settings).call(WHAT, lambda: client.projects.get(repo))
    except GitlabError as error:
        if error.response_code == 401:
            return Rights(False, f"GitLab does not accept the token of {who} any more", True)
        if error.response_code in (403, 404):
            return Rights(False, f"{who} cannot see {repo} on GitLab")
        raise UpstreamError(f"GitLab answered HTTP {error.response_code} for {repo}") from None
    level = max(_access_level(project.attributes.get("permissions"), kind) for kind in KINDS)
    if level >= DEVELOPER:
        return Rights(True, f"{who} can push to {repo}")
    role = GITLAB_ROLES.get(level, "no")
    return Rights(False, f"{who} has {role} access to {repo} on GitLab (Developer is needed)")


def _access_level(permissions: object, kind: str) -> int:
    """The access level one kind of membership grants (0: none)."""
    found = permissions.get(kind) if isinstance(permissions, dict) else None
    level = found.get("access_level") if isinstance(found, dict) else None
    return level if isinstance(level, int) and not isinstance(level, bool) else 0


def rights(settings: Settings, provider: Provider, token: str, repo: str, who: str) -> Rights:
    """`who` names the token's owner in the answer ("you", "Repobox", a login)."""
    if provider is Provider.GITHUB:
        return github_rights(settings, token, repo, who)
    return gitlab_rights(settings, token, repo, who)
