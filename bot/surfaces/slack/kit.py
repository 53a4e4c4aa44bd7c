"""Block Kit pieces and Slack's limits: escaped text, sections, context lines, buttons,
and the check that a message stays within what Slack accepts."""

from __future__ import annotations

from typing import Any

Block = dict[str, Any]

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_FIELD = 2000
MAX_FALLBACK = 300
FILES_SHOWN = 10


# -- text -------------------------------------------------------------------------------------
def escape(text: str) -> str:
    """Slack's three control characters; what remains cannot mention or link anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def trim(text: str, limit: int, more: str = "…") -> str:
    """`text` cut to `limit` characters, ending in `more` when something was cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(more))].rstrip() + more


def more_link(log_url: str) -> str:
    return f"… (<{log_url}|the rest is in the log>)"


def duration(seconds: float | None) -> str:
    total = round(seconds or 0)
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def code(lines: list[str], limit: int, *, newest: bool = True) -> str:
    """A code block of the newest (or first) lines that fit in `limit` characters."""
    kept: list[str] = []
    size = 8
    for line in reversed(lines) if newest else lines:
        safe = escape(line.replace("```", "ˋˋˋ"))
        if size + len(safe) + 1 > limit:
            break
        kept.append(safe)
        size += len(safe) + 1
    if newest:
        kept.reverse()
    return "```\n" + "\n".join(kept) + "\n```" if kept else ""


# -- blocks -----------------------------------------------------------------------------------
def section(text: str, log_url: str | None = None) -> Block:
    more = more_link(log_url) if log_url else "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": trim(text, MAX_SECTION, more)}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": trim(text, MAX_FIELD)}]}


def fields(pairs: list[tuple[str, str]]) -> Block:
    return {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": trim(f"*{name}*\n{value}", MAX_FIELD)}
            for name, value in pairs[:10]
        ],
    }


def button(label: str, action_id: str, value: str, **extra: Any) -> Block:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "action_id": action_id,
        "value": value,
        **extra,
    }


def within_limits(blocks: list[Block], log_url: str | None = None) -> list[Block]:
    """At most 50 blocks; the last one says where the rest is."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    tail = f"<{log_url}|More in the log>" if log_url else "More was left out."
    return [*blocks[: MAX_BLOCKS - 1], context(tail)]


def notice(text: str) -> tuple[str, list[Block]]:
    """A one-section message (ephemeral answers, errors): `text` is already mrkdwn."""
    return trim(text, MAX_FALLBACK), [section(text)]
