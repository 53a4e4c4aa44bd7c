"""GitHub end to end: signed deliveries posted to the real app, the real PyGithub against the
fake GitHub, real RQ jobs, real git against a bare repository."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from bot.core.config import Settings
from bot.sessions.session import SessionState
from handlers.forge.webhooks import valid_signature
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.conftest import MakeRepo, git, run_jobs
from tests.fakes.github import FakeGitHub, encode_payload, sign, webhook_request
from tests.forge_harness import WebApp

SECRET = "github-hook-secret"
REPO = "octo/widgets"


@dataclass
class Hub:
    fake: FakeGitHub
    app: WebApp
    ctx: JobContext
    origin: Path
    tmp: Path
    repo_id: int

    def deliver(self, payload: dict[str, Any], delivery: str | None = None) -> tuple[int, Any]:
        body, headers = webhook_request(payload, SECRET, delivery=delivery)
        return self.app.post("/webhooks/github", body, headers)

    def comment(self, number: int, body: str, user: str = "alice") -> int:
        payload = self.fake.issue_comment_payload(REPO, number, body, user=user)
        assert self.deliver(payload)[0] == 202
        run_jobs(self.ctx)
        return int(payload["comment"]["id"])

    def bot_comments(self, number: int, kind: str | None = None) -> list[Any]:
        return [c for c in self.fake.comments(REPO, number, kind) if c.user == self.fake.login]


@pytest.fixture
def hub(settings: Settings, redis: Redis, make_repo: MakeRepo, tmp_path: Path) -> Iterator[Hub]:
    origin = make_repo(
        files={"README.md": "# Hello\n", "CLAUDE.md": "Main rules.\n"},
        branches={"feature": {"CLAUDE.md": "Branch rules.\n", "feature.txt": "wip\n"}},
    )
    with FakeGitHub() as fake:
        repo = fake.add_repo(REPO, origin.as_uri(), permissions={"alice": "write", "eve": "read"})
        configured = settings.with_changes(
            github_api_url=fake.url,
            github_token=fake.token,
            github_webhook_secret=SECRET,
            forge_retries=2,
            forge_backoff=0.01,
        )
        ctx = runtime.install(configured, redis)
        with WebApp(configured, redis) as app:
            yield Hub(fake, app, ctx, origin, tmp_path, repo.id)


def test_issue_mention_runs_follows_up_and_ships_a_pull_request(hub: Hub) -> None:
    fake = hub.fake
    issue = fake.add_issue(REPO, "Add notes", "Please add notes.", user="alice")
    payload = fake.issue_comment_payload(
        REPO, issue.number, "@repobox write notes.txt: hello\nsleep 0.6", user="alice"
    )
    assert hub.deliver(payload) == (202, {"status": "accepted"})
    assert fake.calls == []  # answered without calling GitHub
    run_jobs(hub.ctx)

    assert [r.content for r in fake.reactions(payload["comment"]["id"])] == ["eyes"]
    progress, done = hub.bot_comments(issue.number)
    assert progress.edits >= 1 and progress.history[0].startswith("⚙️ **Working on it** for alice")
    assert progress.body.startswith("✅ **Done**") and "- `notes.txt` (+1 −0)" in progress.body
    assert done.body.startswith("@alice done in")

    hub.comment(issue.number, "@repobox append notes.txt: world")
    hub.comment(issue.number, "ship it @repobox")
    [pull] = fake.pulls(REPO)
    session = hub.ctx.service.sessions.find_by_thread("github", f"{hub.repo_id}:issue:1")
    assert session is not None and session.context is not None and session.context.closes == "#1"
    assert (pull.head, pull.base, pull.user) == (session.work_branch, "main", fake.login)
    assert pull.title == "Add notes" and "Closes #1" in (pull.body or "")
    assert git("show", f"{session.work_branch}:notes.txt", cwd=hub.origin) == "hello\nworld\n"
    pull_url = f"{fake.url}/{REPO}/pull/{pull.number}"
    assert hub.bot_comments(issue.number)[-1].body == f"@alice Opened pull request {pull_url}"
    assert hub.ctx.service.sessions.get(session.id).state is SessionState.PUSHED


def test_pull_request_mention_works_on_its_branch_and_ships_by_pushing(hub: Hub) -> None:
    fake = hub.fake
    pull = fake.add_pull(REPO, "feature", "Feature work", "Body by a person.", user="alice")
    dump = hub.tmp / "pr.json"
    hub.comment(pull.number, f"@repobox write feature.txt: finished\ncontext {dump}")
    given = json.loads(dump.read_text())
    assert given["session"]["work_branch"] == "feature"
    assert given["context"]["kind"] == "merge_request"
    assert given["context"]["instructions"] == {"CLAUDE.md": "Main rules.\n"}  # not the branch's

    hub.comment(pull.number, "@repobox ship it")
    assert [p.number for p in fake.pulls(REPO)] == [pull.number]  # no second pull request
    assert fake.issue(REPO, pull.number).body == "Body by a person."
    assert git("show", "feature:feature.txt", cwd=hub.origin) == "finished\n"
    assert hub.bot_comments(pull.number)[-1].body.startswith("@alice Updated pull request")


def test_review_comment_gives_file_line_and_discussion_and_replies_in_the_thread(hub: Hub) -> None:
    fake = hub.fake
    pull = fake.add_pull(REPO, "feature", "Feature", user="alice")
    root = fake.add_review_comment(
        REPO, pull.number, "Odd wording here.", user="eve", path="feature.txt", line=1
    )
    dump = hub.tmp / "review.json"
    payload = fake.review_comment_payload(
        REPO, pull.number, f"@repobox reword it\ncontext {dump}", user="alice", in_reply_to=root.id
    )
    assert hub.deliver(payload)[0] == 202
    run_jobs(hub.ctx)

    review = json.loads(dump.read_text())["origin"]["review"]
    assert (review["path"], review["line"]) == ("feature.txt", 1)
    assert review["diff_hunk"].startswith("@@")
    assert review["discussion"] == [{"author": "eve", "body": "Odd wording here."}]
    replies = hub.bot_comments(pull.number, "review")
    assert replies and all(c.in_reply_to_id == root.id for c in replies)
    assert hub.bot_comments(pull.number, "issue") == []
    assert [r.content for r in fake.reactions(payload["comment"]["id"])] == ["eyes"]


def test_bots_are_ignored_and_a_reader_is_refused(hub: Hub) -> None:
    fake = hub.fake
    issue = fake.add_issue(REPO, "x", user="alice")
    own = fake.issue_comment_payload(REPO, issue.number, "@repobox write a: b", user=fake.login)
    assert hub.deliver(own)[0] == 202  # the bot's login is not the mention name: the job knows
    run_jobs(hub.ctx)
    own_again = fake.issue_comment_payload(REPO, issue.number, "@repobox x", user=fake.login)
    assert hub.deliver(own_again)[1]["reason"] == "a bot's comment"  # identity cached by the job
    fake.add_user("helper[bot]", type="Bot")
    other = fake.issue_comment_payload(
        REPO, issue.number, "@repobox write a: b", user="helper[bot]"
    )
    assert hub.deliver(other) == (200, {"status": "ignored", "reason": "a bot's comment"})
    written = ["@repobox write a: b", "@repobox x"]  # by the bot's account: nothing else
    assert [c.body for c in hub.bot_comments(issue.number)] == written
    assert fake.reactions(own["comment"]["id"]) == []

    asked = hub.comment(issue.number, "@repobox change things", user="eve")
    refusal = hub.bot_comments(issue.number)[-1]
    assert (
        refusal.body
        == "Sorry, only people with write access to this repository can ask me for changes."
    )
    assert fake.reactions(asked) == []
    assert hub.ctx.service.sessions.recent() == []


def test_redelivery_edits_and_unrelated_events(hub: Hub) -> None:
    fake = hub.fake
    issue = fake.add_issue(REPO, "x", user="alice")
    payload = fake.issue_comment_payload(REPO, issue.number, "@repobox write a: b", user="alice")
    assert hub.deliver(payload, delivery="d-1")[0] == 202
    assert hub.deliver(payload, delivery="d-1") == (200, {"status": "duplicate", "of": "delivery"})
    assert hub.deliver(payload, delivery="d-2") == (200, {"status": "duplicate", "of": "comment"})
    edited = fake.issue_comment_payload(
        REPO, issue.number, comment_id=payload["comment"]["id"], action="edited", user="alice"
    )
    assert hub.deliver(edited) == (200, {"status": "ignored", "reason": "comment edited"})
    body = encode_payload({"action": "opened", "issue": payload["issue"]})
    assert hub.app.post("/webhooks/github", body, sign(SECRET, body, "issues"))[0] == 200
    ping = encode_payload(fake.ping_payload(REPO))
    assert hub.app.post("/webhooks/github", ping, sign(SECRET, ping)) == (200, {"status": "pong"})
    run_jobs(hub.ctx)
    assert len(hub.ctx.service.sessions.recent()) == 1
    assert len(hub.bot_comments(issue.number)) == 2
    assert len(fake.calls_to(f"/issues/comments/{payload['comment']['id']}/reactions")) == 1


def test_signature_checks_and_malformed_bodies(hub: Hub) -> None:
    issue = hub.fake.add_issue(REPO, "x", user="alice")
    body, headers = webhook_request(
        hub.fake.issue_comment_payload(REPO, issue.number, "@repobox hi", user="alice"), SECRET
    )
    forged = {**headers, "X-Hub-Signature-256": sign("wrong", body)["X-Hub-Signature-256"]}
    assert hub.app.post("/webhooks/github", body, forged)[0] == 401
    unsigned = {k: v for k, v in headers.items() if not k.startswith("X-Hub-Signature")}
    assert hub.app.post("/webhooks/github", body, unsigned)[0] == 401
    tampered = body.replace(b"@repobox hi", b"@repobox rm")
    assert hub.app.post("/webhooks/github", tampered, headers)[0] == 401
    bad = b'{"action": "created", '
    assert hub.app.post("/webhooks/github", bad, sign(SECRET, bad, "issue_comment"))[0] == 400
    hollow = b'{"action": "created", "comment": {"body": "@repobox x"}}'
    assert hub.app.post("/webhooks/github", hollow, sign(SECRET, hollow, "issue_comment"))[0] == 400
    assert hub.ctx.redis.llen("rq:queue:repobox-fast") == 0


def test_github_published_signature_vector() -> None:
    header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert valid_signature("It's a Secret to Everybody", b"Hello, World!", header)
    assert not valid_signature("It's a Secret to Everybody", b"Hello, World?", header)
    assert not valid_signature("It's a Secret to Everybody", b"Hello, World!", header[7:])


def test_pull_request_502_is_retried_reported_then_shipped_on_asking_again(hub: Hub) -> None:
    fake = hub.fake
    issue = fake.add_issue(REPO, "Notes", user="alice")
    hub.comment(issue.number, "@repobox write notes.txt: hi")
    fake.fail_next(f"/repos/{REPO}/pulls", 502, times=3)
    hub.comment(issue.number, "@repobox ship it")
    assert [c.status for c in fake.calls_to(f"/repos/{REPO}/pulls")] == [502, 502, 502]
    failed, told = hub.bot_comments(issue.number)[2:]
    assert (
        "GitHub answered 502 when I tried to look for an open pull request after 3 attempts"
        in failed.body
    )
    assert told.body.startswith("@alice that run failed: The branch is pushed")
    assert fake.pulls(REPO) == []

    hub.comment(issue.number, "@repobox ship it")
    [pull] = fake.pulls(REPO)
    assert "Closes #1" in (pull.body or "")
