"""`@repobox fix this` in a finding's thread and `@repobox fix all` on the pull request: the
finding becomes a prompt in the pull request's session, the fix is pushed to its branch,
the thread hears the commit and is resolved. The real app, PyGithub against the fake
GitHub, the built-in agent against the scripted fake model, real jobs, real git."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.core.config import Settings
from tests.conftest import git, run_jobs
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.github import webhook_request
from tests.review.gitlab_support import SECRET as LAB_SECRET
from tests.review.gitlab_support import Lab, lab
from tests.review.support import REPO, SECRET, Review, finding, review
from tests.review.test_untrusted import FORK, fork_with_change

__all__ = ["lab", "review"]

FIXED_F5 = "    return x + 5\n"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The session's runs use the built-in agent, so the scripted model makes the fix."""
    return settings.with_changes(agent="anthropic", sandbox="off")


def reviewed(review: Review) -> tuple[Any, Any, Any]:
    """A pull request reviewed with a blocker (with a suggestion) and a nit."""
    pull = review.github.add_pull(REPO, "feature", "Tweak f5", user="alice")
    review.model.script(
        finding("app.py", 14, "blocker", "f5 now returns a negative number.",
                replacement=FIXED_F5.rstrip("\n")),
        finding("app.py", 63, "nit", "g is unused."),
        Reply.text("Two things."),
    )  # fmt: skip
    review.mention(pull.number, "@repobox review")
    [posted] = review.reviews.of(pull.number)
    blocker, nit = review.reviews.comments(posted)
    return pull, blocker, nit


def reply_in_thread(review: Review, number: int, root: Any, body: str, user: str = "alice") -> int:
    payload = review.github.review_comment_payload(
        REPO, number, body, user=user, path=root.path, line=root.line, in_reply_to=root.id
    )
    request_body, headers = webhook_request(payload, SECRET)
    assert review.app.post("/webhooks/github", request_body, headers)[0] == 202
    run_jobs(review.ctx)
    return int(payload["comment"]["id"])


def first_prompt(model: FakeAnthropic) -> str:
    """The user turn of the fix's run (the last run: the edit, then its answer)."""
    content = model.requests()[-2]["messages"][0]["content"]
    return "".join(b.get("text", "") for b in content) if isinstance(content, list) else content


def answers_to(review: Review, number: int, root: Any) -> list[str]:
    return [
        c.body
        for c in review.github.comments(REPO, number, "review")
        if c.in_reply_to_id == root.id and c.user == review.github.login
    ]


def test_fix_this_commits_to_the_branch_replies_with_the_commit_and_resolves(
    review: Review,
) -> None:
    pull, blocker, nit = reviewed(review)
    review.model.script(
        Reply.tool_use("edit_file", {"path": "app.py", "old": "    return x - 5  # changed\n",
                                     "new": FIXED_F5}),
        Reply.text("f5 adds 5 again."),
    )  # fmt: skip
    reply_in_thread(review, pull.number, blocker, "@repobox fix this")

    # The finding reached the agent as the prompt: place, severity, message, replacement.
    asked = first_prompt(review.model)
    assert "`app.py:14` (blocker): f5 now returns a negative number." in asked
    assert "Suggested replacement for those lines:\n~~~~\n    return x + 5\n~~~~" in asked
    assert "g is unused" not in asked
    # Committed and pushed to the pull request's own branch.
    assert git("show", "feature:app.py", cwd=review.origin).count("return x + 5\n") == 1
    assert "x - 5" not in git("show", "feature:app.py", cwd=review.origin)
    head = git("rev-parse", "feature", cwd=review.origin).strip()
    said = answers_to(review, pull.number, blocker)
    assert said and said[-1].startswith("@alice done in"), said
    assert f"(commit {head[:10]})" in said[-1]
    assert [p.number for p in review.github.pulls(REPO)] == [pull.number]  # no second PR
    # Resolved once pushed (no checks declared: nothing blocks); the nit's thread stays open.
    assert review.graphql.is_resolved(blocker.id) and not review.graphql.is_resolved(nit.id)


def test_fix_all_takes_every_open_finding_as_one_prompt(review: Review) -> None:
    pull, _, _ = reviewed(review)
    review.model.script(
        Reply.tool_use("edit_file", {"path": "app.py", "old": "    return x - 5  # changed\n",
                                     "new": FIXED_F5}),
        Reply.text("Fixed both."),
    )  # fmt: skip
    review.mention(pull.number, "@repobox fix all")

    asked = first_prompt(review.model)
    assert "Fix these 2 findings" in asked
    assert "`app.py:14` (blocker)" in asked and "`app.py:63` (nit): g is unused." in asked
    assert "x - 5" not in git("show", "feature:app.py", cwd=review.origin)


