"""Our own words on GitLab and GitHub: never a live mention of the bot, in the host's terms.

(Reading what people wrote is inbound: `bot.inbound.forge_text`.)
"""

from __future__ import annotations

import re

from bot.inbound.forge_text import mention_pattern

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
