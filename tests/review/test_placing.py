"""Where findings land on a real `git diff`, and how a suggestion is written."""

from __future__ import annotations

from bot.agents.findings import Finding, Severity
from bot.commands.grammar import CommandKind, parse
from bot.review.diff import parse_diff
from bot.review.placing import comment_body, github_comment, place

DIFF = """\
diff --git a/a.py b/a.py
index 1..2 100644
--- a/a.py
+++ b/a.py
@@ -1,3 +1,4 @@
 one
-two
+TWO
+two and a half
 three
@@ -10,2 +11,2 @@
 ten
-eleven
+ELEVEN
diff --git a/new.py b/new.py
new file mode 100644
--- /dev/null
+++ b/new.py
@@ -0,0 +1,2 @@
+x = 1
+y = 2
"""


def test_findings_on_one_hunk_go_inline_and_the_rest_to_the_summary() -> None:
    files = parse_diff(DIFF)
    assert (files["a.py"].additions, files["a.py"].deletions) == (3, 2)
    inline = Finding("a.py", 3, Severity.MAJOR, "m", start_line=2)
    across = Finding("a.py", 11, Severity.MINOR, "spans two hunks", start_line=3)
    untouched = Finding("b.py", 1, Severity.NIT, "not in the change")
    new = Finding("new.py", 2, Severity.BLOCKER, "b")
    placed = place([inline, across, untouched, new], files)
    assert placed.inline == [inline, new]
    assert placed.outside == [across, untouched]
    assert github_comment(inline, "0123456789ab") == {
        "path": "a.py", "line": 3, "side": "RIGHT",
        "body": "🔴 **major**: m\n\n<!-- repobox-finding:0123456789ab -->",
        "start_line": 2, "start_side": "RIGHT",
    }  # fmt: skip


def test_a_suggestion_cannot_be_closed_early_by_its_own_backticks() -> None:
    finding = Finding("a.py", 3, Severity.NIT, "n", start_line=2, replacement="```\nx\n")
    assert comment_body(finding, "github").endswith("````suggestion\n```\nx\n````")
    assert "````suggestion:-1+0\n" in comment_body(finding, "gitlab")


def test_review_takes_an_optional_focus() -> None:
    assert parse("review").kind is CommandKind.REVIEW and parse("review").prompt is None
    assert parse("review the SQL please").prompt == "the SQL please"
