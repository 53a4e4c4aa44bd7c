"""The fake GitHub API against the real PyGithub: if these pass, tests that drive Repobox's
GitHub surface through the fake exercise the same calls and shapes as against github.com."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from aiohttp import web
from github import Auth, Github, GithubException, GithubRetry
from github.GithubException import (
    BadCredentialsException,
    RateLimitExceededException,
    UnknownObjectException,
)

from tests.fakes.base import FakeServer, Recorded
from tests.fakes.github import FakeGitHub, deliver, load_fixture, sign, webhook_request

REPO = "acme/widgets"


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def bare_repo(tmp_path: Path) -> Path:
    """A bare repository with `main` and a `feature` branch one commit ahead."""
    bare = tmp_path / "widgets.git"
    work = tmp_path / "work"
    _git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    _git(tmp_path, "init", "-q", "-b", "main", str(work))
    ident = ["-c", "user.name=T", "-c", "user.email=t@example.com"]
    (work / "README.md").write_text("# Widgets\n")
    _git(work, "add", "README.md")
    _git(work, *ident, "commit", "-q", "-m", "init")
    _git(work, "checkout", "-q", "-b", "feature")
    (work / "README.md").write_text("# Widgets, improved\n")
    _git(work, *ident, "commit", "-q", "-am", "improve")
    _git(work, "checkout", "-q", "-b", "empty", "main")
    _git(work, "push", "-q", str(bare), "main", "feature", "empty")
    return bare


@pytest.fixture
def fake(bare_repo: Path) -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        assert isinstance(server, FakeGitHub)
        server.add_repo(REPO, bare_repo.as_uri(), permissions={"alice": "write", "bob": "read"})
        yield server
        assert not server.unhandled, [f"{c.method} {c.path}" for c in server.unhandled]


def client(fake: FakeGitHub, token: str = "ghp_test", **kwargs: Any) -> Github:  # noqa: S107
    options: dict[str, Any] = {
        "retry": None,
        "seconds_between_requests": None,
        "seconds_between_writes": None,
    }
    return Github(base_url=fake.url, auth=Auth.Token(token), **(options | kwargs))


@pytest.fixture
def gh(fake: FakeGitHub) -> Iterator[Github]:
    github = client(fake)
    yield github
    github.close()


def test_repo_user_and_clone_url(fake: FakeGitHub, gh: Github, bare_repo: Path) -> None:
    assert gh.get_user().login == "repobox-bot"
    repo = gh.get_repo(REPO)
    assert repo.full_name == REPO
    assert repo.clone_url == bare_repo.as_uri()
    assert repo.default_branch == "main"
    assert repo.url.startswith(fake.url) and repo.html_url.startswith(fake.url)
    assert repo.owner.login == "acme"
    assert repo.permissions.push and not repo.permissions.admin
    assert gh.get_repo("ACME/Widgets").id == repo.id  # names are case-insensitive
    with pytest.raises(UnknownObjectException):
        gh.get_repo("acme/nope")
    assert not fake.unhandled


def test_collaborator_permission(fake: FakeGitHub, gh: Github) -> None:
    repo = gh.get_repo(REPO)
    fake.set_permission(REPO, "carol", "maintain")
    fake.add_user("dave")
    assert repo.get_collaborator_permission("alice") == "write"
    assert repo.get_collaborator_permission("bob") == "read"
    assert repo.get_collaborator_permission("acme") == "admin"
    assert repo.get_collaborator_permission("carol") == "write"  # legacy permission
    assert repo.get_collaborator_role_name("carol") == "maintain"
    assert repo.get_collaborator_permission("dave") == "read"  # public repo
    call = fake.calls_to("/collaborators/alice/permission")[0]
    assert call.status == 200
    with pytest.raises(UnknownObjectException):
        repo.get_collaborator_permission("nobody")


def test_issue_comment_create_and_edit(fake: FakeGitHub, gh: Github) -> None:
    issue_number = fake.add_issue(REPO, "Broken build", "It fails", user="alice").number
    issue = gh.get_repo(REPO).get_issue(issue_number)
    assert (issue.title, issue.user.login, issue.pull_request) == ("Broken build", "alice", None)
    comment = issue.create_comment("⏳ working")
    assert comment.user.login == "repobox-bot"
    assert comment.html_url.startswith(fake.url)
    comment.edit("✅ done")
    assert comment.body == "✅ done"
    (stored,) = fake.comments(REPO, issue_number)
    assert stored.id == comment.id and stored.body == "✅ done"
    assert stored.history == ["⏳ working", "✅ done"] and stored.edits == 1
    assert gh.get_repo(REPO).get_issue(issue_number).get_comment(comment.id).body == "✅ done"
    assert [c.body for c in issue.get_comments()] == ["✅ done"]
    with pytest.raises(GithubException) as too_long:
        issue.create_comment("x" * 65537)
    assert too_long.value.status == 422


def test_numbers_shared_and_pr_conversation_comment(fake: FakeGitHub, gh: Github) -> None:
    assert fake.add_issue(REPO, "first").number == 1
    assert fake.add_pull(REPO, "feature", "second").number == 2
    assert fake.add_issue(REPO, "third").number == 3
    issue = gh.get_repo(REPO).get_issue(2)
    assert issue.pull_request is not None
    pr = issue.as_pull_request()
    assert (pr.head.ref, pr.base.ref) == ("feature", "main")
    pr.create_issue_comment("on it")
    assert [(c.kind, c.body) for c in fake.comments(REPO, 2)] == [("issue", "on it")]


def test_pagination(fake: FakeGitHub, gh: Github) -> None:
    number = fake.add_issue(REPO, "chatty").number
    for i in range(35):
        fake.add_issue_comment(REPO, number, f"c{i}", user="alice")
    comments = gh.get_repo(REPO).get_issue(number).get_comments()
    assert [c.body for c in comments] == [f"c{i}" for i in range(35)]
    assert comments.totalCount == 35


def test_reactions(fake: FakeGitHub, gh: Github) -> None:
    number = fake.add_pull(REPO, "feature").number
    mention = fake.add_issue_comment(REPO, number, "@repobox fix it", user="alice")
    review = fake.add_review_comment(REPO, number, "@repobox rename", user="alice")
    repo = gh.get_repo(REPO)
    first = repo.get_issue(number).get_comment(mention.id).create_reaction("eyes")
    again = repo.get_issue(number).get_comment(mention.id).create_reaction("eyes")
    assert first.id == again.id and first.content == "eyes"
    assert [c.status for c in fake.calls_to(f"/issues/comments/{mention.id}/reactions")] == [
        201,
        200,
    ]
    repo.get_pull(number).get_review_comment(review.id).create_reaction("rocket")
    assert [(r.user, r.content) for r in fake.reactions(mention.id)] == [("repobox-bot", "eyes")]
    assert [(r.user, r.content) for r in fake.reactions(review.id)] == [("repobox-bot", "rocket")]
    with pytest.raises(GithubException) as bad:
        repo.get_issue(number).get_comment(mention.id).create_reaction("tada")
    assert bad.value.status == 422
    assert ["tada" in v.problem for v in fake.take_violations()] == [True]


def test_create_pull_list_by_head_and_duplicate(
    fake: FakeGitHub, gh: Github, bare_repo: Path
) -> None:
    repo = gh.get_repo(REPO)
    fake.add_issue(REPO, "an issue first")
    pr = repo.create_pull(base="main", head="feature", title="Improve", body="by repobox")
    assert pr.number == 2 and pr.html_url == f"{fake.url}/{REPO}/pull/2"
    assert pr.head.sha == _git(bare_repo, "rev-parse", "feature")
    assert pr.user.login == "repobox-bot"
    found = list(repo.get_pulls(state="open", head="acme:feature"))
    assert [p.number for p in found] == [2]
    assert list(repo.get_pulls(state="open", head="acme:other")) == []
    fake.add_pull(REPO, "empty", "other")
    # like GitHub, a head filter without "owner:" is ignored
    assert {p.number for p in repo.get_pulls(state="open", head="feature")} == {2, 3}
    assert ["without 'owner:'" in v.problem for v in fake.take_violations()] == [True]

    with pytest.raises(GithubException) as duplicate:
        repo.create_pull(base="main", head="acme:feature", title="Again")
    assert duplicate.value.status == 422
    assert duplicate.value.data["message"] == "Validation Failed"
    assert duplicate.value.data["errors"][0]["message"] == (
        "A pull request already exists for acme:feature."
    )

    pr.edit(body="by repobox, updated")
    (stored, _) = fake.pulls(REPO)
    assert (stored.number, stored.head, stored.base, stored.body) == (
        2,
        "feature",
        "main",
        "by repobox, updated",
    )
    pr.edit(state="closed")
    assert list(repo.get_pulls(state="open", head="acme:feature")) == []
    assert repo.create_pull(base="main", head="feature", title="Again").number == 4


def test_create_pull_checks_branches(fake: FakeGitHub, gh: Github) -> None:
    repo = gh.get_repo(REPO)
    with pytest.raises(GithubException) as missing:
        repo.create_pull(base="main", head="not-pushed", title="x")
    assert missing.value.data["errors"] == [
        {"resource": "PullRequest", "field": "head", "code": "invalid"}
    ]
    with pytest.raises(GithubException) as empty:
        repo.create_pull(base="main", head="empty", title="x")
    assert empty.value.data["errors"][0]["message"] == "No commits between main and empty"
    assert fake.pulls(REPO) == []


def test_review_comment_reply(fake: FakeGitHub, gh: Github) -> None:
    number = fake.add_pull(REPO, "feature").number
    root = fake.add_review_comment(
        REPO, number, "@repobox use a constant", user="alice", path="src/a.py", line=7
    )
    pr = gh.get_repo(REPO).get_pull(number)
    (listed,) = pr.get_review_comments()
    assert (listed.path, listed.line) == ("src/a.py", 7)
    assert "in_reply_to_id" not in listed.raw_data  # GitHub omits it on a thread's root
    assert listed.diff_hunk.startswith("@@")
    reply = pr.create_review_comment_reply(root.id, "done in abc123")
    assert (reply.in_reply_to_id, reply.path, reply.line) == (root.id, "src/a.py", 7)
    assert [(c.kind, c.body) for c in fake.comments(REPO, number)] == [
        ("review", "@repobox use a constant"),
        ("review", "done in abc123"),
    ]
    with pytest.raises(GithubException) as nested:  # GitHub: replies to replies unsupported
        pr.create_review_comment_reply(reply.id, "again")
    assert nested.value.status == 422


def test_bad_credentials(fake: FakeGitHub) -> None:
    with pytest.raises(BadCredentialsException):
        client(fake, token="ghp_wrong").get_repo(REPO)
    anonymous = Github(base_url=fake.url, retry=None)
    with pytest.raises(BadCredentialsException):
        anonymous.get_repo(REPO)
    assert [c.status for c in fake.calls] == [401, 401]
    fake.add_user("other-bot", type="Bot", token="ghs_installation")
    assert client(fake, token="ghs_installation").get_user().login == "other-bot"


def test_failures_without_and_with_retry(fake: FakeGitHub, gh: Github) -> None:
    number = fake.add_issue(REPO, "x").number
    path = f"/repos/{REPO}/issues/{number}"
    fake.fail_next(path, 502)
    with pytest.raises(GithubException) as failed:
        gh.get_repo(REPO).get_issue(number)
    assert failed.value.status == 502
    assert gh.get_repo(REPO).get_issue(number).number == number

    retrying = client(fake, retry=GithubRetry())
    issue = retrying.get_repo(REPO).get_issue(number)
    fake.fail_next(f"{path}/comments", 502)  # POST is retried: the comment still lands
    comment = issue.create_comment("hi")
    assert [c.status for c in fake.calls_to(f"{path}/comments")] == [502, 201]
    fake.fail_next(f"/repos/{REPO}/issues/comments/{comment.id}", 502)  # PATCH is not
    with pytest.raises(GithubException) as patch_failed:
        comment.edit("edited")
    assert patch_failed.value.status == 502
    fake.fail_next(path, 503, times=11)
    with pytest.raises(requests.exceptions.RetryError):
        retrying.get_repo(REPO).get_issue(number)

    fake.rate_limit_next(path, "secondary")
    with pytest.raises(RateLimitExceededException):
        gh.get_repo(REPO).get_issue(number)


def test_github_signature_vector() -> None:
    headers = sign("It's a Secret to Everybody", b"Hello, World!", "ping", delivery="d-1")
    assert headers["X-Hub-Signature-256"] == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )
    assert (headers["X-GitHub-Event"], headers["X-GitHub-Delivery"]) == ("ping", "d-1")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def _assert_shaped(payload: dict[str, Any], fixture: dict[str, Any], fake: FakeGitHub) -> None:
    """Every key of the platform's sample is there, and every URL points at the fake."""
    for key, value in fixture.items():
        if key == "installation":
            continue
        assert key in payload, key
        if isinstance(value, dict) and key != "changes":
            missing = set(value) - set(payload[key])
            assert not missing, (key, missing)
    urls = [s for s in _strings(payload) if s.startswith(("http:", "https:"))]
    foreign = [u for u in urls if not u.startswith(fake.url) and "smee.io" not in u]
    assert urls and not foreign, foreign
    assert not [s for s in _strings(payload) if "github.com" in s]


