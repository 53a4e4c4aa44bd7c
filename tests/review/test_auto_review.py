"""`review:` in `.repobox.yml` (read from the base branch): automatic reviews when a pull
request is opened, marked ready or pushed to; `REQUEST_CHANGES` on a blocker; reviews for
people without write access on a public repository. GitHub end to end: the real app,
PyGithub against the fake GitHub, the scripted model, real RQ jobs and real git."""

from __future__ import annotations

from typing import Any

from tests.conftest import git, run_jobs
from tests.fakes.anthropic import Reply
from tests.fakes.github import Issue, webhook_request
from tests.review.support import REPO, SECRET, Review, finding, review

__all__ = ["review"]


def declare(review: Review, text: str) -> None:
    """The base branch gets a `.repobox.yml` (before the pull request is opened)."""
    seed = review.origin.parent.parent / "seeds" / "origin"
    git("checkout", "--quiet", "main", cwd=seed)
    (seed / ".repobox.yml").write_text(text)
    git("add", ".repobox.yml", cwd=seed)
    git("commit", "--quiet", "-m", "review settings", cwd=seed)
    git("push", "--quiet", str(review.origin), "main", cwd=seed)


def pull_event(review: Review, pull: Issue, action: str, **more: Any) -> dict[str, Any]:
    repository = review.github.issue_comment_payload(REPO, pull.number, "x")["repository"]
    return {
        "action": action,
        "number": pull.number,
        "pull_request": {
            "number": pull.number,
            "draft": False,
            "state": "open",
            "head": {"ref": pull.head, "sha": pull.head_sha},
            "base": {"ref": pull.base, "sha": pull.base_sha},
            **more,
        },
        "repository": repository,
        "sender": {"login": "alice", "id": 7, "type": "User"},
    }


def deliver(review: Review, payload: dict[str, Any], delivery: str | None = None) -> Any:
    body, headers = webhook_request(payload, SECRET, "pull_request", delivery=delivery)
    status, answer = review.app.post("/webhooks/github", body, headers)
    run_jobs(review.ctx)
    return status, answer


def test_a_pull_request_opened_is_reviewed_when_declared_once_per_head(review: Review) -> None:
    declare(review, "review:\n  auto: [opened, pushed]\n")
    pull = review.github.add_pull(REPO, "feature", "Tweak f5", "Small.", user="alice")
    review.model.script(
        finding("app.py", 14, "major", "f5 now subtracts."),
        Reply.text("One change to f5."),
    )

    assert deliver(review, pull_event(review, pull, "opened"), "d-1")[0] == 202
    [posted] = review.reviews.of(pull.number)
    assert posted.state == "COMMENTED"
    assert posted.body.startswith("**Repobox review**: 1 major.")
    [inline] = review.reviews.comments(posted)
    assert (inline.path, inline.line) == ("app.py", 14)

    # a redelivery, and the same head announced again: no second review
    assert deliver(review, pull_event(review, pull, "opened"), "d-1")[1]["status"] == "duplicate"
    assert deliver(review, pull_event(review, pull, "opened"), "d-2")[1]["status"] == "duplicate"
    assert len(review.reviews.of(pull.number)) == 1


def test_nothing_is_reviewed_unless_declared_and_a_draft_waits(review: Review) -> None:
    declare(review, "review:\n  auto: ready\n")
    pull = review.github.add_pull(REPO, "feature", "Tweak f5", user="alice", draft=True)

    assert deliver(review, pull_event(review, pull, "opened", draft=True))[1] == {
        "status": "ignored",
        "reason": "a draft: reviewed once it is ready",
    }
    assert deliver(review, pull_event(review, pull, "synchronize"))[0] == 202  # not declared
    assert review.reviews.of(pull.number) == []
    assert review.model.requests() == []

    review.model.script(Reply.text("Fine."))
    assert deliver(review, pull_event(review, pull, "ready_for_review"))[0] == 202
    [posted] = review.reviews.of(pull.number)
    assert posted.body.startswith("**Repobox review**: no findings.")


def test_a_blocker_requests_changes_when_declared(review: Review) -> None:
    declare(review, "review:\n  request_changes: blocker\n")
    pull = review.github.add_pull(REPO, "feature", "Tweak f5", user="alice")
    review.model.script(
        finding("app.py", 14, "blocker", "f5 now returns a negative number."),
        Reply.text("Risky."),
    )
    review.mention(pull.number, "@repobox review")

    [posted] = review.reviews.of(pull.number)
    assert posted.state == "CHANGES_REQUESTED"
    assert "🛑 **Changes requested**: a blocker must be fixed before this merges." in posted.body

    review.model.script(finding("app.py", 14, "nit", "Say why."), Reply.text("Small."))
    review.mention(pull.number, "@repobox review")  # no blocker this time: a comment
    assert review.reviews.of(pull.number)[-1].state == "COMMENTED"


def test_instructions_name_an_extra_rules_file_read_from_the_base(review: Review) -> None:
    seed = review.origin.parent.parent / "seeds" / "origin"
    git("checkout", "--quiet", "main", cwd=seed)
    (seed / "docs").mkdir(exist_ok=True)
    (seed / "docs" / "rules.md").write_text("Every function needs a docstring.\n")
    git("add", "docs/rules.md", cwd=seed)
    git("commit", "--quiet", "-m", "rules", cwd=seed)
    declare(review, "review:\n  instructions: docs/rules.md\n")
    pull = review.github.add_pull(REPO, "feature", "Tweak f5", user="alice")
    review.model.script(Reply.text("Fine."))
    review.mention(pull.number, "@repobox review")

    system = str(review.model.requests()[0]["system"])
    assert "Every function needs a docstring." in system
    assert "rules: REVIEW.md, docs/rules.md" in review.reviews.of(pull.number)[0].body


def test_a_person_without_write_access_is_refused_by_default(review: Review) -> None:
    pull = review.github.add_pull(REPO, "feature", "Tweak f5", user="alice")
    review.mention(pull.number, "@repobox review", user="eve")

    assert review.reviews.of(pull.number) == []
    said = [c.body for c in review.github.comments(REPO, pull.number) if c.user != "eve"]
    assert said == [
        "Sorry, only people with write access to this repository can ask me for changes."
    ]
    assert review.model.requests() == []


def test_allow_without_write_lets_them_ask_for_a_review_but_never_a_fix(review: Review) -> None:
    declare(review, "review:\n  allow_without_write: true\n")
    pull = review.github.add_pull(REPO, "feature", "Tweak f5", user="alice")
    review.model.script(Reply.text("Fine."))
    review.mention(pull.number, "@repobox review", user="eve")
    [posted] = review.reviews.of(pull.number)
    assert posted.body.startswith("**Repobox review**: no findings.")

    review.mention(pull.number, "@repobox make f5 faster", user="eve")
    said = [c.body for c in review.github.comments(REPO, pull.number) if c.user != "eve"]
    assert said[-1] == (
        "Sorry, only people with write access to this repository can ask me for changes."
    )


def test_a_broken_review_key_is_named_with_its_line(review: Review) -> None:
    declare(review, "review:\n  request_changes: always\n")
    pull = review.github.add_pull(REPO, "feature", "Tweak f5", user="alice")
    review.mention(pull.number, "@repobox review")
    said = [c.body for c in review.github.comments(REPO, pull.number) if c.user != "alice"]
    assert "line 2, `review.request_changes`: expected blocker or never, got `always`" in said[-1]
