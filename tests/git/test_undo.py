"""`undo` at the git layer, with real git: a local work branch and a bare remote."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.errors import Conflict, UserError
from bot.git.checkpoints import checkpoint, head, push
from bot.git.undo import Undone, pushed_commit, undo_checkpoint
from bot.sessions.session import Person
from tests.conftest import MakeRepo, git

ADA = Person("U1", "Ada", "ada@example.com")
BRANCH = "repobox/1-work"


def session(make_repo: MakeRepo, tmp_path: Path) -> tuple[Path, Path, str]:
    """(workdir on the work branch, bare remote, base commit)."""
    bare = make_repo(files={"app.py": "one\n", "README.md": "# Example\n"})
    work = tmp_path / "work"
    git("clone", "--quiet", str(bare), str(work))
    git("checkout", "--quiet", "-b", BRANCH, cwd=work)
    return work, bare, head(work)


def run(work: Path, files: dict[str, str], prompt: str) -> str:
    for name, text in files.items():
        (work / name).write_text(text)
    commit = checkpoint(work, prompt, ADA, "Repobox", "repobox@example.com")
    assert commit is not None
    return commit


def undo(work: Path, base: str, pushed: str | None, **kwargs: str) -> Undone:
    return undo_checkpoint(
        work,
        base=base,
        pushed=pushed,
        asked_by=ADA,
        bot_name="Repobox",
        bot_email="repobox@example.com",
        **kwargs,
    )


def test_an_unpushed_checkpoint_is_taken_back_by_moving_the_branch(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    work, bare, base = session(make_repo, tmp_path)
    first = run(work, {"app.py": "two\n"}, "change app")
    run(work, {"app.py": "three\n", "new.py": "x = 1\ny = 2\n"}, "more")
    undone = undo(work, base, pushed_commit(str(bare), BRANCH, None))
    assert not undone.reverted
    assert undone.head == first == head(work)
    assert (work / "app.py").read_text() == "two\n"
    assert not (work / "new.py").exists()
    assert [(f.path, f.added, f.removed) for f in undone.change.files] == [
        ("app.py", 1, 1),
        ("new.py", 0, 2),  # the undo removes what the checkpoint added
    ]
    assert undone.summary() == (
        f"Took back `{undone.checkpoint[:10]}` by moving the work branch back (it was not "
        "pushed yet): 2 files changed (+1 −3)."
    )
    assert Undone.from_dict(undone.to_dict()) == undone


def test_a_pushed_checkpoint_gets_a_revert_commit_and_the_push_stays_a_fast_forward(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    work, bare, base = session(make_repo, tmp_path)
    assert pushed_commit(str(bare), BRANCH, None) is None
    made = run(work, {"app.py": "two\n"}, "change app")
    push(work, str(bare), BRANCH, None)
    assert pushed_commit(str(bare), BRANCH, None) == made
    undone = undo(work, base, pushed_commit(str(bare), BRANCH, None))
    assert undone.reverted and undone.checkpoint == made
    assert (work / "app.py").read_text() == "one\n"
    assert git("rev-parse", "HEAD^", cwd=work).strip() == made
    message = git("log", "-1", "--format=%B", cwd=work)
    assert message.startswith('Undo "change app"\n\nThis reverts commit ')
    assert "Co-authored-by: Ada <ada@example.com>" in message
    push(work, str(bare), BRANCH, None)  # no force needed: history was not rewritten
    assert pushed_commit(str(bare), BRANCH, None) == undone.head


def test_after_a_push_only_the_newer_checkpoint_moves_back(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    work, bare, base = session(make_repo, tmp_path)
    first = run(work, {"app.py": "two\n"}, "first")
    push(work, str(bare), BRANCH, None)
    run(work, {"app.py": "three\n"}, "second")
    pushed = pushed_commit(str(bare), BRANCH, None)
    assert not undo(work, base, pushed).reverted  # the second was never pushed
    assert head(work) == first
    again = undo(work, base, pushed)  # the first was
    assert again.reverted and again.checkpoint == first
    assert (work / "app.py").read_text() == "one\n"


def test_a_push_this_workdir_has_not_seen_counts_as_pushed(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    work, _, base = session(make_repo, tmp_path)
    run(work, {"app.py": "two\n"}, "change")
    assert undo(work, base, "f" * 40).reverted  # never rewrite what we cannot see


def test_nothing_to_undo_and_a_dirty_tree_are_refused(make_repo: MakeRepo, tmp_path: Path) -> None:
    work, _, base = session(make_repo, tmp_path)
    with pytest.raises(UserError, match="nothing to undo"):
        undo(work, base, None)
    run(work, {"app.py": "two\n"}, "change")
    (work / "app.py").write_text("half-done\n")
    with pytest.raises(Conflict, match="not in a checkpoint"):
        undo(work, base, None)
    assert (work / "app.py").read_text() == "half-done\n"


def test_a_revert_that_conflicts_leaves_the_branch_as_it_was(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    work, _, base = session(make_repo, tmp_path)
    first = run(work, {"app.py": "two\n"}, "first")
    second = run(work, {"app.py": "three\n"}, "second")
    with pytest.raises(Conflict, match="later changes build on it"):
        undo(work, base, None, checkpoint=first)
    assert head(work) == second
    assert git("status", "--porcelain", cwd=work) == ""
    assert (work / "app.py").read_text() == "three\n"
