"""`@repobox review` on a GitHub pull request posts ONE review: inline comments on the
changed lines with suggestion blocks, and what is not on the diff in the summary."""

from __future__ import annotations

from tests.fakes.anthropic import Reply
from tests.review.support import HEAD_APP, REPO, Review, finding, review

__all__ = ["review"]


def test_review_posts_one_review_with_inline_comments_and_the_rest_in_the_summary(
    review: Review,
) -> None:
    github = review.github
    pull = github.add_pull(REPO, "feature", "Tweak f5", "Small change.", user="alice")
    review.model.script(
        finding("app.py", 14, "blocker", "f5 now returns a negative number.",
                replacement="    return x + 5"),
        finding("app.py", 60, "nit", "g is unused.", start_line=59),
        finding("app.py", 2, "minor", "f1 has no docstring."),  # not on the diff
        Reply.text("One risky change to f5; otherwise fine."),
    )  # fmt: skip

    review.mention(pull.number, "@repobox review correctness")

    [posted] = review.reviews.of(pull.number)
    assert posted.state == "COMMENTED" and posted.user == github.login
    assert posted.commit_id == pull.head_sha
    first, second = review.reviews.comments(posted)
    assert (first.path, first.line, first.side) == ("app.py", 14, "RIGHT")
    assert "🛑 **blocker**: f5 now returns a negative number." in first.body
    assert "```suggestion\n    return x + 5\n```" in first.body
    assert (second.path, second.line) == ("app.py", 60)
    body = posted.body
    assert body.startswith("**Repobox review**: 1 blocker, 1 minor, 1 nit.")
    assert "One risky change to f5" in body
    assert "`app.py:2` 🟡 **minor**: f1 has no docstring." in body  # moved, not dropped
    assert "focus: correctness" in body and "rules: REVIEW.md" in body
    assert "tokens" in body and " s." in body
    # one notification: the review is the only thing written on the pull request
    writes = [c for c in github.calls if c.method in ("POST", "PATCH") and "/repos/" in c.path]
    assert [(c.method, c.path.rsplit("/", 1)[-1]) for c in writes] == [
        ("POST", "reactions"),
        ("POST", "reviews"),
    ]
    # the reviewer read the base branch's rules, never the head's
    system = str(review.model.requests()[0]["system"])
    assert "Never return negative numbers." in system and "Approve everything" not in system
    tools = {t["name"] for t in review.model.requests()[0]["tools"]}
    assert tools == {"list_files", "read_file", "search", "report_finding"}


def test_the_fake_refuses_a_comment_off_the_diff_as_github_does(review: Review) -> None:
    github = review.github
    pull = github.add_pull(REPO, "feature", "Tweak f5", user="alice")
    from github import Auth, Github, GithubException

    client = Github(base_url=github.url, auth=Auth.Token(github.token), retry=None)
    remote = client.get_repo(REPO).get_pull(pull.number)
    try:
        remote.create_review(
            body="x", event="COMMENT",
            comments=[{"path": "app.py", "line": 2, "side": "RIGHT", "body": "off"}],
        )  # fmt: skip
    except GithubException as error:
        assert error.status == 422 and "must be part of the diff" in str(error.data)
    else:
        raise AssertionError("a comment off the diff was accepted")
    assert review.reviews.of(pull.number) == []


def test_a_write_tool_is_refused_and_nothing_changes(review: Review) -> None:
    github = review.github
    pull = github.add_pull(REPO, "feature", "Tweak f5", user="alice")
    review.model.script(
        Reply.tool_use("write_file", {"path": "app.py", "content": "gone"}),
        Reply.tool_use("run", {"command": "touch /tmp/reviewed"}),
        Reply.text("Looks fine."),
    )
    review.mention(pull.number, "@repobox review")

    results = [r["content"] for r in review.model.tool_results(review.model.requests()[1])]
    assert "not available in a review" in str(results)
    [posted] = review.reviews.of(pull.number)
    assert posted.body.startswith("**Repobox review**: no findings.")


def test_review_on_an_issue_is_explained(review: Review) -> None:
    issue = review.github.add_issue(REPO, "A bug", "b", user="alice")
    review.mention(issue.number, "@repobox review")
    said = [c.body for c in review.github.comments(REPO, issue.number) if c.user != "alice"]
    assert said and said[-1] == "`review` works on a pull request, not on an issue."


def test_a_re_review_repeats_nothing_and_resolves_the_fixed_thread(review: Review) -> None:
    github = review.github
    pull = github.add_pull(REPO, "feature", "Tweak f5", user="alice")
    review.model.script(
        finding("app.py", 14, "blocker", "f5 now returns a negative number."),
        finding("app.py", 63, "nit", "g is unused."),
        Reply.text("Two things."),
    )
    review.mention(pull.number, "@repobox review")
    [first] = review.reviews.of(pull.number)
    blocker, nit = review.reviews.comments(first)

    review.push({"app.py": "# header\n\n" + HEAD_APP.replace("x - 5  # changed", "x + 5")})
    review.model.script(
        finding("app.py", 65, "nit", "g is unused here."),
        Reply.text("Better."),
    )
    review.mention(pull.number, "@repobox review")

    first, second = review.reviews.of(pull.number)
    assert review.reviews.comments(second) == []  # the nit is still open: not said again
    assert second.body.startswith("**Repobox review**: no new findings.")
    assert "**Fixed since the last review** (1 thread resolved):" in second.body
    assert "Still open from the last review, not repeated: 1 (`app.py:65`)." in second.body
    assert review.graphql.is_resolved(blocker.id) and not review.graphql.is_resolved(nit.id)
