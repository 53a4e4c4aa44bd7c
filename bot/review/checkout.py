"""The change under review on disk: the head checked out read-only, the diff against the
merge base, and the review rules read from the base branch.

The rules come from the base (as `.repobox.yml` and the agent's instructions do), never
from the head: whoever wrote the change must not be able to rewrite how it is reviewed.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from bot.git.instructions import read_instructions
from bot.git.runner import Credentials, git

REVIEW_FILES = ("REVIEW.md",)
MAX_RULE_BYTES = 32_000


def head_ref(number: int) -> str:
    """Where the mirror keeps the head of merge request `number` while it is reviewed."""
    return f"refs/repobox/review/{number}"


@dataclass(frozen=True)
class Checkout:
    workdir: Path
    diff: str  # `git diff base...head`, whole
    rules: dict[str, str]  # path -> text, from the base branch


def fetch_head(
    mirror: Path, clone_url: str, ref: str, number: int, credentials: Credentials | None
) -> None:
    """Bring the change's head (its branch, or the host's `refs/pull/N/head` for a fork)
    into the mirror."""
    git(
        "fetch", "--quiet", "--no-tags", "origin", "--end-of-options", f"+{ref}:{head_ref(number)}",
        cwd=mirror, credentials=credentials, remote=clone_url, timeout=600,
    )  # fmt: skip


def check_out(
    mirror: Path, dest: Path, number: int, base_ref: str, head_sha: str, extra: str | None
) -> Checkout:
    """A shared clone of the mirror at `head_sha` (detached), its diff and the base's rules."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    git(
        "clone", "--shared", "--no-checkout", "--quiet", "--end-of-options", str(mirror), str(dest),
        remote=str(mirror), timeout=600,
    )  # fmt: skip
    git("fetch", "--quiet", "origin", head_ref(number), cwd=dest, remote=str(mirror), timeout=600)
    git("checkout", "--quiet", "--detach", head_sha, "--", cwd=dest, timeout=1200)
    base = f"refs/heads/{base_ref}"
    diff = git(
        "diff", "--no-color", "--no-ext-diff", "--find-renames", f"{base}...{head_sha}", "--",
        cwd=mirror, timeout=600,
    )  # fmt: skip
    return Checkout(dest, diff, rules(mirror, base_ref, extra))


def rules(mirror: Path, base_ref: str, extra: str | None) -> dict[str, str]:
    """REVIEW.md (or `review.instructions`), then AGENTS.md, CLAUDE.md and .repobox/*.md."""
    found: dict[str, str] = {}
    for path in (*REVIEW_FILES, *((extra,) if extra else ())):
        text = git(
            "show", "--end-of-options", f"refs/heads/{base_ref}:{path}", cwd=mirror, check=False
        )
        if text.strip():
            found[path] = text[:MAX_RULE_BYTES]
    found.update(read_instructions(mirror, base_ref))
    return found


def merge_base(mirror: Path, base_ref: str, head_sha: str) -> str:
    return git("merge-base", f"refs/heads/{base_ref}", head_sha, cwd=mirror).strip()
