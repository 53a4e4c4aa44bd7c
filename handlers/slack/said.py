"""A person's Slack message as a small value, read once: who said what, where.

Request ids come from Slack's own ids (team, channel, message ts; a command's trigger id;
a click's action ts), so a redelivered event maps to the same session and prompt and the
service's dedupe makes it a no-op.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from bot.core.mentions import strip_mention
from bot.sessions.origin import SlackFile, SlackOrigin
from bot.sessions.session import Person, Thread
from bot.surfaces.slack.thread import SURFACE, SlackThread
from handlers.slack.request import EventCallback

_LINK = re.compile(r"<((?:https?|mailto|ftp|ssh|git)[^|>]*)(?:\|[^>]*)?>")


def plain(text: str) -> str:
    """Slack's markup back to what the person typed: `<url|label>` → url, entities decoded."""
    return html.unescape(_LINK.sub(lambda m: m.group(1), text))


@dataclass(frozen=True)
class Said:
    """A person's message: an `app_mention`, or a reply in a thread."""

    team: str
    channel: str
    user: str
    ts: str
    thread_ts: str | None
    text: str
    files: tuple[SlackFile, ...] = ()  # what the message shares: the prompt's attachments

    @classmethod
    def from_callback(cls, callback: EventCallback) -> Said | None:
        """A person's message, or None when the event lacks who, where or when."""
        event = callback.event
        if not (event.channel and event.user and event.ts):
            return None
        thread_ts = event.thread_ts if event.thread_ts != event.ts else None
        files = tuple(
            SlackFile(f.id, f.name or "", f.mimetype or "", f.size or 0, f.url_private or "")
            for f in event.files
        )
        return cls(
            callback.team_id, event.channel, event.user, event.ts, thread_ts, event.text, files
        )

    @property
    def request_id(self) -> str:
        return f"slack:{self.team}:{self.channel}:{self.ts}"

    @property
    def thread(self) -> SlackThread:
        """The thread this message is in, or the one it starts."""
        return SlackThread(self.team, self.channel, self.thread_ts or self.ts)

    @property
    def person(self) -> Person:
        return Person(self.user, self.user)

    @property
    def origin(self) -> SlackOrigin:
        return SlackOrigin(self.channel, self.ts, self.user, self.files)

    def without_mention(self, bot_user_id: str | None, bot_name: str) -> str:
        names = [n for n in (bot_user_id, bot_name) if n]
        text, found = strip_mention(self.text, names)
        if not found and bot_user_id:
            text = self.text.replace(f"<@{bot_user_id}>", "")
        return plain(text).strip()

    def mentions(self, bot_user_id: str | None) -> bool:
        return bool(bot_user_id) and f"<@{bot_user_id}>" in self.text


def slack_thread(thread: Thread) -> SlackThread | None:
    return SlackThread.from_key(thread.key) if thread.surface == SURFACE else None
