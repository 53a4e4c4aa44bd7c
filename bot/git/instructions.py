"""Instruction files for the agent, read from one branch of the mirror.

They come from the branch a change is going *into* (the default branch, or a merge
request's target), never from the branch under review: whoever can push to a merge
request's branch must not be able to rewrite the agent's instructions.
"""

from __future__ import annotations

from pathlib import Path

from bot.git.runner import git

TOP_LEVEL = ("AGENTS.md", "CLAUDE.md")
DIRECTORY = ".repobox"
MAX_FILES = 20
MAX_BYTES = 64_000


def read_instructions(mirror: Path, branch: str) -> dict[str, str]:
    """{path: text} of AGENTS.md, CLAUDE.md and the .md files under .repobox/ on `branch`."""
    ref = f"refs/heads/{branch}"
    listing = git(
        "ls-tree",
        "-r",
        "-z",
        "--full-tree",
        "--end-of-options",
        ref,
        "--",
        *TOP_LEVEL,
        DIRECTORY,
        cwd=mirror,
        check=False,
    )
    found: dict[str, str] = {}
    for entry in listing.split("\0"):
        meta, _, path = entry.partition("\t")
        parts = meta.split()
        if len(parts) != 3 or parts[1] != "blob" or len(found) >= MAX_FILES:
            continue
        if path.startswith(f"{DIRECTORY}/") and not path.endswith(".md"):
            continue  # .repobox/ may hold other things; instructions are Markdown
        size = git("cat-file", "-s", parts[2], cwd=mirror, check=False).strip()
        if not size.isdigit() or int(size) > MAX_BYTES:
            continue
        try:
            text = git("cat-file", "blob", parts[2], cwd=mirror, check=False)
        except ValueError:  # not UTF-8: not an instruction file anyone wrote for us
            continue
        if "\0" not in text:
            found[path] = text
    return found
