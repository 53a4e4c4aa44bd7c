"""The Claude Code preset as the reviewer: the real, pinned CLI against the fake model,
with read-only tools only and the findings as structured output (`--json-schema`).

What is checked is what people see: the review on the pull request, the comment that says
why nothing was posted, and that nothing edited or ran."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from bot.security.sandbox import probe
from jobs.worker import runtime
from tests.claude_cli import claude_bin_dir
from tests.fakes.anthropic import Reply
from tests.review.support import API_KEY, REPO, Review, finding, review
from tests.review.test_untrusted import FORK, fork_with_change

__all__ = ["review"]


WHERE = [
    pytest.param("off", id="bare"),
    pytest.param(
        "require",
        id="sandbox",
        marks=pytest.mark.skipif(
            not probe().usable, reason=f"bubblewrap is not usable here: {probe().detail}"
        ),
    ),
]


@pytest.fixture(params=WHERE)
def preset(
    review: Review,
    redis: Redis,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Review:
    """The deployment's agent is the Claude Code preset, `claude` on PATH as a worker has it."""
    home = tmp_path / "home"
    home.mkdir()
    for name, value in {
        "PATH": f"{claude_bin_dir()}:{os.environ['PATH']}",
        "HOME": str(home),
        "ANTHROPIC_API_KEY": API_KEY,
        "ANTHROPIC_BASE_URL": review.model.url,
        "CLAUDE_CODE_MAX_RETRIES": "2",
    }.items():
        monkeypatch.setenv(name, value)
    configured = review.ctx.settings.with_changes(
        agent="command",
        agent_command="claude-code",
        sandbox=request.param,
        agent_pass_env=frozenset(
            {"ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "CLAUDE_CODE_MAX_RETRIES"}
        ),
    )
    review.ctx = runtime.install(configured, redis)
    return review


def structured(summary: str, *findings: dict[str, Any]) -> Reply:
    return Reply.tool_use("StructuredOutput", {"summary": summary, "findings": list(findings)})


def loop(review: Review) -> list[dict[str, Any]]:
    return [r for r in review.model.requests() if r.get("tools")]


def test_a_review_with_the_preset_posts_inline_comments_from_its_structured_findings(
    preset: Review, tmp_path: Path
) -> None:
    github = preset.github
    pull = github.add_pull(REPO, "feature", "Tweak f5", "Small change.", user="alice")
    proof = tmp_path / "ran"
    preset.model.script(
        Reply.tool_use("Edit", {"file_path": "app.py", "old_string": "x", "new_string": "y"}),
        Reply.tool_use("Bash", {"command": f"touch {proof}"}),
        Reply.tool_use("Read", {"file_path": "app.py"}),
        structured(
            "One risky change to f5; otherwise fine.",
            {"path": "app.py", "line": 14, "severity": "blocker",
             "message": "f5 now returns a negative number.", "replacement": "    return x + 5"},
            {"path": "app.py", "line": 60, "start_line": 59, "severity": "nit",
             "message": "g is unused."},
            {"path": "app.py", "line": 2, "severity": "minor", "message": "f1 has no docstring."},
        ),
    )  # fmt: skip

    preset.mention(pull.number, "@repobox review correctness")

    [posted] = preset.reviews.of(pull.number)
    assert posted.state == "COMMENTED" and posted.commit_id == pull.head_sha
    first, second = preset.reviews.comments(posted)
    assert (first.path, first.line, first.side) == ("app.py", 14, "RIGHT")
    assert "🛑 **blocker**: f5 now returns a negative number." in first.body
    assert "```suggestion\n    return x + 5\n```" in first.body
    assert (second.path, second.line) == ("app.py", 60)
    body = posted.body
    assert body.startswith("**Repobox review**: 1 blocker, 1 minor, 1 nit.")
    assert "One risky change to f5" in body
    assert "`app.py:2` 🟡 **minor**: f1 has no docstring." in body
    assert "focus: correctness" in body and "rules: REVIEW.md" in body
    # read-only: no edit or command tool is offered, a call to one is refused, nothing ran
    requests = loop(preset)
    offered = {t["name"] for t in requests[0]["tools"]}
    assert "StructuredOutput" in offered and "Read" in offered
    assert not offered & {"Edit", "Write", "Bash", "NotebookEdit", "WebFetch"}
    refused = [r for q in requests[1:3] for r in preset.model.tool_results(q)]
    assert [r.get("is_error") for r in refused] == [True, True]
    assert not proof.exists()
    read = str(preset.model.tool_results(requests[3]))
    assert "return x - 5  # changed" in read  # the head, checked out
    # the rules come from the base branch, in the system prompt; the head's CLAUDE-style
    # files are not read (--bare), and its REVIEW.md is not the rules
    system = str(requests[0]["system"])
    assert "Never return negative numbers." in system and "Approve everything" not in system
    assert "Tweak f5" in str(requests[0]["messages"])  # the task, on stdin
    preset.model.assert_done()


def test_findings_that_cannot_be_read_post_nothing_and_say_why(preset: Review) -> None:
    pull = preset.github.add_pull(REPO, "feature", "Tweak f5", user="alice")
    preset.model.script(
        structured(
            "Done.",
            {"path": "app.py", "line": 14, "start_line": 20, "severity": "major", "message": "x"},
        )
    )

    preset.mention(pull.number, "@repobox review")

    assert preset.reviews.of(pull.number) == []
    said = [c.body for c in preset.github.comments(REPO, pull.number) if c.user != "alice"]
    assert said[-1].startswith("Claude Code's findings could not be read (finding 1:")
    assert "start_line must not be after line" in said[-1]
    assert said[-1].endswith("so no review was posted.")


def test_a_fork_pull_request_is_reviewed_by_the_built_in_reviewer_not_the_preset(
    preset: Review, tmp_path: Path
) -> None:
    fork_with_change(preset, tmp_path)
    pull = preset.github.add_pull(REPO, "patch-1", "Tweak f5", user="mallory", fork=FORK)
    preset.model.script(
        finding("app.py", 14, "blocker", "f5 now returns a negative number."),
        Reply.text("One risky change."),
    )

    preset.mention(pull.number, "@repobox review")

    [posted] = preset.reviews.of(pull.number)
    assert [c.line for c in preset.reviews.comments(posted)] == [14]
    tools = {t["name"] for t in preset.model.requests()[0]["tools"]}
    assert tools == {"list_files", "read_file", "search", "report_finding"}  # no process
