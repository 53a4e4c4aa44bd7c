"""Comment text on GitLab and GitHub: finding the mention, and what a reader actually sees.

A mention counts only where people see it as one: not inside code, not in a quoted
earlier comment, not in a hidden HTML comment. What the agent reads has hidden markup
removed (HTML comments, hidden elements, zero-width and direction-control characters),
so text nobody sees cannot steer it.
"""

from __future__ import annotations

import re
import unicodedata

from bot.commands import strip_mention

_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_HIDDEN_ELEMENT = re.compile(
    r"<(?P<tag>[a-z][a-z0-9]*)\b[^>]*?(?:\shidden\b|display\s*:\s*none)[^>]*>.*?</(?P=tag)\s*>",
    re.IGNORECASE | re.DOTALL,
)
_MARKDOWN_COMMENT = re.compile(r"^[ \t]*\[[^\]\n]*\]:[ \t]*#(?:[ \t].*)?$", re.MULTILINE)
_FENCE = re.compile(r"^[ \t]*(```|~~~).*?(?:^[ \t]*\1[ \t]*$|\Z)", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
_QUOTE_LINE = re.compile(r"^[ \t]*>.*$", re.MULTILINE)


def visible(text: str) -> str:
    """The text as a reader sees it: hidden comments, elements and characters removed."""
    text = _HTML_COMMENT.sub("", text)
    text = _HIDDEN_ELEMENT.sub("", text)
    text = _MARKDOWN_COMMENT.sub("", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", text).strip()


def _mention(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w@/.-])@{re.escape(name)}(?![\w-])", re.IGNORECASE)


def mentions(text: str, name: str) -> bool:
    """Does `text` mention `@name` where a reader sees a mention (not in code or quotes)?"""
    seen = visible(text)
    for pattern in (_FENCE, _INLINE_CODE, _QUOTE_LINE):
        seen = pattern.sub(" ", seen)
    return _mention(name).search(seen) is not None


def command_text(text: str, name: str) -> str:
    """What was asked: the visible text without the mention (leading or anywhere)."""
    seen = visible(text)
    rest, leading = strip_mention(seen, [name])
    if leading:
        return rest
    mention = _mention(name).pattern
    without = re.sub(rf"[ \t]*{mention}[,:;]?", "", seen, count=1, flags=re.IGNORECASE)
    without = re.sub(r"[,;:][ \t]*([?.!])", r"\1", without)
    return re.sub(r"[ \t]{2,}", " ", without).strip(" \t,:;")


_CODE = re.compile(
    r"^[ \t]*(?P<fence>```|~~~).*?(?:^[ \t]*(?P=fence)[ \t]*$|\Z)"
    r"|(?P<ticks>`+)(?:(?!(?P=ticks)).)+?(?P=ticks)",
    re.MULTILINE | re.DOTALL,
)


def defuse(text: str, name: str) -> str:
    """Our own comments never mention the bot (in code a mention is only text anyway)."""
    mention = _mention(name)
    out: list[str] = []
    position = 0
    for code in _CODE.finditer(text):
        out.append(mention.sub(f"`@{name}`", text[position : code.start()]))
        out.append(code.group(0))
        position = code.end()
    out.append(mention.sub(f"`@{name}`", text[position:]))
    return "".join(out)


def host_words(text: str, provider: str) -> str:
    """GitHub calls a merge request a pull request; say it the way its people do."""
    if provider != "github":
        return text
    return text.replace("merge request", "pull request").replace("Merge request", "Pull request")
