"""Checkpoint messages: imperative subjects of at most 72 characters, written from the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.git.checkpoints import DiffStat, FileChange, staged_diffstat
from bot.git.commit_message import commit_message, first_sentence, imperative, subject_line
from bot.sessions.session import Person
from tests.conftest import git

ADA = Person("U1", "Ada Lovelace", "ada@example.com")
CHANGES = DiffStat((FileChange("bot/retry.py", 12, 3), FileChange("tests/test_retry.py", 20, 0)))


@pytest.mark.parametrize(
    ("summary", "prompt", "subject"),
    [
        (
            "I added retries to the GitHub client so 502s no longer fail the run. Tests too.",
            "can you make it retry?",
            "Add retries to the GitHub client so 502s no longer fail the run",
        ),
        (
            "Fixed the flaky test in `tests/test_x.py`.",
            "x",
            "Fix the flaky test in tests/test_x.py",
        ),
        ("**Done!** Updated the README's setup section", "hm", "Update the README's setup section"),
        ("This change renames `Foo` to `Bar`.", "rename", "Rename Foo to Bar"),
        ("Simplifies the parser", "p", "Simplify the parser"),
        # No simple rewrite of the summary: the prompt, when it reads as an order.
        ("The retry logic now backs off.", "fix the typo in README", "Fix the typo in README"),
        (None, "add a --dry-run flag", "Add a --dry-run flag"),
        # Neither: the files.
        (
            "The retry logic now backs off.",
            "why does it fail?",
            "Update bot/retry.py and tests/test_retry.py",
        ),
    ],
)
def test_the_subject_comes_from_the_summary_the_prompt_or_the_files(
    summary: str | None, prompt: str, subject: str
) -> None:
    assert subject_line(summary, prompt, [f.path for f in CHANGES.files]) == subject


def test_subjects_are_at_most_72_characters_cut_at_a_word() -> None:
    summary = (
        "Made the retry back off exponentially when the server answers 502, 503 or any other "
        "gateway error"
    )
    subject = subject_line(summary, "", [])
    assert len(subject) <= 72
    assert subject == "Make the retry back off exponentially when the server answers 502, 503…"


def test_subjects_from_files_name_the_folder_when_they_share_one() -> None:
    assert subject_line(None, "?", ["a.py"]) == "Update a.py"
    assert subject_line(None, "?", ["bot/a.py", "bot/b.py", "bot/c.py"]) == (
        "Update 3 files in bot/"
    )
    assert subject_line(None, "?", ["a.py", "bot/b.py", "c/d.py"]) == "Update 3 files"
    assert subject_line(None, "", []) == "Update the work branch"


def test_first_sentence_and_imperative() -> None:
    assert first_sentence("## Fixed it.\nMore text") == "Fixed it"
    assert first_sentence("- bullet one\n- bullet two") == "bullet one"
    assert imperative("Now uses a pool") == "Use a pool"
    assert imperative("I've wrote tests") == "Write tests"
    assert imperative("The tests pass") is None
    assert imperative("") is None


def test_the_whole_message_has_subject_body_and_trailer() -> None:
    message = commit_message(
        summary="Added retries to the GitHub client.\n\nThe client now retries 502 and 503 "
        "answers three times with a growing pause, and the tests cover both.",
        prompt="please make the github client retry on 502",
        changes=CHANGES,
        author=ADA,
    )
    subject, blank, *rest = message.splitlines()
    assert subject == "Add retries to the GitHub client"
    assert blank == ""
    assert all(len(line) <= 72 for line in rest)
    assert "- bot/retry.py (+12 −3)\n- tests/test_retry.py (+20 −0)" in message
    assert 'Asked by Ada Lovelace: "please make the github client retry on 502"' in message
    assert message.endswith("\n\nCo-authored-by: Ada Lovelace <ada@example.com>\n")


def test_a_long_file_list_is_cut_and_no_summary_is_fine() -> None:
    many = DiffStat(tuple(FileChange(f"f{n}.txt", 1, 0) for n in range(25)))
    message = commit_message(summary=None, prompt="", changes=many, author=ADA)
    assert message.startswith("Update 25 files\n\nChanges:\n- f0.txt (+1 −0)\n")
    assert "- … and 5 more\n" in message
    assert "Asked by" not in message


def test_the_staged_changes_feed_the_message_before_the_commit(tmp_path: Path) -> None:
    work = tmp_path / "work"
    git("init", "--quiet", "--initial-branch=main", str(work))
    (work / "a.py").write_text("one\n")
    git("add", "--all", cwd=work)
    git("commit", "--quiet", "-m", "base", cwd=work)
    (work / "a.py").write_text("two\nthree\n")
    (work / "new.py").write_text("x\n")
    staged = staged_diffstat(work)
    assert [(f.path, f.added, f.removed) for f in staged.files] == [
        ("a.py", 2, 1),
        ("new.py", 1, 0),
    ]
    message = commit_message(summary="Split a.py.", prompt="split", changes=staged, author=ADA)
    assert message.startswith("Split a.py\n\nSplit a.py.\n\nChanges:\n- a.py (+2 −1)\n")
