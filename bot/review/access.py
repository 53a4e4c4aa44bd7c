"""May this person have a merge request reviewed? Asked from Slack or the API, where the
host cannot tell us who they are.

The rule (docs/review.md): a person who linked that host must be able to read the
repository with their own token, so nobody gets a review of code they cannot see. A
person who did not link it is refused under `REPOBOX_REQUIRE_LINKED`; otherwise the bot's
access is used, as for a session started from Slack. A review only comments, so read
access is enough; it never pushes.
"""

from __future__ import annotations

from github import GithubException
from gitlab.exceptions import GitlabError

from bot.core.config import Settings
from bot.core.errors import Forbidden, UpstreamError
from bot.forges.clients import github_client, github_policy, gitlab_client, gitlab_policy
from bot.identity.people import Credential, Provider

TIMEOUT = 10.0
REPORTER = 20
WHAT = "check who may read the repository"
KINDS = ("project_access", "group_access")


def check(
    settings: Settings, provider: Provider, credential: Credential | None, project: str
) -> str:
    """Who the review is asked as ("alice on GitHub", "the bot"); `Forbidden` if refused."""
    if credential is None:
        if settings.require_linked:
            raise Forbidden(
                f"Reviews on {provider.value} are asked as you: link your account first "
                "(`/repobox connect`)."
            )
        return "the bot"
    if provider is Provider.GITHUB:
        readable = _github_reads(settings, credential, project)
    else:
        readable = _gitlab_reads(settings, credential, project)
    if not readable:
        raise Forbidden(f"{credential.login} cannot read {project} on {provider.value}.")
    return f"{credential.login} on {provider.value}"


def _github_reads(settings: Settings, credential: Credential, project: str) -> bool:
    client = github_client(settings, credential.token, TIMEOUT)
    try:
        found = github_policy(settings).call(WHAT, lambda: client.get_repo(project).permissions)
    except GithubException as error:
        if error.status in (401, 403, 404):
            return False
        raise UpstreamError(f"GitHub answered HTTP {error.status} for {project}") from None
    return found is None or bool(found.pull)


def _gitlab_reads(settings: Settings, credential: Credential, project: str) -> bool:
    client = gitlab_client(settings, credential.token, bearer=True, timeout=TIMEOUT)
    try:
        found = gitlab_policy(settings).call(WHAT, lambda: client.projects.get(project))
    except GitlabError as error:
        if error.response_code in (401, 403, 404):
            return False
        raise UpstreamError(f"GitLab answered HTTP {error.response_code} for {project}") from None
    if found.attributes.get("visibility") in ("public", "internal"):
        return True
    permissions = found.attributes.get("permissions")
    return max(_level(permissions, kind) for kind in KINDS) >= REPORTER


def _level(permissions: object, kind: str) -> int:
    got = permissions.get(kind) if isinstance(permissions, dict) else None
    level = got.get("access_level") if isinstance(got, dict) else None
    return level if isinstance(level, int) and not isinstance(level, bool) else 0
