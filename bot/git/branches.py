"""Branch names: the work branch we make (`repobox/<short-id>-<slug>`), and the check that a
name from outside (a typed `@base`, a merge request's source branch) is a plain branch.

`valid_branch` is `git check-ref-format --branch` done in-process, so the web process can
check a name in microseconds without starting git; tests hold it to git's own answers.
"""

from __future__ import annotations

import re

from bot.core.errors import UserError

SLUG_MAX = 40
BRANCH_MAX = 200  # longer than any real branch; keeps messages and keys small

# git-check-ref-format(1) rules 4, 5 and 10: control characters, space, ~ ^ : ? * [ and \.
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def slugify(text: str, limit: int = SLUG_MAX) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit:
            break
        slug = candidate
    return slug or (words[0][:limit] if words else "")


def work_branch(session_id: str, first_prompt: str | None) -> str:
    slug = slugify(first_prompt or "")
    return f"repobox/{session_id}-{slug}" if slug else f"repobox/{session_id}"


def valid_branch(name: str) -> bool:
    """What `git check-ref-format --branch <name>` accepts (minus `@{-N}`, which names a
    branch by history, and `HEAD`), so a name can never be read as an option or a revision."""
    if not name or len(name) > BRANCH_MAX or name.startswith("-") or name == "HEAD":
        return False
    if _FORBIDDEN.search(name) or ".." in name or "@{" in name or name == "@":
        return False
    if name.startswith("/") or name.endswith(("/", ".")) or "//" in name:
        return False
    return not any(part.startswith(".") or part.endswith(".lock") for part in name.split("/"))


def require_branch(name: str) -> str:
    """`name` if it is a plain branch name, else a `UserError` saying so."""
    if not valid_branch(name):
        shown = name if name.isprintable() else ascii(name)
        shown = shown if len(shown) <= 60 else shown[:59] + "…"
        raise UserError(
            f"`{shown}` is not a valid branch name.",
            hint="Branch names cannot start with `-` or contain spaces, `..`, `~`, `^` or `:`.",
        )
    return name
