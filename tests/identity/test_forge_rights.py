"""Rights checked with the person's own token, against the fake GitHub and GitLab."""

from __future__ import annotations

import pytest

from bot.core.config import Settings
from bot.identity.people import Provider
from bot.identity.rights import rights
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import DEVELOPER, MAINTAINER, REPORTER, FakeGitLab


def test_github_write_is_push_permission(settings: Settings) -> None:
    with FakeGitHub() as fake:
        fake.add_repo("acme/app", "file:///nowhere", permissions={"wri": "write", "rea": "read"})
        fake.add_repo("acme/secret", "file:///nowhere", private=True)
        for login in ("wri", "rea", "out"):
            fake.add_user(login, token=f"ghp_{login}{'x' * 30}")
        own = settings.with_changes(github_api_url=fake.url)

        def check(login: str, repo: str = "acme/app") -> tuple[bool, str]:
            found = rights(own, Provider.GITHUB, f"ghp_{login}{'x' * 30}", repo, login)
            return found.can_write, found.detail

        assert check("wri") == (True, "wri can push to acme/app")
        assert check("rea") == (
            False,
            "rea has read access only to acme/app on GitHub (write is needed)",
        )
        assert check("out", "acme/secret") == (False, "out cannot see acme/secret on GitHub")
        revoked = rights(own, Provider.GITHUB, "ghp_revoked" + "x" * 30, "acme/app", "you")
        assert revoked.detail == "GitHub does not accept the token of you any more"


@pytest.mark.parametrize(
    ("level", "can", "detail"),
    [
        (DEVELOPER, True, "bob can push to acme/app"),
        (MAINTAINER, True, "bob can push to acme/app"),
        (REPORTER, False, "bob has Reporter access to acme/app on GitLab (Developer is needed)"),
        (None, False, "bob has no access to acme/app on GitLab (Developer is needed)"),
    ],
)
def test_gitlab_write_is_developer_or_above(
    settings: Settings, level: int | None, can: bool, detail: str
) -> None:
    with FakeGitLab() as fake:
        bob = fake.add_user("bob", token="glpat-bobbobbobbobbob")
        project = fake.add_project("acme/app")
        if level is not None:
            fake.add_member(project.id, bob, level)
        own = settings.with_changes(gitlab_url=fake.url)
        found = rights(own, Provider.GITLAB, "glpat-bobbobbobbobbob", "acme/app", "bob")
        assert (found.can_write, found.detail) == (can, detail)
        refused = rights(own, Provider.GITLAB, "glpat-unknown-token", "acme/app", "you")
        assert refused.detail == "GitLab does not accept the token of you any more"
        assert not refused.can_write
