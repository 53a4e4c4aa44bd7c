"""A GitLab host's 429 pauses are bounded: python-gitlab sleeps out `Retry-After` itself (up
to ten times) and reads it with `int()`, so an hour's pause would hold a worker for ten and
a pause of "soon" would crash the call. Real python-gitlab against the fake GitLab."""

from __future__ import annotations

import time

import pytest

from bot.core.config import Settings
from bot.forges.clients import GITLAB_LONGEST_PAUSE, gitlab_client
from tests.conftest import MakeRepo
from tests.fakes.gitlab import DEFAULT_TOKEN, MAINTAINER, FakeGitLab


@pytest.mark.parametrize("asked", ["3600", "soon"])
def test_a_429_asking_for_an_hour_or_for_soon_is_waited_out_briefly(
    settings: Settings, make_repo: MakeRepo, asked: str
) -> None:
    with FakeGitLab() as fake:
        project = fake.add_project(
            "acme/widgets", make_repo().as_uri(), members={fake.bot.id: MAINTAINER}
        )
        path = f"/api/v4/projects/{project.id}"
        reset = str(int(time.time()) + 3600)
        fake.fail_next(path, 429, headers={"Retry-After": asked, "RateLimit-Reset": reset})
        client = gitlab_client(settings.with_changes(gitlab_url=fake.url), DEFAULT_TOKEN)
        began = time.monotonic()
        found = client.projects.get(project.id)
        took = time.monotonic() - began
    assert found.path_with_namespace == "acme/widgets"
    assert took < GITLAB_LONGEST_PAUSE + 5, f"waited {took:.1f} s"
    asked_twice = [c for c in fake.calls if c.path == path]
    assert len(asked_twice) == 2  # refused once, then answered
