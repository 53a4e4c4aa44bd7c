"""CI that fixes itself: a failed check suite (GitHub) or pipeline (GitLab) on a branch
Repobox pushed runs one "fix the CI" prompt in that session with the failed jobs' log
tails (secrets redacted), then pushes; one attempt per head, at most `ci_fix: attempts:`,
never on someone else's branch. Signed deliveries to the real app, real jobs, real git,
the fakes (the scripted agent follows instructions the failing log itself prints)."""

from __future__ import annotations

import json
import time

from redis import Redis

from bot.checks.reading import parse_config
from bot.core.config import Settings
from bot.sessions.prompts import PromptQueue
from bot.sessions.session import Session
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.conftest import MakeRepo, git, run_jobs
from tests.fakes.github import FakeGitHub, webhook_request
from tests.fakes.github_checks import GitHubChecks
from tests.fakes.gitlab import DEFAULT_TOKEN, DEVELOPER, MAINTAINER, FakeGitLab
from tests.fakes.gitlab_jobs import GitLabJobs
from tests.fakes.issue_hooks import github_issues, gitlab_issue_hook
from tests.forge_harness import WebApp

SECRET = "github-hook-secret"
REPO = "octo/widgets"
CONFIG = 'checks:\n  - name: ok\n    run: "true"\n'


def _failing_log(secret: str, n: int) -> str:
    """150 lines of noise, a leaked secret, and what the scripted agent then does."""
    noise = [f"\x1b[32mstep {i}\x1b[0m ok" for i in range(150)]
    return "\n".join(
        [*noise, f"Authorization: token {secret}", "FAILED test_widget.py::test_size",
         f"prompt ci-prompt-{n}.txt", "append ci.txt: fixed"]
    )  # fmt: skip


def _session(ctx: JobContext, provider: str, thread_key: str) -> Session:
    found = ctx.service.sessions.find_by_thread(provider, thread_key)
    assert found is not None
    return found


def _fix_prompts(redis: Redis, session: Session) -> list[float]:
    """When each CI fix prompt of the session started."""
    history = PromptQueue(redis).history(session.id)
    return [p.started_at or 0.0 for p in history if p.text.startswith("fix the CI")]


def test_a_failed_check_suite_on_a_repobox_branch_is_fixed_once_per_head_up_to_the_limit(
    settings: Settings, redis: Redis, make_repo: MakeRepo
) -> None:
    origin = make_repo(files={"README.md": "# Hello\n", ".repobox.yml": CONFIG})
    with FakeGitHub() as fake:
        repo = fake.add_repo(REPO, origin.as_uri(), permissions={"alice": "write"})
        checks = GitHubChecks(fake)
        configured = settings.with_changes(
            github_api_url=fake.url, github_token=fake.token, github_webhook_secret=SECRET
        )
        ctx = runtime.install(configured, redis)
        issue = fake.add_issue(REPO, "write notes.txt: hello", "", user="bob")
        with WebApp(configured, redis) as app:

            def deliver(
                payload: dict[str, object], event: str, delivery: str
            ) -> tuple[int, object]:
                body, headers = webhook_request(payload, SECRET, event, delivery=delivery)
                return app.post("/webhooks/github", body, headers)

            labelled = github_issues(fake, REPO, issue.number, "labeled", sender="alice",
                                     label="repobox")  # fmt: skip
            assert deliver(labelled, "issues", "d-1")[0] == 202
            run_jobs(ctx)
            session = _session(ctx, "github", f"{repo.id}:issue:1")
            [pull] = fake.pulls(REPO)
            first = session.pushed_commit
            assert first is not None

            # Two suites fail on the shipped head (two workflows); one is delivered twice.
            suites = [
                checks.add_suite(REPO, session.work_branch, first, {
                    "lint": ("success", "fine"),
                    f"test-{n}": ("failure", _failing_log(fake.token, 1)),
                })
                for n in (1, 2)
            ]  # fmt: skip
            sent = time.time()
            assert deliver(checks.delivery(suites[0]), "check_suite", "cs-1")[0] == 202
            assert deliver(checks.delivery(suites[0]), "check_suite", "cs-1")[1] == {
                "status": "duplicate",
                "of": "delivery",
            }
            assert deliver(checks.delivery(suites[1]), "check_suite", "cs-2")[0] == 202
            run_jobs(ctx)
            [started] = _fix_prompts(redis, session)  # one attempt for the head
            second = _session(ctx, "github", f"{repo.id}:issue:1").pushed_commit
            assert second not in (None, first)  # the fix was pushed
            branch = session.work_branch
            assert git("show", f"{branch}:ci.txt", cwd=origin) == "fixed\n"
            asked = git("show", f"{branch}:ci-prompt-1.txt", cwd=origin)
            assert "fix the CI" in asked and "FAILED test_widget.py::test_size" in asked
            assert "### test-1" in asked and "step 149 ok" in asked
            assert "step 10 ok" not in asked  # only the tail
            assert "\x1b[" not in asked and fake.token not in asked  # colours, secret gone
            assert all("Authorization" not in h for h in checks.log_reads)  # no token sent
            print(f"failed check suite webhook → fix prompt started: {started - sent:.2f} s")

            # It fails again on the fix: the second (last) attempt.
            again = checks.add_suite(REPO, branch, str(second), {
                "test": ("failure", _failing_log(fake.token, 2)),
            })  # fmt: skip
            assert deliver(checks.delivery(again), "check_suite", "cs-3")[0] == 202
            run_jobs(ctx)
            assert len(_fix_prompts(redis, session)) == 2
            third = _session(ctx, "github", f"{repo.id}:issue:1").pushed_commit
            assert third not in (None, second)

            # And again: the attempts have run out; it says so on the PR, once, and stops.
            last = checks.add_suite(REPO, branch, str(third), {"test": ("failure", "boom")})
            for delivery in ("cs-4", "cs-5"):
                assert deliver(checks.delivery(last), "check_suite", delivery)[0] == 202
            run_jobs(ctx)
            assert len(_fix_prompts(redis, session)) == 2
            said = [c.body for c in fake.comments(REPO, pull.number) if c.user == fake.login]
            stops = [s for s in said if s.startswith("CI still fails after 2 fixes; stopping")]
            assert len(stops) == 1 and f"/commit/{third}/checks" in stops[0]

            # Someone else's branch, and an older head of ours: nothing.
            git("push", str(origin), f"{first}:refs/heads/bob-branch", cwd=origin)
            other = checks.add_suite(REPO, "bob-branch", first, {"t": ("failure", "x")})
            old = checks.add_suite(REPO, branch, first, {"t": ("failure", "x")})
            assert deliver(checks.delivery(other), "check_suite", "cs-6")[0] == 202
            assert deliver(checks.delivery(old), "check_suite", "cs-7")[0] == 202
            run_jobs(ctx)
            assert len(_fix_prompts(redis, session)) == 2
            assert len(ctx.service.sessions.recent()) == 1


