"""`undo`: take back a prompt's checkpoint on the work branch.

Two ways, chosen by whether the forge has seen the checkpoint. Not pushed yet: the branch
simply moves back to the checkpoint's parent, as if the run had not happened, and the
next push is an ordinary fast-forward. Pushed: history others may have fetched (or a
merge request shows) is never rewritten; a revert commit takes the changes back instead.
Either way the answer carries the diff stat of the undo itself: taking back a checkpoint
that added seven lines reads "+0, minus 7".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.errors import Conflict, GitError, UserError
from bot.git.checkpoints import DiffStat, FileChange, diffstat, head
from bot.git.people import Author
from bot.git.runner import Credentials, git


@dataclass(frozen=True)
class Undone:
    checkpoint: str  # the commit taken back
    head: str  # the work branch's tip now
    reverted: bool  # True: a revert commit (it had been pushed); False: the branch moved back
    change: DiffStat  # what the undo did to the tree: the checkpoint's lines come back as −

    def summary(self) -> str:
        """For the reply: what went, and how."""
        how = "with a revert commit (it was already pushed)" if self.reverted else ""
        how = how or "by moving the work branch back (it was not pushed yet)"
        return f"Took back `{self.checkpoint[:10]}` {how}: {self.change.summary()}."

    def to_dict(self) -> dict[str, Any]:
        return {
            "checkpoint": self.checkpoint,
            "head": self.head,
            "reverted": self.reverted,
            "change": self.change.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Undone:
        """Also reads the older shape, `removed`: the checkpoint's own stat, the other way."""
        older = "change" not in data
        files = (data["removed"] if older else data["change"])["files"]
        changes = (
            FileChange(
                f["path"],
                int(f["removed" if older else "added"]),
                int(f["added" if older else "removed"]),
            )
            for f in files
        )
        return cls(
            checkpoint=str(data["checkpoint"]),
            head=str(data["head"]),
            reverted=bool(data["reverted"]),
            change=DiffStat(tuple(changes)),
        )


def pushed_commit(remote_url: str, branch: str, credentials: Credentials | None) -> str | None:
    """The work branch's commit on the forge, or None when it was never pushed."""
    out = git(
        "ls-remote", "--end-of-options", remote_url, f"refs/heads/{branch}",
        credentials=credentials, remote=remote_url, timeout=120,
    )  # fmt: skip
    return out.split("\t", 1)[0].strip() or None


def undo_checkpoint(
    workdir: Path,
    *,
    base: str,
    pushed: str | None,
    asked_by: Author,
    bot_name: str,
    bot_email: str,
    checkpoint: str | None = None,
) -> Undone:
    """Take back `checkpoint` (default: the branch's tip) of the work branch in `workdir`.

    `base` is the session's base commit (never undone past); `pushed` the commit the forge
    has for the work branch (None: never pushed)."""
    target = _commit(workdir, checkpoint or "HEAD")
    base_commit = _commit(workdir, base)
    if target == base_commit or not _is_ancestor(workdir, base_commit, target):
        raise UserError("There is nothing to undo: the work branch has no checkpoint yet.")
    if git("status", "--porcelain", cwd=workdir).strip():
        raise Conflict(
            "The workdir has changes that are not in a checkpoint; undo waits for a clean tree."
        )
    parent = _commit(workdir, f"{target}^1")
    change = diffstat(workdir, target, parent)  # the undo's direction: from it, back
    seen = pushed is not None and (
        not _known(workdir, pushed) or _is_ancestor(workdir, target, pushed)
    )
    if not seen and target == head(workdir):
        git("reset", "--hard", "--quiet", parent, cwd=workdir)
        return Undone(target, head(workdir), False, change)
    _revert(workdir, target, asked_by, bot_name, bot_email)
    return Undone(target, head(workdir), True, change)


def _revert(workdir: Path, target: str, asked_by: Author, bot_name: str, bot_email: str) -> None:
    try:
        git("revert", "--no-commit", "--end-of-options", target, cwd=workdir)
    except GitError:
        git("revert", "--abort", cwd=workdir, check=False)
        git("reset", "--hard", "--quiet", "HEAD", cwd=workdir, check=False)
        raise Conflict(
            f"I could not take back `{target[:10]}`: later changes build on it."
        ) from None
    subject = git("log", "-1", "--format=%s", target, cwd=workdir).strip()
    message = (
        f'Undo "{subject}"\n\nThis reverts commit {target}, as {asked_by.name} asked.\n\n'
        f"Co-authored-by: {asked_by.co_author}\n"
    )
    identity = {
        "GIT_AUTHOR_NAME": bot_name,
        "GIT_AUTHOR_EMAIL": bot_email,
        "GIT_COMMITTER_NAME": bot_name,
        "GIT_COMMITTER_EMAIL": bot_email,
    }
    git("commit", "--quiet", "--no-verify", "-F", "-", cwd=workdir, env=identity, input=message)


def _commit(workdir: Path, rev: str) -> str:
    out = git(
        "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}",
        cwd=workdir, check=False,
    ).strip()  # fmt: skip
    if not out:
        raise UserError(f"`{rev}` is not a commit of this work branch.")
    return out


def _known(workdir: Path, commit: str) -> bool:
    """Does this workdir have `commit`? One pushed from elsewhere may be unknown here."""
    out = git(
        "rev-parse", "--verify", "--quiet", "--end-of-options", f"{commit}^{{commit}}",
        cwd=workdir, check=False,
    )  # fmt: skip
    return bool(out.strip())


def _is_ancestor(workdir: Path, older: str, newer: str) -> bool:
    """`git merge-base --is-ancestor` answers by exit code; `git()` returns output, so
    compare the merge base instead."""
    merge_base = git("merge-base", older, newer, cwd=workdir, check=False).strip()
    return merge_base == older
