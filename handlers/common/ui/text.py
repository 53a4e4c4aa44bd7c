"""How the pages write messages and times: plain text people read, never markup they typed.

Messages (a `UserError`, a notice) are written with `backtick` spans for names to type, as
chat shows them; on the web those spans become `<code>` and everything else is escaped, so
the backticks never show literally and nothing in a message can become markup.
Times are relative ("5 min ago") with the absolute UTC time for a title attribute.
"""

from __future__ import annotations

import re
import time

from markupsafe import Markup, escape

_CODE = re.compile(r"`([^`\n]+)`")
MINUTE, HOUR, DAY = 60, 3600, 86400


def prose(text: object) -> Markup:
    """`text` escaped, with its `backtick` spans as `<code>`."""
    parts = _CODE.split(str(text or ""))
    out = [
        Markup("<code>{}</code>").format(part) if odd else escape(part)
        for odd, part in ((i % 2 == 1, p) for i, p in enumerate(parts))
    ]
    return Markup("").join(out)


def utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))


def ago(epoch: float, now: float | None = None) -> str:
    """How long ago, in the largest whole unit; a date past a week."""
    seconds = max(0.0, (time.time() if now is None else now) - epoch)
    if seconds < MINUTE:
        return "just now"
    if seconds < HOUR:
        return f"{int(seconds // MINUTE)} min ago"
    if seconds < DAY:
        return f"{int(seconds // HOUR)} h ago"
    if seconds < 7 * DAY:
        days = int(seconds // DAY)
        return "yesterday" if days == 1 else f"{days} days ago"
    return time.strftime("%b %d, %Y", time.gmtime(epoch))
