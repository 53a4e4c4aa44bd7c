"""Block Kit pieces and Slack's limits: escaped text, and sections, context lines and
buttons on slack_sdk's block models, which check each block against Slack's limits as it
becomes the dict Slack receives (`within_limits`)."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

BlockDict = dict[str, object]
"""A block as sent: what `chat.postMessage` takes, an RQ job carries and the fake records."""
Rendered = tuple[str, list[BlockDict]]
"""A message: its notification text (the fallback) and its blocks."""

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_FIELD = 2000
MAX_FALLBACK = 300
FILES_SHOWN = 10


# -- text -------------------------------------------------------------------------------------
def escape(text: str) -> str:
    """Slack's three control characters; what remains cannot mention or link anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe_url(url: str) -> bool:
    """Whether an outside URL can go inside `<url|text>` as it is: http(s), nothing that
    would end the link or start another."""
    return url.startswith(("https://", "http://")) and not any(c in url for c in "<>| \n\t")


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
def mrkdwn(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text)


def plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=text)


def section(text: str, log_url: str | None = None) -> SectionBlock:
    more = more_link(log_url) if log_url else "…"
    return SectionBlock(text=mrkdwn(trim(text, MAX_SECTION, more)))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[mrkdwn(trim(text, MAX_FIELD))])


def fields(pairs: list[tuple[str, str]]) -> SectionBlock:
    return SectionBlock(
        fields=[mrkdwn(trim(f"*{name}*\n{value}", MAX_FIELD)) for name, value in pairs[:10]]
    )


def button(
    label: str,
    action_id: str,
    value: str,
    *,
    url: str | None = None,
    style: str | None = None,
    confirm: ConfirmObject | None = None,
) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=label, emoji=True),
        action_id=action_id,
        value=value,
        url=url,
        style=style,
        confirm=confirm,
    )


def actions(buttons: Sequence[ButtonElement], block_id: str | None = None) -> ActionsBlock:
    return ActionsBlock(elements=buttons, block_id=block_id)


def within_limits(blocks: Sequence[Block], log_url: str | None = None) -> list[BlockDict]:
    """The message as Slack receives it: at most 50 blocks (the last one says where the
    rest is), each checked against Slack's limits (`SlackObjectFormationError` if not)."""
    if len(blocks) > MAX_BLOCKS:
        tail = f"<{log_url}|More in the log>" if log_url else "More was left out."
        blocks = [*blocks[: MAX_BLOCKS - 1], context(tail)]
    return [block.to_dict() for block in blocks]


def notice(text: str) -> Rendered:
    """A one-section message (ephemeral answers, errors): `text` is already mrkdwn."""
    return trim(text, MAX_FALLBACK), within_limits([section(text)])
