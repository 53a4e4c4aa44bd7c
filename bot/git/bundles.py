"""Git bundles of a work branch since its base: a checkpoint any host can rebuild from.

A bundle holds only the commits a session made (base..branch), so it is small next to the
repository; the base itself comes from the mirror, which every host can fetch.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bot.git.branches import require_branch
from bot.git.runner import git


def create(workdir: Path, base: str, branch: str) -> bytes:
    """The bundle of `branch` since `base` (the commits the session made)."""
    with tempfile.TemporaryDirectory(prefix="repobox-bundle-") as scratch:
        path = Path(scratch) / "checkpoint.bundle"
        git("bundle", "create", "--quiet", str(path), f"{base}..{branch}", cwd=workdir, timeout=300)
        return path.read_bytes()


def apply(workdir: Path, bundle: bytes, branch: str) -> str:
    """Put `branch` at the bundle's tip in a workdir that has its base; return the commit."""
    with tempfile.TemporaryDirectory(prefix="repobox-bundle-") as scratch:
        path = Path(scratch) / "checkpoint.bundle"
        path.write_bytes(bundle)
        git("bundle", "verify", "--quiet", str(path), cwd=workdir, timeout=300)
        git(
            "fetch",
            "--quiet",
            "--end-of-options",
            str(path),
            f"refs/heads/{require_branch(branch)}",
            cwd=workdir,
            remote=str(path),
            timeout=300,
        )
    git(
        "checkout",
        "--quiet",
        "--force",
        "-B",
        branch,
        "FETCH_HEAD",
        "--",
        cwd=workdir,
        timeout=1200,
    )
    return git("rev-parse", "HEAD", cwd=workdir).strip()