def test_a_failed_gitlab_pipeline_on_a_repobox_branch_runs_one_fix(
    settings: Settings, redis: Redis, make_repo: MakeRepo
) -> None:
    origin = make_repo(files={"README.md": "# Hello\n", ".repobox.yml": CONFIG})
    with FakeGitLab() as fake:
        alice = fake.add_user("alice", "Alice Liddell")
        project = fake.add_project(
            "acme/widgets", origin.as_uri(), members={alice.id: DEVELOPER, fake.bot.id: MAINTAINER}
        )
        pipelines = GitLabJobs(fake)
        configured = settings.with_changes(
            gitlab_url=fake.url,
            gitlab_token=DEFAULT_TOKEN,
            gitlab_webhook_secret="gitlab-secret",
            forge_retries=2,
            forge_backoff=0.01,
        )
        ctx = runtime.install(configured, redis)
        issue = fake.add_issue(project, "write notes.txt: hello", "", author="alice")
        with WebApp(configured, redis) as app:

            def deliver(payload: dict[str, object], event: str, key: str) -> tuple[int, object]:
                headers = fake.hook_headers("gitlab-secret", event=event, idempotency_key=key)
                return app.post("/webhooks/gitlab", json.dumps(payload).encode(), headers)

            hook = gitlab_issue_hook(fake, project.id, issue.iid, user="alice",
                                     assignees=([], [fake.bot.username]))  # fmt: skip
            assert deliver(hook, "Issue Hook", "k1")[0] == 202
            run_jobs(ctx)
            session = _session(ctx, "gitlab", f"{project.id}:issue:{issue.iid}")
            head = session.pushed_commit
            assert head is not None
            pipeline = pipelines.add_pipeline(project.id, session.work_branch, head, {
                "build": ("success", "ok"), "rspec": ("failed", _failing_log(DEFAULT_TOKEN, 1)),
            })  # fmt: skip
            for key in ("p1", "p1", "p2"):  # redelivered, then sent again under a new key
                assert deliver(pipelines.hook(pipeline, "alice"), "Pipeline Hook", key)[0] in (
                    200,
                    202,
                )
            run_jobs(ctx)
            assert len(_fix_prompts(redis, session)) == 1
            assert _session(ctx, "gitlab", session.thread.key).pushed_commit != head
            asked = git("show", f"{session.work_branch}:ci-prompt-1.txt", cwd=origin)
            assert "### rspec" in asked and "FAILED test_widget.py" in asked
            assert DEFAULT_TOKEN not in asked and "### build" not in asked


def test_ci_fix_is_two_attempts_by_default_or_off() -> None:
    assert parse_config("autofix: 1\n").ci_fix == 2
    assert parse_config("ci_fix: off\n").ci_fix == 0
    assert parse_config("ci_fix:\n  attempts: 1\n").ci_fix == 1
