"""GitHub's `workflow_run` and `check_run` start the CI fix too, on check_suite's rules: a
workflow run, one of its check runs and its suite failing on the same head make one
attempt; a redelivery is a duplicate; a run that passed, one still running, or a malformed
delivery starts nothing. The fix prompt carries the workflow run's failed jobs' log tails.
Signed deliveries to the real app, real jobs, real git, the fake GitHub (whose endpoints
are checked against GitHub's OpenAPI description)."""

from __future__ import annotations

from redis import Redis

from bot.core.config import Settings
from jobs.worker import runtime
from tests.conftest import MakeRepo, git, run_jobs
from tests.fakes.github import FakeGitHub, webhook_request
from tests.fakes.github_checks import GitHubChecks
from tests.fakes.github_workflows import GitHubWorkflows
from tests.fakes.issue_hooks import github_issues
from tests.forge_harness import WebApp
from tests.forges.test_ci_fix import CONFIG, REPO, SECRET, _failing_log, _fix_prompts, _session


def test_a_failed_workflow_run_check_run_and_suite_on_one_head_make_one_fix(
    settings: Settings, redis: Redis, make_repo: MakeRepo
) -> None:
    origin = make_repo(files={"README.md": "# Hello\n", ".repobox.yml": CONFIG})
    with FakeGitHub() as fake:
        repo = fake.add_repo(REPO, origin.as_uri(), permissions={"alice": "write"})
        checks = GitHubChecks(fake)
        workflows = GitHubWorkflows(fake, checks)
        configured = settings.with_changes(
            github_api_url=fake.url, github_token=fake.token, github_webhook_secret=SECRET
        )
        ctx = runtime.install(configured, redis)
        issue = fake.add_issue(REPO, "write notes.txt: hello", "", user="bob")
        with WebApp(configured, redis) as app:

            def deliver(payload: object, event: str, delivery: str) -> tuple[int, object]:
                body, headers = webhook_request(payload, SECRET, event, delivery=delivery)  # type: ignore[arg-type]
                return app.post("/webhooks/github", body, headers)

            labelled = github_issues(fake, REPO, issue.number, "labeled", sender="alice",
                                     label="repobox")  # fmt: skip
            assert deliver(labelled, "issues", "d-1")[0] == 202
            run_jobs(ctx)
            session = _session(ctx, "github", f"{repo.id}:issue:1")
            head = session.pushed_commit
            assert head is not None

            # Passed, or not finished: nothing to fix. Malformed: a clear 400.
            green = workflows.add_run(REPO, session.work_branch, head, {"t": ("success", "ok")})
            assert deliver(workflows.workflow_run_delivery(green), "workflow_run", "g-1") == (
                200,
                {"status": "ignored", "reason": "workflow run success"},
            )
            asked = workflows.workflow_run_delivery(green)
            asked["action"] = "requested"
            assert deliver(asked, "workflow_run", "g-2")[1]["status"] == "ignored"  # type: ignore[index]
            broken = workflows.workflow_run_delivery(green)
            broken["workflow_run"]["head_sha"] = "not a sha"
            status, said = deliver(broken, "workflow_run", "g-3")
            assert status == 400 and "head_sha" in str(said), said

            # One red push: the workflow run, a check run of it and its suite all fail.
            red = workflows.add_run(REPO, session.work_branch, head, {
                "lint": ("success", "fine"),
                "test": ("failure", _failing_log(fake.token, 1)),
            })  # fmt: skip
            failed_run = next(r for r in red.suite.runs if r.name == "test")
            assert deliver(workflows.workflow_run_delivery(red), "workflow_run", "w-1")[0] == 202
            assert deliver(workflows.workflow_run_delivery(red), "workflow_run", "w-1")[1] == {
                "status": "duplicate",
                "of": "delivery",
            }
            check_run = workflows.check_run_delivery(red.suite, failed_run)
            assert deliver(check_run, "check_run", "r-1")[0] == 202
            assert deliver(checks.delivery(red.suite), "check_suite", "s-1")[0] == 202
            run_jobs(ctx)

            assert len(_fix_prompts(redis, session)) == 1  # one attempt for the head
            fixed = _session(ctx, "github", session.thread.key).pushed_commit
            assert fixed not in (None, head)
            prompt = git("show", f"{session.work_branch}:ci-prompt-1.txt", cwd=origin)
            assert "### test" in prompt and "FAILED test_widget.py::test_size" in prompt
            assert "### lint" not in prompt and fake.token not in prompt
            assert f"/actions/runs/{red.id}" in prompt  # the run's page, for people

            # A check run failing on the fixed head on its own starts the next attempt.
            again = workflows.add_run(REPO, session.work_branch, str(fixed), {
                "test": ("failure", _failing_log(fake.token, 2)),
            })  # fmt: skip
            lone = workflows.check_run_delivery(again.suite, again.suite.runs[0])
            assert deliver(lone, "check_run", "r-2")[0] == 202
            run_jobs(ctx)
            assert len(_fix_prompts(redis, session)) == 2
