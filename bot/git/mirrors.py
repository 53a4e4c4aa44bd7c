"""A bare mirror per repository under the data dir, fetched on use.

Workdirs borrow the mirror's objects (shared clones), so a mirror never prunes or
garbage-collects: an object a workdir relies on must not vanish under it.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.core.errors import GitError, NotFound
from bot.core.redaction import redact
from bot.git.branches import require_branch
from bot.git.reasons import next_step
from bot.git.runner import Credentials, GitFailure, git


def repo_key(clone_url: str) -> str:
    """A stable, filesystem-safe name for a repository: readable tail plus a hash."""
    tail = re.sub(r"[^A-Za-z0-9_.-]+", "-", clone_url.rstrip("/").split("/")[-1])[:40]
    digest = hashlib.sha256(clone_url.encode()).hexdigest()[:12]
    return f"{tail.removesuffix('.git')}-{digest}"


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """One process at a time on a mirror (all workers on a machine share its disk)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class MirrorCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, clone_url: str) -> Path:
        return self.root / f"{repo_key(clone_url)}.git"

    def ensure(self, clone_url: str, credentials: Credentials | None = None) -> Path:
        """The mirror of `clone_url`, created or fetched now: sessions start at the newest base."""
        mirror = self.path_for(clone_url)
        with file_lock(mirror.with_suffix(".lock")):
            if not (mirror / "HEAD").exists():
                self._create(clone_url, mirror, credentials)
            else:
                try:
                    git(
                        "fetch",
                        "--prune",
                        "--quiet",
                        "origin",
                        cwd=mirror,
                        credentials=credentials,
                        remote=clone_url,
                    )
                except GitFailure as error:
                    raise GitError(_said("fetch", clone_url, error)) from None
        return mirror

    def resolve(self, mirror: Path, branch: str | None) -> tuple[str, str]:
        """(branch, commit) for `branch`, or for the repository's default branch when None."""
        branch = require_branch(branch) if branch is not None else self.default_branch(mirror)
        sha = git(
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            f"refs/heads/{branch}^{{commit}}",
            cwd=mirror,
            check=False,
        )
        if not sha.strip():
            raise NotFound(f"The repository has no branch `{branch}`.")
        return branch, sha.strip()

    def default_branch(self, mirror: Path) -> str:
        """HEAD's branch; if HEAD names a branch that does not exist, main, master or the first."""
        listing = git("for-each-ref", "--format=%(refname:short)", "refs/heads/", cwd=mirror)
        branches = listing.split()
        head = git("symbolic-ref", "--quiet", "HEAD", cwd=mirror, check=False).strip()
        head = head.removeprefix("refs/heads/")
        for candidate in (head, "main", "master", *branches):
            if candidate and candidate in branches:
                return candidate
        raise NotFound("The repository has no branches yet.")

    def _create(self, clone_url: str, mirror: Path, credentials: Credentials | None) -> None:
        staging = mirror.with_name(mirror.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            git(
                "clone",
                "--bare",
                "--quiet",
                "--end-of-options",
                clone_url,
                str(staging),
                credentials=credentials,
                remote=clone_url,
            )
        except GitError as error:
            shutil.rmtree(staging, ignore_errors=True)
            why = error.reason if isinstance(error, GitFailure) else str(error)
            raise NotFound(_said("clone", clone_url, error), hint=next_step(why)) from None
        for key, value in (
            ("remote.origin.fetch", "+refs/heads/*:refs/heads/*"),
            ("gc.auto", "0"),
            ("gc.pruneExpire", "never"),
            ("fetch.prune", "true"),
        ):
            git("config", key, value, cwd=staging)
        staging.rename(mirror)


def _said(verb: str, clone_url: str, error: GitError) -> str:
    """ "I could not clone <url>: <git's reason>." with the URL's credentials masked."""
    why = error.reason if isinstance(error, GitFailure) else str(error)
    return f"I could not {verb} {redact(clone_url)}: {why.rstrip('.')}."
