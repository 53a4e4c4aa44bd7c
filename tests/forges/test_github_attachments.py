"""Images in a GitHub issue reach the model: an upload on GitHub's own host is fetched with
the token and sent as an image block; an image anywhere else is named, never fetched."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from bot.core.config import Settings
from jobs.worker import runtime
from tests.agent_support import agent_settings, fake
from tests.attachment_support import PNG, elsewhere
from tests.conftest import MakeRepo, run_jobs
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.github import FakeGitHub, webhook_request
from tests.forge_harness import WebApp

__all__ = ["elsewhere", "fake"]  # fixtures

SECRET = "github-hook-secret"
REPO = "octo/widgets"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        yield server


def test_an_issue_image_reaches_the_model_and_an_outside_image_is_not_fetched(
    settings: Settings,
    redis: Redis,
    make_repo: MakeRepo,
    github: FakeGitHub,
    fake: FakeAnthropic,
    elsewhere: list[str],
    tmp_path: Path,
) -> None:
    origin = make_repo(files={"README.md": "# Widgets\n"})
    github.add_repo(REPO, origin.as_uri(), permissions={"alice": "write"})
    configured = agent_settings(settings, fake).with_changes(
        github_api_url=github.url,
        github_token=github.token,
        github_webhook_secret=SECRET,
        forge_retries=2,
        forge_backoff=0.01,
    )
    upload = github.uploads.add(PNG)
    body = f"The button is misplaced:\n\n![the page]({upload})\n"
    issue = github.add_issue(REPO, "Button misplaced", body, user="alice")
    outside = f"{elsewhere[0]}/pixel.png"
    comment = f'@repobox fix the layout <img src="{outside}" width="10">'
    payload = github.issue_comment_payload(REPO, issue.number, comment, user="alice")
    fake.script(Reply.text("The image shows the button at the left."))

    ctx = runtime.install(configured, redis)
    with WebApp(configured, redis) as app:
        request_body, headers = webhook_request(payload, SECRET)
        assert app.post("/webhooks/github", request_body, headers)[0] == 202
        run_jobs(ctx)

    content = fake.requests()[0]["messages"][0]["content"]
    images = [block for block in content if block["type"] == "image"]
    assert [i["source"]["data"] for i in images] == [base64.b64encode(PNG).decode()]
    assert len(github.uploads.fetched) == 1
    assert elsewhere[1:] == []  # never asked
    said = "\n".join(c.body for c in github.comments(REPO, issue.number))
    assert f"not fetched: {outside}" in said
