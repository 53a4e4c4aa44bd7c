"""Partial edits of a run that failed part-way, kept apart from the work branch.

A run that fails (the agent crashed after editing, the checkpoint could not be written)
must neither leave its edits in the workdir, where the next prompt's checkpoint would take
them in under the wrong prompt, nor lose them. So they become one commit on top of the last
checkpoint, kept at `refs/repobox/partial/<prompt id>` and never on the branch, and the
workdir goes back to that checkpoint. Ignored files (build output, dependencies) stay, as
they would through a checkpoint. The ref lives in the session's workdir: `git diff HEAD
<ref>` shows the edits, and an agent in the sandbox can read them (its .git is read-only,
which reading needs no more than).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.git.checkpoints import DiffStat, diffstat
from bot.git.runner import git

PARTIAL_REFS = "refs/repobox/partial/"


@dataclass(frozen=True)
class Partial:
    ref: str  # refs/repobox/partial/<prompt id>
    commit: str
    stat: DiffStat

    def note(self) -> str:
        """For the failure reply: where the edits are, and that the next prompt starts clean."""
        return (
            f"Its partial edits ({self.stat.summary()}) are kept apart as `{self.ref}`, not on "
            "the work branch: the next prompt starts from the last checkpoint without them "
            f"(`git diff HEAD {self.ref}` shows them)."
        )


def set_aside(
    workdir: Path, name: str, message: str, bot_name: str, bot_email: str
) -> Partial | None:
    """Keep everything not in HEAD as `refs/repobox/partial/<name>` and put the workdir
    back at HEAD; None when there was nothing to keep."""
    git("add", "--all", cwd=workdir)
    tree = git("write-tree", cwd=workdir).strip()
    if tree == git("rev-parse", "HEAD^{tree}", cwd=workdir).strip():
        return None
    identity = {
        "GIT_AUTHOR_NAME": bot_name,
        "GIT_AUTHOR_EMAIL": bot_email,
        "GIT_COMMITTER_NAME": bot_name,
        "GIT_COMMITTER_EMAIL": bot_email,
    }
    commit = git(
        "commit-tree", tree, "-p", "HEAD", "-F", "-", cwd=workdir, env=identity, input=message
    ).strip()
    ref = f"{PARTIAL_REFS}{name}"
    git("update-ref", ref, commit, cwd=workdir)
    stat = diffstat(workdir, "HEAD", commit)
    git("reset", "--hard", "--quiet", "HEAD", cwd=workdir)
    git("clean", "-d", "--force", "--quiet", cwd=workdir)  # untracked, now kept in the ref
    return Partial(ref, commit, stat)
