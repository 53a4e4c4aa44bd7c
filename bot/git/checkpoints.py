"""Checkpoint commits after each run, diff stats, and pushing the work branch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.git.branches import require_branch
from bot.git.people import Author
from bot.git.runner import Credentials, git

SUBJECT_MAX = 72


@dataclass(frozen=True)
class FileChange:
    path: str
    added: int  # -1 for binary files
    removed: int

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "added": self.added, "removed": self.removed}


@dataclass(frozen=True)
class DiffStat:
    files: tuple[FileChange, ...]

    @property
    def added(self) -> int:
        return sum(max(f.added, 0) for f in self.files)

    @property
    def removed(self) -> int:
        return sum(max(f.removed, 0) for f in self.files)

    def summary(self) -> str:
        if not self.files:
            return "no changes"
        noun = "file" if len(self.files) == 1 else "files"
        return f"{len(self.files)} {noun} changed (+{self.added} −{self.removed})"

    def to_dict(self) -> dict[str, object]:
        return {
            "files": [f.to_dict() for f in self.files],
            "added": self.added,
            "removed": self.removed,
            "summary": self.summary(),
        }


def head(workdir: Path) -> str:
    return git("rev-parse", "HEAD", cwd=workdir).strip()


def checkpoint(
    workdir: Path,
    prompt: str,
    author: Author,
    bot_name: str,
    bot_email: str,
    *,
    message: str | None = None,
) -> str | None:
    """Commit everything the run changed; return the new commit, or None if nothing changed.

    `message` is the whole commit message when the caller wrote one from the run
    (`bot.git.commit_message`); else it is made from `prompt`."""
    git("add", "--all", cwd=workdir)
    if not git("status", "--porcelain", cwd=workdir).strip():
        return None
    git(
        "commit",
        "--quiet",
        "--no-verify",
        "-F",
        "-",
        cwd=workdir,
        env=_identity(bot_name, bot_email),
        timeout=120,
        input=message or commit_message(prompt, author),
    )
    return head(workdir)


def shelve(workdir: Path, message: str) -> bool:
    """Set a run's unfinished changes aside in a stash (not on the branch), so the prompt
    can run again from a clean tree; False if there was nothing to set aside."""
    git("add", "--all", cwd=workdir)
    if not git("status", "--porcelain", cwd=workdir).strip():
        return False
    env = _identity("Repobox", "repobox@users.noreply.localhost")
    git("stash", "push", "--quiet", "--include-untracked", "-m", message, cwd=workdir, env=env)
    return True


def commit_message(prompt: str, author: Author) -> str:
    first_line = (
        " ".join(prompt.strip().splitlines()[0].split()) if prompt.strip() else "Repobox run"
    )
    subject = first_line if len(first_line) <= SUBJECT_MAX else first_line[: SUBJECT_MAX - 1] + "…"
    body = prompt.strip() if prompt.strip() != first_line else ""
    parts = [subject]
    if body:
        parts.append(body)
    parts.append(f"Co-authored-by: {author.co_author}")
    return "\n\n".join(parts) + "\n"


def diffstat(workdir: Path, base: str, target: str = "HEAD") -> DiffStat:
    return _numstat(git("diff", "--numstat", "--no-renames", base, target, "--", cwd=workdir))


def _numstat(out: str) -> DiffStat:
    changes: list[FileChange] = []
    for line in out.splitlines():
        added, removed, path = line.split("\t", 2)
        changes.append(
            FileChange(
                path, -1 if added == "-" else int(added), -1 if removed == "-" else int(removed)
            )
        )
    return DiffStat(tuple(changes))


def staged_diffstat(workdir: Path) -> DiffStat:
    """What `git add --all` has staged against HEAD: the files a checkpoint is about to
    commit, for a message written before the commit exists."""
    git("add", "--all", cwd=workdir)
    return _numstat(git("diff", "--numstat", "--no-renames", "--cached", "HEAD", "--", cwd=workdir))


def diff_text(workdir: Path, base: str, target: str = "HEAD") -> str:
    return git("diff", "--no-color", base, target, "--", cwd=workdir)


def push(workdir: Path, remote_url: str, branch: str, credentials: Credentials | None) -> str:
    """Push HEAD to `branch` at `remote_url` (never stored as a remote); return the commit."""
    commit = head(workdir)
    git(
        "push",
        "--quiet",
        "--end-of-options",
        remote_url,
        f"HEAD:refs/heads/{require_branch(branch)}",
        cwd=workdir,
        credentials=credentials,
        remote=remote_url,
    )
    return commit


def _identity(name: str, email: str) -> dict[str, str]:
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }
