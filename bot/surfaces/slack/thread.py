"""Where a Slack session lives: a team, a channel and the ts of the thread's parent message.

A session started with `/repobox new` has no parent yet (slash commands cannot be used in
threads, so the bot posts one); until then its key names the command that started it, and
the sink binds the session to the parent's ts once it has posted it.
"""

from __future__ import annotations

from dataclasses import dataclass

SURFACE = "slack"
PENDING = "cmd-"


@dataclass(frozen=True)
class SlackThread:
    team: str
    channel: str
    ts: str | None  # the parent message; None until the bot has posted it
    pending: str | None = None  # what started it, while `ts` is None

    def __post_init__(self) -> None:
        if (self.ts is None) == (self.pending is None):
            raise ValueError("a Slack thread has either a parent ts or a pending id")
        for part in (self.team, self.channel, self.ts or self.pending or ""):
            if not part or ":" in part:
                raise ValueError(f"not a Slack id: {part!r}")

    @property
    def key(self) -> str:
        return f"{self.team}:{self.channel}:{self.ts or PENDING + (self.pending or '')}"

    @classmethod
    def from_key(cls, key: str) -> SlackThread:
        team, channel, last = key.split(":", 2)
        if last.startswith(PENDING):
            return cls(team, channel, None, last[len(PENDING) :])
        return cls(team, channel, last)

    def with_parent(self, ts: str) -> SlackThread:
        return SlackThread(self.team, self.channel, ts)
