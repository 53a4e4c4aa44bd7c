"""The doctor checks that the webhooks are subscribed to what Repobox listens for, per
repository, where the API shows it: GitHub's repository hooks, GitLab's project hooks. A
list the bot may not read says "needs admin rights" and is no failure. Against the fakes
(`fake.hooks`: tests/fakes/forge_hooks.py, the real APIs' shapes), through `run_all` as
`./dev doctor` runs it."""

from __future__ import annotations

from redis import Redis

from bot.core.config import Settings
from bot.doctor.check import Level
from bot.doctor.checks import run_all
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import DEFAULT_TOKEN, DEVELOPER, MAINTAINER, FakeGitLab

URL = "https://repobox.example/webhooks"
EVERY = ["issue_comment", "pull_request_review_comment", "pull_request", "issues", "workflow_run"]


def test_missing_webhook_events_are_named_per_repository_with_the_feature(
    settings: Settings, redis: Redis
) -> None:
    with FakeGitHub() as github, FakeGitLab() as gitlab:
        for name, role in (("octo/hooked", "admin"), ("octo/partial", "admin"),
                           ("octo/theirs", "write")):  # fmt: skip
            github.add_repo(name, "file:///nowhere", permissions={github.login: role})
        hooks = github.hooks
        hooks.add_hook("octo/hooked", f"{URL}/github", EVERY)
        hooks.add_hook("octo/partial", f"{URL}/github", ["issue_comment", "pull_request"])
        hooks.add_hook("octo/partial", f"{URL}/github", EVERY, active=False)  # off: not counted
        widgets = gitlab.add_project("acme/widgets", members={gitlab.bot.id: MAINTAINER})
        gitlab.add_project("acme/other", members={gitlab.bot.id: DEVELOPER})
        gitlab.hooks.add_hook(widgets.id, f"{URL}/gitlab", {"note_events", "merge_requests_events"})
        configured = settings.with_changes(
            github_api_url=github.url,
            github_token=github.token,
            gitlab_url=gitlab.url,
            gitlab_token=DEFAULT_TOKEN,
            default_provider="github",
            allowed_repos=frozenset({"octo/hooked", "octo/partial", "github:octo/theirs",
                                     "gitlab:acme/widgets", "gitlab:acme/other"}),
            min_free_mb=0,
        )  # fmt: skip

        checks = {c.name: c for c in run_all(configured, redis)}
        on_github = checks["Webhooks (GitHub)"]
        assert on_github.level is Level.WARN and on_github.ok
        assert on_github.detail.split("; ") == [
            "octo/hooked: all subscribed",
            "octo/partial: missing pull_request_review_comment (mentions in review threads), "
            "issues (triggers), check_suite or workflow_run or check_run (the CI fix)",
            "octo/theirs: can't see the hooks: needs admin rights",
        ]
        assert "Webhooks" in on_github.next_step and "docs/triggers.md" in on_github.next_step
        on_gitlab = checks["Webhooks (GitLab)"]
        assert on_gitlab.level is Level.WARN
        assert on_gitlab.detail.split("; ") == [
            "acme/other: can't see the hooks: needs admin rights",
            "acme/widgets: missing issues_events (triggers), pipeline_events (the CI fix)",
        ]
        assert github.token not in on_github.line and DEFAULT_TOKEN not in on_gitlab.line

        # With triggers off, what only triggers and the CI fix need is not asked for.
        quiet = {c.name: c for c in run_all(configured.with_changes(triggers=False), redis)}
        assert quiet["Webhooks (GitLab)"].level is Level.OK
        assert "acme/widgets: all subscribed" in quiet["Webhooks (GitLab)"].detail
        assert "octo/partial: missing pull_request_review_comment (mentions in review threads)" in (
            quiet["Webhooks (GitHub)"].detail.split("; ")
        )
