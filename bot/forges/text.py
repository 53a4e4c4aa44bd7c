"""Comment text on GitLab and GitHub, both ways: finding the mention in what people wrote and
what a reader actually sees (read by the webhook handler, and again by the job for the
agent); and our own words, which never mention the bot live and use the host's terms.

A mention counts only where people see it as one: not inside code, not in a quoted
earlier comment, not in a hidden HTML comment. What the agent reads has hidden markup
removed (HTML comments, hidden elements, zero-width and direction-control characters),
so text nobody sees cannot steer it.
"""

from __future__ import annotations

import bisect
import re
import unicodedata

from bot.core.mentions import strip_mention

_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
# An element is found in pieces, each in one pass (a single pattern from an opening tag to
# its closing one rescans the rest of the text from every `<a hidden>` that has none).
_OPEN_TAG = re.compile(r"<(?P<tag>[a-z][a-z0-9]*+)\b(?P<attrs>[^<>]*+)>", re.IGNORECASE)
_CLOSE_TAG = re.compile(r"</(?P<tag>[a-z][a-z0-9]*+)\s*+>", re.IGNORECASE)
_HIDING = re.compile(r"\shidden\b|display\s*:\s*none", re.IGNORECASE)
_MARKDOWN_COMMENT = re.compile(r"^[ \t]*\[[^\]\n]*\]:[ \t]*#(?:[ \t].*)?$", re.MULTILINE)
_FENCE = re.compile(r"^[ \t]*(```|~~~).*?(?:^[ \t]*\1[ \t]*$|\Z)", re.MULTILINE | re.DOTALL)
_BACKTICKS = re.compile(r"`+")
_QUOTE_LINE = re.compile(r"^[ \t]*>.*$", re.MULTILINE)
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")  # ASCII has no format (Cf) characters


def _without_format_characters(run: re.Match[str]) -> str:
    """Zero-width and direction-control characters dropped; only non-ASCII runs are
    looked at one by one, so a megabyte of plain text costs one regex scan."""
    return "".join(ch for ch in run.group() if unicodedata.category(ch) != "Cf")


def _without_hidden_elements(text: str) -> str:
    """`<tag hidden …>…</tag>` (or `display: none`) removed, in time linear in the text:
    closing tags are indexed once, and each hiding tag looks up its first closer."""
    closers: dict[str, list[tuple[int, int]]] = {}
    for close in _CLOSE_TAG.finditer(text):
        closers.setdefault(close["tag"].lower(), []).append((close.start(), close.end()))
    kept, pos = [], 0
    for tag in _OPEN_TAG.finditer(text) if closers else ():
        if tag.start() < pos or not _HIDING.search(tag["attrs"]):
            continue
        ends = closers.get(tag["tag"].lower(), [])
        first = bisect.bisect_left(ends, (tag.end(), 0))
        if first < len(ends):
            kept.append(text[pos : tag.start()])
            pos = ends[first][1]
    kept.append(text[pos:])
    return "".join(kept)


def _without_inline_code(text: str) -> str:
    """Code spans replaced by a space, as CommonMark reads them (a run of n backticks up
    to the next run of exactly n), in one pass: each run knows the next of its length."""
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(text)]
    following: list[int | None] = [None] * len(runs)
    last_of_length: dict[int, int] = {}
    for i in range(len(runs) - 1, -1, -1):
        length = runs[i][1] - runs[i][0]
        following[i] = last_of_length.get(length)
        last_of_length[length] = i
    kept, pos, i = [], 0, 0
    while i < len(runs):
        closer = following[i]
        if closer is None:
            i += 1
            continue
        kept.append(text[pos : runs[i][0]])
        kept.append(" ")
        pos, i = runs[closer][1], closer + 1
    kept.append(text[pos:])
    return "".join(kept)


def visible(text: str) -> str:
    """The text as a reader sees it: hidden comments, elements and characters removed."""
    text = _HTML_COMMENT.sub("", text)
    text = _without_hidden_elements(text)
    text = _MARKDOWN_COMMENT.sub("", text)
    text = _NON_ASCII.sub(_without_format_characters, text)
    return re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", text).strip()


def mention_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w@/.-])@{re.escape(name)}(?![\w-])", re.IGNORECASE)


def mentions(text: str, name: str) -> bool:
    """Does `text` mention `@name` where a reader sees a mention (not in code or quotes)?"""
    seen = visible(text)
    seen = _without_inline_code(_FENCE.sub(" ", seen))
    seen = _QUOTE_LINE.sub(" ", seen)
    return mention_pattern(name).search(seen) is not None


def command_text(text: str, name: str) -> str:
    """What was asked: the visible text without the mention (leading or anywhere)."""
    seen = visible(text)
    rest, leading = strip_mention(seen, [name])
    if leading:
        return rest
    mention = mention_pattern(name).pattern
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
    mention = mention_pattern(name)
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
