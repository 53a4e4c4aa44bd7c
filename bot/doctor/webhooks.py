"""Are the webhooks subscribed to what Repobox listens for? Checked where the API shows it.

GitHub with a token: each repository's hooks (`GET /repos/{o}/{r}/hooks`, their `events`),
which needs admin rights on it; GitHub App: the App's own events (`GET /app`). GitLab: each
project's hooks (`GET /projects/:id/hooks`, their `*_events` flags). The repositories are
those REPOBOX_ALLOWED_REPOS names and those with the latest sessions, a few at most. A hook
list the token may not read is said ("needs admin rights"), not failed: the hooks may well
be right. A missing event is a warning naming the feature that needs it, since a
deployment may leave a feature out on purpose.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import gitlab
from github import GithubException
from redis import Redis
from redis.exceptions import RedisError

from bot.core import keys
from bot.core.config import Settings
from bot.core.redisio import as_str
from bot.doctor.check import Check, Level, fine
from bot.forges import github_app
from bot.forges.clients import github_client, github_message, gitlab_client

log = logging.getLogger(__name__)

TIMEOUT = 10.0
MOST = 5  # repositories looked at per host
NAME = "Webhooks"
# (feature, events any one of which serves it); triggers and the CI fix only when on.
GITHUB = (
    ("mentions", ("issue_comment",)),
    ("mentions in review threads", ("pull_request_review_comment",)),
    ("a merged or closed PR ends its place", ("pull_request",)),
)
GITHUB_TRIGGERED = (
    ("triggers", ("issues",)),
    ("the CI fix", ("check_suite", "workflow_run", "check_run")),
)
GITLAB = (
    ("mentions", ("note_events",)),
    ("a merged or closed MR ends its place", ("merge_requests_events",)),
)
GITLAB_TRIGGERED = (("triggers", ("issues_events",)), ("the CI fix", ("pipeline_events",)))


def check_webhooks(settings: Settings, redis: Redis | None, working: set[str]) -> list[Check]:
    """One line per host in `working` (its own check passed: "GitHub", "GitLab"); none for
    a host not set up or whose token is refused (its own line says so)."""
    found: list[Check] = []
    if "GitHub" in working and github_app.enabled(settings):
        found.append(_github_app(settings))
    elif "GitHub" in working and settings.github_token:
        repos = repositories(settings, redis, "github")
        found.append(_per_repository(settings, "GitHub", repos, _github_events))
    if "GitLab" in working and settings.gitlab_url and settings.gitlab_token:
        repos = repositories(settings, redis, "gitlab")
        found.append(_per_repository(settings, "GitLab", repos, _gitlab_events))
    return found


def repositories(settings: Settings, redis: Redis | None, provider: str) -> list[str]:
    """Configured ones first (REPOBOX_ALLOWED_REPOS), then those of the latest sessions."""
    named = sorted(
        r.partition(":")[2] if ":" in r else r
        for r in settings.allowed_repos
        if r.startswith(f"{provider}:") or (":" not in r and settings.default_provider == provider)
    )
    recent: list[str] = []
    if redis is not None:
        try:
            recent = [as_str(k) for k in redis.zrevrange(keys.repositories(), 0, 50)]
        except RedisError as error:
            log.warning("recent repositories not read: %s", error)
    named += [k.partition(":")[2] for k in recent if k.startswith(f"{provider}:")]
    return list(dict.fromkeys(n for n in named if "/" in n))[:MOST]


def needed(provider: str, settings: Settings) -> tuple[tuple[str, tuple[str, ...]], ...]:
    base, triggered = (
        (GITHUB, GITHUB_TRIGGERED) if provider == "github" else (GITLAB, GITLAB_TRIGGERED)
    )
    return base + (triggered if settings.triggers else ())


def missing(provider: str, settings: Settings, events: set[str]) -> list[str]:
    """`event (feature)` for each feature none of whose events is subscribed."""
    if "*" in events:
        return []
    return [
        f"{' or '.join(names)} ({feature})"
        for feature, names in needed(provider, settings)
        if not events & set(names)
    ]


class _Hidden(Exception):
    """The token may not read the hooks (403/404: GitHub and GitLab hide them)."""


def _github_events(settings: Settings, project: str) -> set[str]:
    client = github_client(settings, settings.github_token or "-", TIMEOUT)
    try:
        hooks = list(client.get_repo(project).get_hooks())
    except GithubException as error:
        if error.status in (403, 404):
            raise _Hidden from None
        raise RuntimeError(f"HTTP {error.status}: {github_message(error)}") from None
    return {e for h in hooks if h.active for e in h.events}


def _gitlab_events(settings: Settings, project: str) -> set[str]:
    client = gitlab_client(settings, settings.gitlab_token, timeout=TIMEOUT)
    try:
        hooks = client.projects.get(project, lazy=True).hooks.list(get_all=True)
    except gitlab.exceptions.GitlabError as error:
        if error.response_code in (401, 403, 404):
            raise _Hidden from None
        raise RuntimeError(f"HTTP {error.response_code}: {error.error_message}") from None
    names = [n for _, flags in GITLAB + GITLAB_TRIGGERED for n in flags]
    return {n for h in hooks for n in names if getattr(h, n, False)}


def _per_repository(
    settings: Settings, host: str, repos: Iterable[str], read: Callable[[Settings, str], set[str]]
) -> Check:
    name = f"{NAME} ({host})"
    provider = host.lower()
    listed = list(repos)
    if not listed:
        return fine(name, "no repository to look at yet (no session, no REPOBOX_ALLOWED_REPOS)")
    said: list[str] = []
    short = False
    for project in listed:
        try:
            events = read(settings, project)
        except _Hidden:
            said.append(f"{project}: can't see the hooks: needs admin rights")
            continue
        except (RuntimeError, OSError) as error:
            said.append(f"{project}: hooks not read ({str(error)[:120]})")
            continue
        gaps = missing(provider, settings, events)
        if gaps:
            short = True
            said.append(f"{project}: missing {', '.join(gaps)}")
        else:
            said.append(f"{project}: all subscribed")
    step = (
        f"Add the missing events to the repository's webhook ({host}: Settings → Webhooks); "
        "docs/triggers.md lists what each feature needs."
        if short
        else ""
    )
    return Check(name, Level.WARN if short else Level.OK, "; ".join(said), step)


def _github_app(settings: Settings) -> Check:
    name = f"{NAME} (GitHub App)"
    try:
        app = github_app.integration(settings, TIMEOUT).get_app()
        events = set(app.events or [])
    except GithubException as error:
        return fine(name, f"the App's events not read (HTTP {error.status}); see the GitHub line")
    except (OSError, ValueError, TypeError) as error:
        return fine(name, f"the App's events not read ({str(error)[:120]})")
    gaps = missing("github", settings, events)
    if not gaps:
        return fine(name, f"App {app.slug} subscribes to every event Repobox uses")
    return Check(
        name,
        Level.WARN,
        f"App {app.slug} is missing {', '.join(gaps)}",
        "Tick those events in the App's settings (Permissions & events → Subscribe to events).",
    )
