"""Comments run in the order they were written, whichever worker takes them: two real
workers, the real app on a port, the fake GitHub answering some 👀 reactions late."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from bot.core.config import Settings
from bot.sessions.session import Session, SessionState
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.conftest import MakeRepo, WorkerProcess, git, run_jobs, wait_until
from tests.fakes.github import FakeGitHub, webhook_request
from tests.fakes.slowness import slow_down
from tests.forge_harness import WebApp

SECRET = "github-hook-secret"
REPO = "octo/widgets"


class Stage:
    """The fake GitHub (set up before it starts), then the app and two real workers."""

    def __init__(
        self, settings: Settings, redis: Redis, origin: Path, start_worker: Callable[..., Any]
    ) -> None:
        self.fake = FakeGitHub()
        self.repo_id = self.fake.add_repo(REPO, origin.as_uri(), permissions={"alice": "write"}).id
        self.origin = origin
        self._settings, self._redis, self._start_worker = settings, redis, start_worker
        self.app: WebApp | None = None
        self.ctx: JobContext | None = None

    def start(self) -> JobContext:
        fake = self.fake.start()
        configured = self._settings.with_changes(
            github_api_url=fake.url,
            github_token=fake.token,
            github_webhook_secret=SECRET,
            forge_retries=2,
            forge_backoff=0.01,
        )
        self.ctx = runtime.install(configured, self._redis)
        env = {
            "GITHUB_API_URL": fake.url,
            "GITHUB_TOKEN": fake.token,
            "REPOBOX_FORGE_RETRIES": "2",
            "REPOBOX_FORGE_BACKOFF": "0.01",
        }
        self._start_worker(**env)
        self._start_worker(**env)  # two workers take the comments' jobs at once
        self.app = WebApp(configured, self._redis).__enter__()
        return self.ctx

    def stop(self) -> None:
        if self.app is not None:
            self.app.__exit__(None, None, None)
        self.fake.stop()

    def payload(self, number: int, body: str) -> dict[str, Any]:
        return self.fake.issue_comment_payload(REPO, number, body, user="alice")

    def deliver(self, payload: dict[str, Any]) -> None:
        assert self.app is not None
        body, headers = webhook_request(payload, SECRET)
        assert self.app.post("/webhooks/github", body, headers)[0] == 202

    def session(self, number: int) -> Session | None:
        assert self.ctx is not None
        return self.ctx.service.sessions.find_by_thread("github", f"{self.repo_id}:issue:{number}")


@pytest.fixture
def stage(
    settings: Settings,
    redis: Redis,
    make_repo: MakeRepo,
    start_worker: Callable[..., WorkerProcess],
) -> Iterator[Stage]:
    stage = Stage(settings, redis, make_repo(files={"README.md": "# Hello\n"}), start_worker)
    try:
        yield stage
    finally:
        stage.stop()


def _reaction_path(comment_id: int) -> str:
    return f"/repos/{REPO}/issues/comments/{comment_id}/reactions"


def test_undo_then_ship_and_a_burst_run_in_the_order_written(stage: Stage) -> None:
    fake = stage.fake
    issue = fake.add_issue(REPO, "Counting", "Please count.", user="alice")
    first = stage.payload(issue.number, "@repobox write log.txt: 0")
    burst = [stage.payload(issue.number, f"@repobox append log.txt: {n}") for n in (1, 2, 3, 4)]
    undo = stage.payload(issue.number, "@repobox undo")
    ship = stage.payload(issue.number, "@repobox ship it")
    # The earlier a comment, the later GitHub answers its 👀: each would overtake the one
    # before it if its job went straight to the session.
    written = [*burst, undo, ship]
    for late, payload in zip(range(len(written), 0, -1), written, strict=True):
        slow_down(fake, _reaction_path(payload["comment"]["id"]), 0.25 * late)
    ctx = stage.start()

    stage.deliver(first)
    wait_until(lambda: stage.session(issue.number), timeout=60, what="the session")
    for payload in written:
        stage.deliver(payload)
        time.sleep(0.003)  # a few milliseconds apart, as people and scripts write

    wait_until(lambda: fake.pulls(REPO), timeout=120, what="the pull request")
    session = stage.session(issue.number)
    assert session is not None
    wait_until(
        lambda: ctx.service.sessions.get(session.id).state is SessionState.PUSHED,
        timeout=60,
        what="the session pushed",
    )
    # `undo` ran after `append 4` and before `ship it`: the shipped branch has 0..3, in order.
    assert git("show", f"{session.work_branch}:log.txt", cwd=stage.origin) == "0\n1\n2\n3\n"
    bodies = [c.body for c in fake.comments(REPO, issue.number) if c.user == fake.login]
    assert not any("went wrong" in body for body in bodies)


def test_comments_delivered_out_of_order_run_in_the_forges_order_on_one_worker(
    settings: Settings, redis: Redis, make_repo: MakeRepo
) -> None:
    """GitHub delivered the later comment first, and a reader's comment sits between: one
    worker takes the later job first, waits for nobody, and the earlier job runs both."""
    origin = make_repo(files={"README.md": "# Hello\n"})
    with FakeGitHub() as fake:
        fake.add_repo(REPO, origin.as_uri(), permissions={"alice": "write", "eve": "read"})
        configured = settings.with_changes(
            github_api_url=fake.url, github_token=fake.token, github_webhook_secret=SECRET
        )
        ctx = runtime.install(configured, redis)
        issue = fake.add_issue(REPO, "Counting", "Please count.", user="alice")
        with WebApp(configured, redis) as app:

            def deliver(payload: dict[str, Any]) -> None:
                body, headers = webhook_request(payload, SECRET)
                assert app.post("/webhooks/github", body, headers)[0] == 202

            first = fake.issue_comment_payload(
                REPO, issue.number, "@repobox write a.txt: 1", user="alice"
            )
            refused = fake.issue_comment_payload(REPO, issue.number, "@repobox hi", user="eve")
            second = fake.issue_comment_payload(
                REPO, issue.number, "@repobox append a.txt: 2", user="alice"
            )
            for payload in (second, refused, first):  # arrival order, not creation order
                deliver(payload)
            run_jobs(ctx)
            third = fake.issue_comment_payload(REPO, issue.number, "@repobox ship it", user="alice")
            deliver(third)  # the lane is free again: nothing left behind blocks it
            run_jobs(ctx)

        [pull] = fake.pulls(REPO)
        assert git("show", f"{pull.head}:a.txt", cwd=origin) == "1\n2\n"
