"""`compare` and `pick` on GitLab and GitHub: signed deliveries to the real app, the real
python-gitlab and PyGithub against the fakes, the built-in agent against the fake Anthropic
API, real RQ jobs, real git and real checks. The comparison's comment is a table of the
candidates while it runs and the merge request's table at the end; `pick 2` and `ship it`
open a merge request (pull request) with candidate 2's change only."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from redis import Redis

from bot.core.config import Settings
from jobs.worker import runtime
from tests.agent_support import fake  # noqa: F401 - fixture
from tests.compare_support import script_candidates
from tests.compare_surfaces import (
    COMPARE,
    assert_chosen_by_comparison,
    assert_only_opus,
    calc_repo,
    with_models,
)
from tests.conftest import MakeRepo, run_jobs
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.github import FakeGitHub, webhook_request
from tests.fakes.gitlab import DEFAULT_TOKEN, DEVELOPER, MAINTAINER, FakeGitLab
from tests.forge_harness import WebApp

SECRET = "hook-secret"
Say = Callable[[str], list[tuple[str, list[str]]]]  # a comment -> the bot's (body, versions)


def compare_pick_ship(say: Say) -> None:
    """What a person sees on either forge, from the comparison to the shipped change."""
    say("@repobox print 1")  # the session, on an untouched checkout
    refused = say("@repobox compare sonnet,opus,haiku,claude-code tidy up calc")
    assert any("compares at most 3 at once" in body for body, _ in refused), refused
    comments = say(f"@repobox {COMPARE}")
    table, versions = next((b, v) for b, v in comments if "Compared 3 candidates" in b)
    live = [v for v in versions if v.startswith("⚖️ **Comparing 3 candidates** for ")]
    assert live, versions  # the candidates' table while they ran, edited in place
    assert "| # | Candidate | State | Step | Files | Checks | Tokens | Cost | Time |" in live[0]
    assert "| 1 | sonnet | " in live[0] and "| 3 | haiku | " in live[0]
    assert table.startswith("⚖️ **Compared 3 candidates** in ")
    assert "> tidy up calc" in table
    assert "| 1 | sonnet | ❌ checks fail" in table
    assert "| 2 | opus | ✅ checks pass" in table
    assert "| 3 | haiku | ✅ checks pass · cheapest" in table
    assert "Reply `@repobox pick <n>` to adopt one; the others are then discarded." in table
    mention = comments[-1][0]
    assert (
        mention == "@alice the comparison is done: reply `@repobox pick <n>` to adopt a candidate."
    )

    picked = say("@repobox pick 2")
    assert any("Picked candidate 2 (opus): 2 files changed" in body for body, _ in picked)
    say("@repobox ship it")


def test_gitlab_compare_pick_and_ship_a_merge_request(
    settings: Settings,
    redis: Redis,
    fake: FakeAnthropic,  # noqa: F811
    make_repo: MakeRepo,
    tmp_path: Path,
) -> None:
    origin = calc_repo(settings, make_repo, tmp_path)
    script_candidates(fake)
    with FakeGitLab() as lab:
        alice = lab.add_user("alice", "Alice Liddell")
        project = lab.add_project(
            "acme/calc", origin.as_uri(), members={alice.id: DEVELOPER, lab.bot.id: MAINTAINER}
        )
        configured = with_models(settings, fake).with_changes(
            gitlab_url=lab.url,
            gitlab_token=DEFAULT_TOKEN,
            gitlab_webhook_secret=SECRET,
            default_provider="gitlab",
            forge_retries=2,
            forge_backoff=0.01,
        )
        ctx = runtime.install(configured, redis)
        with WebApp(configured, redis) as app:
            issue = lab.add_issue(project.id, "Tidy calc", "Please tidy it.", author="alice")

            def say(body: str) -> list[tuple[str, list[str]]]:
                before = len(lab.notes(project.id, "issue", issue.iid))
                payload = lab.note_hook_payload(project.id, "issue", issue.iid, body, "alice")
                headers = lab.hook_headers(SECRET)
                assert app.post("/webhooks/gitlab", json.dumps(payload).encode(), headers)[0] == 202
                run_jobs(ctx)
                notes = lab.notes(project.id, "issue", issue.iid)[before:]
                return [(n.body, [*n.history, n.body]) for n in notes if n.author_id == lab.bot.id]

            compare_pick_ship(say)
            [mr] = lab.merge_requests(project.id)
            assert_chosen_by_comparison(mr.description, "Alice Liddell")
            assert_only_opus(origin, mr.source_branch)


def test_github_compare_pick_and_ship_a_pull_request(
    settings: Settings,
    redis: Redis,
    fake: FakeAnthropic,  # noqa: F811
    make_repo: MakeRepo,
    tmp_path: Path,
) -> None:
    origin = calc_repo(settings, make_repo, tmp_path)
    script_candidates(fake)
    with FakeGitHub() as hub:
        hub.add_repo("octo/calc", origin.as_uri(), permissions={"alice": "write"})
        configured = with_models(settings, fake).with_changes(
            github_api_url=hub.url,
            github_token=hub.token,
            github_webhook_secret=SECRET,
            forge_retries=2,
            forge_backoff=0.01,
        )
        ctx = runtime.install(configured, redis)
        with WebApp(configured, redis) as app:
            issue = hub.add_issue("octo/calc", "Tidy calc", "Please tidy it.", user="alice")

            def say(body: str) -> list[tuple[str, list[str]]]:
                before = len(hub.comments("octo/calc", issue.number))
                payload = hub.issue_comment_payload("octo/calc", issue.number, body, user="alice")
                raw, headers = webhook_request(payload, SECRET)
                assert app.post("/webhooks/github", raw, headers)[0] == 202
                run_jobs(ctx)
                comments = hub.comments("octo/calc", issue.number)[before:]
                return [(c.body, list(c.history)) for c in comments if c.user == hub.login]

            compare_pick_ship(say)
            [pull] = hub.pulls("octo/calc")
            assert_chosen_by_comparison(pull.body or "", "alice")
            assert_only_opus(origin, pull.head)
