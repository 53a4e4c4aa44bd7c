"""Which Slack errors mean "no streaming here", and the memory of them per channel.

A workspace on an older plan, an Enterprise policy or a channel type that cannot stream
answers `chat.startStream` with one of `CHANNEL_REFUSALS`. That does not change from one
prompt to the next, so it is remembered per channel (with a TTL, since admins do change
policies) and the next reply goes straight to edited messages without asking again.
Recipient errors are about one person (an external user in a shared channel), so they
fall back once and are not remembered. `STREAM_GONE` means the stream ended under us
(Slack ends streams after a few minutes, or the reader stopped it): a new one is started.
"""

from __future__ import annotations

from bot.core import keys
from bot.progress.shared import Shared

REFUSAL_TTL = 7 * 24 * 3600

CHANNEL_REFUSALS = frozenset(
    {
        "channel_type_not_supported",
        "method_not_supported_for_channel_type",
        "enterprise_is_restricted",
        "not_supported",
        "unknown_method",
        "method_deprecated",
        "missing_scope",
        "not_allowed_token_type",
    }
)
ONE_OFF_REFUSALS = frozenset(
    {"missing_recipient_user_id", "missing_recipient_team_id", "user_not_found", "team_not_found"}
)
STREAM_GONE = frozenset({"message_not_in_streaming_state", "stopped_by_user", "message_not_found"})


class RefusalMemory:
    """Channels where Slack refused streaming, remembered for `ttl` seconds in the
    relay's `Shared` memory (an unreadable memory means "try streaming")."""

    def __init__(self, shared: Shared, ttl: int = REFUSAL_TTL) -> None:
        self.shared = shared
        self.ttl = ttl

    def refused(self, team_id: str | None, channel: str) -> str | None:
        """The error code Slack refused streaming with in this channel, if it did lately."""
        return self.shared.get(keys.slack_stream_refused(team_id or "-", channel))

    def remember(self, team_id: str | None, channel: str, code: str) -> None:
        self.shared.put(keys.slack_stream_refused(team_id or "-", channel), code, self.ttl)

    def forget(self, team_id: str | None, channel: str) -> None:
        self.shared.drop(keys.slack_stream_refused(team_id or "-", channel))