def test_webhook_payloads(fake: FakeGitHub, gh: Github, bare_repo: Path) -> None:
    issue = fake.add_issue(REPO, "Bug", "details", user="alice").number
    pull = fake.add_pull(REPO, "feature", "Change", user="alice").number

    on_issue = fake.issue_comment_payload(REPO, issue, "@repobox fix", user="alice")
    _assert_shaped(on_issue, load_fixture("issue_comment.created.issue.json"), fake)
    assert "pull_request" not in on_issue["issue"]
    assert on_issue["sender"]["login"] == "alice"
    assert on_issue["comment"]["author_association"] == "COLLABORATOR"
    # the comment exists in the fake, so the bot can fetch it through PyGithub
    fetched = gh.get_repo(on_issue["repository"]["full_name"]).get_issue(issue)
    assert fetched.get_comment(on_issue["comment"]["id"]).body == "@repobox fix"

    on_pull = fake.issue_comment_payload(REPO, pull, "@repobox ship it", user="alice")
    _assert_shaped(on_pull, load_fixture("issue_comment.created.pull_request.json"), fake)
    assert on_pull["issue"]["pull_request"]["url"] == f"{fake.url}/repos/{REPO}/pulls/{pull}"

    fetched.get_comment(on_issue["comment"]["id"]).edit("@repobox fix, please")
    edited = fake.issue_comment_payload(
        REPO, issue, comment_id=on_issue["comment"]["id"], action="edited"
    )
    assert edited["changes"] == {"body": {"from": "@repobox fix"}}
    assert edited["comment"]["body"] == "@repobox fix, please"
    root = fake.review_comment_payload(REPO, pull, "@repobox here", user="bob", line=3)
    fixture = load_fixture("pull_request_review_comment.created.json")
    _assert_shaped(root, fixture, fake)
    assert "in_reply_to_id" not in root["comment"] and "installation" not in root
    reply = fake.review_comment_payload(
        REPO, pull, "and here", user="bob", in_reply_to=root["comment"]["id"], installation_id=7
    )
    assert reply["comment"]["in_reply_to_id"] == root["comment"]["id"]
    assert reply["comment"]["line"] == 3 and reply["installation"]["id"] == 7
    assert reply["pull_request"]["head"]["ref"] == "feature"

    ping = fake.ping_payload(REPO)
    _assert_shaped(ping, load_fixture("ping.json"), fake)
    assert ping["repository"]["clone_url"] == bare_repo.as_uri()

    body, headers = webhook_request(on_pull, "s3cret")
    assert json.loads(body) == on_pull
    assert headers["X-GitHub-Event"] == "issue_comment"
    assert sign("s3cret", body)["X-Hub-Signature-256"] == headers["X-Hub-Signature-256"]
    assert webhook_request(root, "s3cret")[1]["X-GitHub-Event"] == "pull_request_review_comment"
    assert webhook_request(ping, "s3cret")[1]["X-GitHub-Event"] == "ping"


def test_deliver_posts_signed_body(fake: FakeGitHub) -> None:
    async def accept(request: web.Request, call: Recorded) -> web.Response:
        return web.json_response({"ok": True}, status=202)

    with FakeServer() as app:
        app.route("POST", "/webhooks/github", accept)
        payload = fake.ping_payload(REPO)
        status, body = deliver(f"{app.url}/webhooks/github", payload, "s3cret", delivery="d-9")
        (call,) = app.calls
    assert (status, json.loads(body)) == (202, {"ok": True})
    assert json.loads(call.body) == payload
    headers = {k.lower(): v for k, v in call.headers.items()}  # urllib re-cases names
    assert (headers["x-github-delivery"], headers["x-github-event"]) == ("d-9", "ping")
    assert headers["x-hub-signature-256"] == sign("s3cret", call.body)["X-Hub-Signature-256"]
