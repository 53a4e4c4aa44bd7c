"""Text for people watching a thread: one line, cut to what is read at a glance."""

from __future__ import annotations


def short(value: object, limit: int = 80) -> str:
    """`value` on one line (its whitespace collapsed), cut with `…` past `limit` characters."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
