"""Re-review bookkeeping: lines followed through new commits, and what counts as the same
finding, fixed, or still open."""

from __future__ import annotations

from bot.agents.findings import Finding, Severity
from bot.review.memory import Remembered, finding_key, move, sort_findings


def test_lines_follow_insertions_deletions_and_changes() -> None:
    hunks = [(0, 0, 1, 2), (5, 2, 7, 1), (10, 1, 10, 0)]  # +2 at top; 5-6 → one; 10 gone
    assert move(1, hunks) == 3
    assert move(4, hunks) == 6
    assert move(5, hunks) is None and move(6, hunks) is None
    assert move(7, hunks) == 8
    assert move(10, hunks) is None
    assert move(11, hunks) == 11  # old 9 is new 10; old 10 is gone; old 11 is new 11


def test_same_place_and_meaning_is_not_new_changed_lines_are_fixed() -> None:
    old_nit = Finding("a.py", 20, Severity.NIT, "g is unused.")
    old_bug = Finding("a.py", 5, Severity.MAJOR, "Off by one in the loop.")
    old_far = Finding("b.py", 3, Severity.MINOR, "Name is unclear.")
    earlier = Remembered("old", {finding_key(f): f for f in (old_nit, old_bug, old_far)})
    moves = {"a.py": [(0, 0, 1, 2), (5, 1, 7, 1)]}  # two lines on top; line 5 rewritten
    again = Finding("a.py", 22, Severity.NIT, "g is unused here.")
    other = Finding("a.py", 22, Severity.MAJOR, "SQL injection through name.")
    out = sort_findings(earlier, [again, other], moves)
    assert list(out.repeated.values()) == [again]
    assert list(out.new.values()) == [other]
    assert list(out.fixed.values()) == [old_bug]
    assert [f.line for f in out.kept.values()] == [3]  # b.py untouched: still open


def test_the_first_versions_stored_list_still_loads() -> None:
    stored = [{"path": "a.py", "line": 2, "start_line": None, "severity": "nit",
               "message": "m", "replacement": None}]  # fmt: skip
    found = Remembered.from_stored(stored)
    assert found.head is None and [f.line for f in found.findings.values()] == [2]
