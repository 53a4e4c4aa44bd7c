"""The Slack progress sink: a session's events become its card and threaded replies.

The relay hands events over in batches, under the session's lock, with the messages the
sink placed so far (`messages.Messages`); each call is one `Delivery` pass over them.
While the stream is quiet the relay calls `tick`, which lands edits held back by the
one-edit-a-second rule (and refreshes the elapsed time of a quiet run). `close` sends
the final state of every message.
"""

from __future__ import annotations

from bot.core.config import Settings
from bot.progress.sink import Prompts
from bot.sessions.events import ProgressEvent
from bot.surfaces.slack.calls import SlackCalls
from bot.surfaces.slack.delivery import Delivery
from bot.surfaces.slack.messages import Messages, PromptMessage, SlackFields


class SlackSink:
    placement = PromptMessage
    fields = SlackFields

    def __init__(self, settings: Settings, calls: SlackCalls) -> None:
        self.settings = settings
        self.calls = calls

    def deliver(self, turn: Messages, events: list[ProgressEvent], prompts: Prompts) -> None:
        delivery = self._delivery(turn)
        delivery.apply(events, prompts)
        delivery.flush(force=False)

    def tick(self, turn: Messages, now: float) -> None:
        delivery = self._delivery(turn)
        delivery.tick(now)
        delivery.flush(force=False)

    def close(self, turn: Messages) -> None:
        self._delivery(turn).flush(force=True)

    def _delivery(self, turn: Messages) -> Delivery:
        """One pass's renderer (the streaming sink hands out a streaming one)."""
        return Delivery(self.settings, self.calls, turn)
