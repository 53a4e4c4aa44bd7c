"""Work branch names: `repobox/<short-id>-<slug of the first prompt>`."""

from __future__ import annotations

import re

SLUG_MAX = 40


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