def test_fix_this_outside_a_finding_thread_or_without_write_is_refused(review: Review) -> None:
    pull, blocker, _ = reviewed(review)
    calls = len(review.model.requests())
    people = review.github.add_review_comment(REPO, pull.number, "hmm", user="alice", path="app.py")
    reply_in_thread(review, pull.number, people, "@repobox fix this")
    theirs = [
        c.body
        for c in review.github.comments(REPO, pull.number, "review")
        if c.in_reply_to_id == people.id and c.user == review.github.login
    ]
    assert theirs == [
        "`fix this` works as a reply in the thread of a Repobox review finding. "
        "Here, just tell me what to change."
    ]
    reply_in_thread(review, pull.number, blocker, "@repobox apply", user="eve")  # read only
    assert answers_to(review, pull.number, blocker) == [
        "Sorry, only people with write access to this repository can ask me for changes."
    ]
    assert len(review.model.requests()) == calls  # no run at all
    assert not review.graphql.is_resolved(blocker.id)


def test_fix_all_with_nothing_reviewed_says_so(review: Review) -> None:
    pull = review.github.add_pull(REPO, "feature", "Tweak f5", user="alice")
    review.mention(pull.number, "@repobox fix all")
    said = [c.body for c in review.github.comments(REPO, pull.number) if c.user != "alice"]
    assert said[-1] == (
        "There is no open finding of a Repobox review here. Ask `@repobox review` first."
    )
    assert review.model.requests() == []


def test_fix_this_in_a_gitlab_discussion_pushes_and_resolves_it(lab: Lab) -> None:
    mr = lab.fake.add_merge_request(lab.project, "feature", title="Tweak f5", author="alice")
    lab.model.script(
        finding("app.py", 14, "blocker", "f5 now returns a negative number."),
        finding("app.py", 63, "nit", "g is unused."),
        Reply.text("Two things."),
    )
    lab.mention(mr.iid, "@repobox review")
    threads = [n for n in lab.bot_notes(mr.iid) if n.position is not None]
    blocker = next(n for n in threads if "negative" in n.body)
    lab.model.script(
        Reply.tool_use("edit_file", {"path": "app.py", "old": "    return x - 5  # changed\n",
                                     "new": FIXED_F5}),
        Reply.text("f5 adds 5 again."),
    )  # fmt: skip
    payload = lab.fake.note_hook_payload(
        lab.project, "merge_request", mr.iid, "@repobox fix this", "alice",
        discussion_id=blocker.discussion_id,
    )  # fmt: skip
    raw = json.dumps(payload).encode()
    assert lab.app.post("/webhooks/gitlab", raw, lab.fake.hook_headers(LAB_SECRET))[0] == 202
    run_jobs(lab.ctx)

    assert "`app.py:14` (blocker)" in first_prompt(lab.model)
    assert "x - 5" not in git("show", "feature:app.py", cwd=lab.origin)
    head = git("rev-parse", "feature", cwd=lab.origin).strip()
    said = [n.body for n in lab.bot_notes(mr.iid) if n.discussion_id == blocker.discussion_id]
    assert said[-1].startswith("@alice done in") and f"(commit {head[:10]})" in said[-1]
    threads = [n for n in lab.bot_notes(mr.iid) if n.position is not None]
    assert next(n for n in threads if "negative" in n.body).resolved
    assert not next(n for n in threads if "g is unused" in n.body).resolved


def test_fix_this_on_a_fork_pull_request_says_why_it_cannot_push(
    review: Review, tmp_path: Path
) -> None:
    fork_with_change(review, tmp_path)
    pull = review.github.add_pull(REPO, "patch-1", "Tweak f5", user="mallory", fork=FORK)
    review.model.script(
        finding("app.py", 14, "blocker", "f5 now returns a negative number."),
        Reply.text("One risky change."),
    )
    review.mention(pull.number, "@repobox review")
    [posted] = review.reviews.of(pull.number)
    [blocker] = review.reviews.comments(posted)
    calls = len(review.model.requests())

    reply_in_thread(review, pull.number, blocker, "@repobox fix this")
    assert answers_to(review, pull.number, blocker) == [
        "This pull request comes from a fork; I can only push to branches of "
        f"`{REPO}`, so I cannot commit this fix."
    ]
    assert len(review.model.requests()) == calls
    assert not review.graphql.is_resolved(blocker.id)
