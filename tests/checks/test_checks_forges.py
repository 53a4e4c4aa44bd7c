"""Checks on GitHub and GitLab: verdicts on the card, the ship gate, `ship it anyway` with
the override and the checks table in the PR/MR description, `undo` after the push."""

from __future__ import annotations

import json
from pathlib import Path

from redis import Redis

from bot.core.config import Settings
from jobs.worker import runtime
from tests.checks_repo import files
from tests.conftest import MakeRepo, git, run_jobs
from tests.fakes.github import FakeGitHub, webhook_request
from tests.fakes.gitlab import DEFAULT_TOKEN, DEVELOPER, MAINTAINER, FakeGitLab
from tests.forge_harness import WebApp

SECRET = "hook-secret"
BREAK = (
    "write calc.py: def add(a, b): return a - b\n"
    "write FIX.txt: write calc.py: def add(a, b): return a + b"
)


def checks_repo(settings: Settings, make_repo: MakeRepo, tmp_path: Path) -> Path:
    tree = files(settings, tmp_path / "probe")
    return make_repo(files={**tree, ".repobox.yml": tree[".repobox.yml"].replace("1\n", "0\n")})


def test_github_gate_ship_anyway_and_undo_after_the_push(
    settings: Settings, redis: Redis, make_repo: MakeRepo, tmp_path: Path
) -> None:
    origin = checks_repo(settings, make_repo, tmp_path)
    with FakeGitHub() as fake:
        fake.add_repo("octo/calc", origin.as_uri(), permissions={"alice": "write"})
        configured = settings.with_changes(
            github_api_url=fake.url,
            github_token=fake.token,
            github_webhook_secret=SECRET,
            forge_retries=2,
            forge_backoff=0.01,
        )
        ctx = runtime.install(configured, redis)
        with WebApp(configured, redis) as app:
            issue = fake.add_issue("octo/calc", "Fix add", "It adds wrong.", user="alice")

            def comment(body: str) -> str:
                payload = fake.issue_comment_payload("octo/calc", issue.number, body, user="alice")
                raw, headers = webhook_request(payload, SECRET)
                assert app.post("/webhooks/github", raw, headers)[0] == 202
                run_jobs(ctx)
                mine = [c for c in fake.comments("octo/calc", issue.number) if c.user == fake.login]
                return "\n".join(c.body for c in mine[-2:])

            assert "❌ tests failed (exit 1" in comment(f"@repobox {BREAK}")
            refused = comment("@repobox ship it")
            assert "Not shipping: required checks fail" in refused and "tests failed" in refused
            assert fake.pulls("octo/calc") == []
            comment("@repobox ship it anyway")
            [pull] = fake.pulls("octo/calc")
            body = pull.body or ""
            assert "**Shipped with failing checks**: alice chose “ship it anyway”" in body
            assert "| tests (required) | ❌ failed |" in body and "Closes #1" in body
            undone = comment("@repobox undo")
            assert "with a revert commit (it was already pushed)" in undone
            log = git("log", "-1", "--format=%s", pull.head, cwd=origin)
            assert log.startswith('Undo "')


def test_gitlab_fix_the_checks_then_the_merge_request_has_the_table(
    settings: Settings, redis: Redis, make_repo: MakeRepo, tmp_path: Path
) -> None:
    origin = checks_repo(settings, make_repo, tmp_path)
    with FakeGitLab() as fake:
        alice = fake.add_user("alice", "Alice Liddell")
        project = fake.add_project(
            "acme/calc", origin.as_uri(), members={alice.id: DEVELOPER, fake.bot.id: MAINTAINER}
        )
        configured = settings.with_changes(
            gitlab_url=fake.url,
            gitlab_token=DEFAULT_TOKEN,
            gitlab_webhook_secret=SECRET,
            default_provider="gitlab",
            forge_retries=2,
            forge_backoff=0.01,
        )
        ctx = runtime.install(configured, redis)
        with WebApp(configured, redis) as app:
            issue = fake.add_issue(project.id, "Fix add", "It adds wrong.", author="alice")

            def comment(body: str) -> str:
                payload = fake.note_hook_payload(project.id, "issue", issue.iid, body, "alice")
                headers = fake.hook_headers(SECRET)
                assert app.post("/webhooks/gitlab", json.dumps(payload).encode(), headers)[0] == 202
                run_jobs(ctx)
                notes = fake.notes(project.id, "issue", issue.iid)
                mine = [n for n in notes if n.author_id == fake.bot.id]
                return "\n".join(n.body for n in mine[-2:])

            assert "❌ tests failed (exit 1" in comment(f"@repobox {BREAK}")
            assert "Not shipping" in comment("@repobox ship it")
            assert "✅ tests passed" in comment("@repobox fix the checks")
            comment("@repobox ship it")
            [mr] = fake.merge_requests(project.id)
            assert "| tests (required) | ✅ passed |" in mr.description
            assert "All required checks pass." in mr.description
            assert "**Alice Liddell**: write calc.py" in mr.description
