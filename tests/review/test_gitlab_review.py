"""`@repobox review` on a GitLab merge request: draft notes on the changed lines with
`suggestion:-N+M` blocks, published together (one notification), the rest in the summary
note; a re-review after a push repeats nothing and resolves the fixed thread."""

from __future__ import annotations

from tests.fakes.anthropic import Reply
from tests.review.gitlab_support import Lab, lab
from tests.review.support import HEAD_APP, finding

__all__ = ["lab"]


def test_review_posts_draft_notes_published_at_once(lab: Lab) -> None:
    mr = lab.fake.add_merge_request(lab.project, "feature", title="Tweak f5", author="alice")
    lab.model.script(
        finding("app.py", 14, "blocker", "f5 now returns a negative number.",
                replacement="    return x + 5"),
        finding("app.py", 60, "nit", "g is unused.", start_line=59),
        finding("app.py", 2, "minor", "f1 has no docstring."),  # not on the diff
        Reply.text("One risky change to f5; otherwise fine."),
    )  # fmt: skip

    lab.mention(mr.iid, "@repobox review correctness")

    assert lab.reviews.publishes == [(mr.iid, 3)]  # one bulk publish: one notification
    assert lab.reviews.drafts == []
    notes = lab.bot_notes(mr.iid)
    inline = [n for n in notes if n.position is not None]
    [summary] = [n for n in notes if n.position is None]
    first, second = inline
    assert first.type == "DiffNote" and first.position is not None
    assert (first.position["new_path"], first.position["new_line"]) == ("app.py", 14)
    assert first.position["old_line"] is None  # an added line: new_line alone
    assert "🛑 **blocker**: f5 now returns a negative number." in first.body
    assert "```suggestion:-0+0\n    return x + 5\n```" in first.body
    assert second.position is not None and second.position["new_line"] == 60
    assert summary.body.startswith("**Repobox review**: 1 blocker, 1 minor, 1 nit.")
    assert "`app.py:2` 🟡 **minor**: f1 has no docstring." in summary.body
    assert "rules: REVIEW.md" in summary.body
    writes = [c for c in lab.fake.calls if c.method in ("POST", "PUT")]
    assert [c.path.rsplit("/", 1)[-1] for c in writes] == [
        "award_emoji", "draft_notes", "draft_notes", "draft_notes", "bulk_publish",
    ]  # fmt: skip


def test_a_draft_off_the_diff_is_refused_as_gitlab_does(lab: Lab) -> None:
    import gitlab

    mr = lab.fake.add_merge_request(lab.project, "feature", title="Tweak f5", author="alice")
    client = gitlab.Gitlab(lab.fake.url, private_token=lab.ctx.settings.gitlab_token)
    remote = client.projects.get(lab.project).mergerequests.get(mr.iid)
    refs = remote.diff_refs
    position = {"position_type": "text", **refs, "old_path": "app.py", "new_path": "app.py"}
    try:
        remote.draft_notes.create({"note": "off", "position": {**position, "new_line": 2}})
    except gitlab.GitlabCreateError as error:
        assert error.response_code == 400 and "line_code" in str(error.error_message)
    else:
        raise AssertionError("a draft off the diff was accepted")
    try:  # an unchanged line needs old_line too
        remote.draft_notes.create({"note": "ctx", "position": {**position, "new_line": 12}})
    except gitlab.GitlabCreateError as error:
        assert error.response_code == 400
    else:
        raise AssertionError("a context line without old_line was accepted")
    remote.draft_notes.create(
        {"note": "ok", "position": {**position, "new_line": 12, "old_line": 12}}
    )


def test_a_re_review_repeats_nothing_and_resolves_what_was_fixed(lab: Lab) -> None:
    mr = lab.fake.add_merge_request(lab.project, "feature", title="Tweak f5", author="alice")
    lab.model.script(
        finding("app.py", 14, "blocker", "f5 now returns a negative number."),
        finding("app.py", 63, "nit", "g is unused."),
        Reply.text("Two things."),
    )
    lab.mention(mr.iid, "@repobox review")
    assert lab.reviews.publishes == [(mr.iid, 3)]

    # f5 is fixed; g stays (and moves down two lines); the model says both again in words
    lab.push({"app.py": "# header\n\n" + HEAD_APP.replace("x - 5  # changed", "x + 5")})
    lab.model.script(
        finding("app.py", 65, "nit", "g is unused here."),
        finding("app.py", 1, "minor", "The header says nothing."),
        Reply.text("Better."),
    )
    lab.mention(mr.iid, "@repobox review")

    assert lab.reviews.publishes == [(mr.iid, 3), (mr.iid, 2)]  # one new inline + summary
    notes = lab.bot_notes(mr.iid)
    threads = [n for n in notes if n.position is not None]
    assert len(threads) == 3  # the nit was not posted again
    blocker = next(n for n in threads if "negative" in n.body)
    assert blocker.resolved
    assert not next(n for n in threads if "g is unused" in n.body).resolved
    summary = [n for n in notes if n.position is None][-1].body
    assert summary.startswith("**Repobox review**: 1 minor new.")
    assert "**Fixed since the last review** (1 thread resolved):" in summary
    assert "f5 now returns a negative number." in summary
    assert "Still open from the last review, not repeated: 1 (`app.py:65`)." in summary
