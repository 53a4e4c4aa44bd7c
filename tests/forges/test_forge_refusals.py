"""Issue 9 from a GitHub comment: what people type there never reaches git as an option.

A forge thread works on its own project (from the delivery), so a typed spec is answered,
not opened; a pull request whose branch looks like an option is refused in the thread.
Signed deliveries go to the real app; a `git` first on PATH records every git call.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis import Redis

from bot.core.config import Settings
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.conftest import MakeRepo, run_jobs
from tests.fakes.github import FakeGitHub, webhook_request
from tests.forge_harness import WebApp
from tests.git_spy import GitSpy

SECRET = "github-hook-secret"
REPO = "octo/widgets"


@dataclass
class Hub:
    fake: FakeGitHub
    app: WebApp
    ctx: JobContext

    def comment(self, number: int, body: str) -> None:
        payload = self.fake.issue_comment_payload(REPO, number, body, user="alice")
        body_bytes, headers = webhook_request(payload, SECRET)
        assert self.app.post("/webhooks/github", body_bytes, headers)[0] == 202
        run_jobs(self.ctx)

    def answers(self, number: int) -> list[str]:
        return [c.body for c in self.fake.comments(REPO, number) if c.user == self.fake.login]


@pytest.fixture
def hub(settings: Settings, redis: Redis, make_repo: MakeRepo) -> Iterator[Hub]:
    origin = make_repo()
    with FakeGitHub() as fake:
        fake.add_repo(REPO, origin.as_uri(), permissions={"alice": "write"})
        configured = settings.with_changes(
            github_api_url=fake.url,
            github_token=fake.token,
            github_webhook_secret=SECRET,
            forge_retries=1,
            forge_backoff=0.01,
        )
        ctx = runtime.install(configured, redis)
        with WebApp(configured, redis) as app:
            yield Hub(fake, app, ctx)


def test_a_typed_spec_in_a_comment_is_answered_never_opened(
    hub: Hub, git_spy: GitSpy, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    issue = hub.fake.add_issue(REPO, "Broken", "It is broken.", user="alice")
    for text in (
        f"@repobox new --upload-pack=touch${{IFS}}{marker};#://x hi",
        "@repobox new file:///proc/self/cwd hi",
        "@repobox new ~nosuchuser/x hi",
    ):
        hub.comment(issue.number, text)
        assert (
            hub.answers(issue.number)[-1]
            == f"Here I work on `{REPO}`: just tell me what to change."
        )
    assert hub.ctx.service.sessions.recent(include_archived=True) == []
    assert not marker.exists()
    assert git_spy.calls() == []


def test_a_pull_request_branch_that_looks_like_an_option_is_refused(
    hub: Hub, git_spy: GitSpy, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    pull = hub.fake.add_pull(REPO, f"--upload-pack=touch${{IFS}}{marker}", "Odd", user="alice")
    hub.comment(pull.number, "@repobox fix the typo")
    assert hub.answers(pull.number)[-1].startswith("`--upload-pack=touch${IFS}")
    assert "is not a valid branch name" in hub.answers(pull.number)[-1]
    assert hub.ctx.service.sessions.recent(include_archived=True) == []
    assert not marker.exists()
    assert git_spy.calls() == []
