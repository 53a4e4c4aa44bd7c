"""Session workdirs: shared clones of the mirror (no history copied), from a ready pool.

Checking out tens of thousands of files costs seconds of file creation however it is
done, so a pool of checked-out workdirs per recently used repository is kept ready. Taking
one is a rename, and switching it to the newest base touches only the files that differ.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from bot.core.errors import GitError, NotFound
from bot.git.branches import require_branch
from bot.git.mirrors import file_lock
from bot.git.runner import git

FORK_REF = "refs/repobox/fork"  # where a fork or an adoption fetches a checkpoint to
FORK_SUFFIX = "-candidate-"  # a candidate's workdir: <session id>-candidate-<n>


def fetch_head(workdir: Path, source: Path) -> str:
    """Bring the objects of `source`'s HEAD into `workdir` (only those it lacks); its commit.

    Fetched to a throw-away ref, deleted again: the objects stay, no branch is left behind."""
    commit = git("rev-parse", "HEAD", cwd=source).strip()
    git(
        "fetch", "--quiet", "--no-tags", "--end-of-options", str(source),
        f"+HEAD:{FORK_REF}", cwd=workdir, remote=str(source), timeout=600,
    )  # fmt: skip
    git("update-ref", "-d", FORK_REF, cwd=workdir)
    return commit


class Workdirs:
    def __init__(self, workdirs_root: Path, pool_root: Path, pool_size: int = 2) -> None:
        self.root = workdirs_root
        self.pool_root = pool_root
        self.pool_size = pool_size

    def path_for(self, session_id: str) -> Path:
        return self.root / session_id

    # -- sessions --------------------------------------------------------------------
    def create(
        self, session_id: str, repo: str, mirror: Path, commit: str, branch: str
    ) -> tuple[Path, bool]:
        """Make the session's workdir on `branch` at `commit`; say if it came from the pool."""
        dest = self.path_for(session_id)
        require_branch(branch)
        if (dest / ".git").exists():  # a retried init: the workdir is already there
            self._switch(dest, mirror, commit, branch, clean=True)
            return dest, False
        dest.parent.mkdir(parents=True, exist_ok=True)
        pooled = self._take(repo, dest)
        if not pooled:
            self._clone(mirror, dest)
        self._switch(dest, mirror, commit, branch, clean=False)
        return dest, pooled

    # -- comparisons -------------------------------------------------------------------
    def fork(
        self, name: str, repo: str, mirror: Path, source: Path, branch: str
    ) -> tuple[Path, bool]:
        """A copy of `source`'s latest checkpoint on `branch`, for one candidate of a
        comparison: a pooled (or shared) clone of the mirror, which fetches from `source`
        only the checkpoints the mirror lacks. Says if it came from the pool."""
        dest = self.path_for(name)
        require_branch(branch)
        if dest.exists():  # a retried comparison: start that candidate afresh
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        pooled = self._take(repo, dest)
        if not pooled:
            self._clone(mirror, dest)
        commit = fetch_head(dest, source)
        git("checkout", "--quiet", "--force", "-B", branch, commit, "--", cwd=dest, timeout=1200)
        return dest, pooled

    @staticmethod
    def adopt(workdir: Path, source: Path, commit: str) -> None:
        """Move `workdir` forward to `source`'s checkpoint `commit` (a picked candidate's).

        A fast-forward only: the candidate started from this workdir's checkpoint, and a
        workdir that moved since is refused rather than overwritten."""
        fetch_head(workdir, source)
        git("merge", "--quiet", "--ff-only", commit, cwd=workdir, timeout=1200)

    def forks_of(self, session_id: str) -> list[Path]:
        """The candidates' workdirs of a session's comparison still on disk."""
        if not self.root.exists():
            return []
        return sorted(p for p in self.root.glob(f"{session_id}{FORK_SUFFIX}*") if p.is_dir())

    def remove(self, workdir: Path, repo: str | None = None) -> None:
        """Retire a workdir: back into the pool when there is room, otherwise deleted."""
        if not workdir.exists():
            return
        if repo is not None and self.pool_count(repo) < self.pool_size:
            try:
                git("reset", "--hard", "--quiet", cwd=workdir, timeout=120)
                git("clean", "-ffdxq", cwd=workdir, timeout=120)
                git("checkout", "--quiet", "--detach", cwd=workdir, timeout=120)
                target = self._pool_dir(repo) / uuid.uuid4().hex[:12]
                target.parent.mkdir(parents=True, exist_ok=True)
                os.rename(workdir, target)
                return
            except (OSError, GitError):
                pass  # a workdir we cannot recycle is simply deleted
        shutil.rmtree(workdir, ignore_errors=True)

    # -- pool ----------------------------------------------------------------------
    def pool_count(self, repo: str) -> int:
        pool = self._pool_dir(repo)
        return (
            sum(1 for p in pool.iterdir() if p.is_dir() and not p.name.startswith("."))
            if pool.exists()
            else 0
        )

    def refill(self, repo: str, mirror: Path, commit: str) -> int:
        """Top the pool up to `pool_size` ready workdirs at `commit`; returns how many were made."""
        made = 0
        pool = self._pool_dir(repo)
        pool.mkdir(parents=True, exist_ok=True)
        with file_lock(pool / ".lock"):  # two refills at once would overshoot the size
            while self.pool_count(repo) < self.pool_size:
                staging = pool / f".new-{uuid.uuid4().hex[:12]}"
                self._clone(mirror, staging)
                git("checkout", "--quiet", "--detach", commit, "--", cwd=staging, timeout=1200)
                os.rename(staging, pool / staging.name.removeprefix(".new-"))
                made += 1
        return made

    def _pool_dir(self, repo: str) -> Path:
        return self.pool_root / repo

    def _take(self, repo: str, dest: Path) -> bool:
        """Claim a pooled workdir by renaming it into place (atomic, so two takers never share)."""
        pool = self._pool_dir(repo)
        if not pool.exists():
            return False
        for candidate in sorted(pool.iterdir()):
            if candidate.name.startswith("."):
                continue
            try:
                os.rename(candidate, dest)
            except OSError:
                continue  # another worker took it first
            return True
        return False

    @staticmethod
    def _clone(mirror: Path, dest: Path) -> None:
        git(
            "clone",
            "--shared",
            "--no-checkout",
            "--quiet",
            "--end-of-options",
            str(mirror),
            str(dest),
            remote=str(mirror),
            timeout=600,
        )

    @staticmethod
    def _switch(workdir: Path, mirror: Path, commit: str, branch: str, *, clean: bool) -> None:
        """Put the workdir on a fresh `branch` at `commit`, touching only files that differ.

        Pooled and new workdirs are clean already; walking 20,000 files to prove it again
        would cost more than the checkout itself, so only a reused one is cleaned."""
        git("fetch", "--quiet", "origin", cwd=workdir, remote=str(mirror), timeout=600)
        try:  # `--` makes `commit` a revision; `branch` passed `require_branch`
            git(
                "checkout",
                "--quiet",
                "--force",
                "-B",
                branch,
                commit,
                "--",
                cwd=workdir,
                timeout=1200,
            )
        except GitError as error:
            raise NotFound(f"Could not check out `{commit[:10]}`: {error}") from None
        if clean:
            git("clean", "-ffdxq", cwd=workdir, timeout=300)
