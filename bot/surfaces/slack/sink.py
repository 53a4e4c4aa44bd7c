"""The Slack progress sink: a session's events become its card and threaded replies.

The relay hands events over in batches, under the session's lock; each call is one
`Delivery` pass over the state kept in Redis. While the stream is quiet the relay calls
`tick`, which lands edits held back by the one-edit-a-second rule (and refreshes the
elapsed time of a quiet run). `close` sends the final state of every message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis

from bot.config import Settings
from bot.progress.events import ProgressEvent
from bot.progress.sink import Prompts
from bot.sessions import Session, Thread
from bot.surfaces.slack.calls import SlackCalls, web_client
from bot.surfaces.slack.delivery import Delivery
from bot.surfaces.slack.messages import SinkStore

log = logging.getLogger(__name__)


class SlackSink:
    def __init__(self, settings: Settings, redis: Redis, calls: SlackCalls) -> None:
        self.settings = settings
        self.redis = redis
        self.calls = calls

    def deliver(
        self, session: Session, events: list[ProgressEvent], prompts: Prompts
    ) -> Thread | None:
        with self._pass(session) as delivery:
            delivery.apply(events, prompts)
            delivery.flush(force=False)
        return delivery.moved

    def tick(self, session: Session, now: float) -> Thread | None:
        with self._pass(session) as delivery:
            delivery.tick(now)
            delivery.flush(force=False)
        return delivery.moved

    def close(self, session: Session) -> Thread | None:
        with self._pass(session) as delivery:
            delivery.flush(force=True)
        return delivery.moved

    @contextmanager
    def _pass(self, session: Session) -> Iterator[Delivery]:
        store = SinkStore(self.redis, session.id)
        delivery = self._delivery(store, session)
        yield delivery
        if delivery.changed:
            store.save(delivery.state)

    def _delivery(self, store: SinkStore, session: Session) -> Delivery:
        """One pass's renderer (the streaming sink hands out a streaming one)."""
        return Delivery(self.settings, self.redis, self.calls, store, session)


def build_sink(settings: Settings, redis: Redis) -> SlackSink | None:
    """The relay's factory; None (no Slack replies) when no bot token is configured."""
    if not settings.slack_bot_token:
        log.warning("a Slack session has events to relay, but SLACK_BOT_TOKEN is not set")
        return None
    return SlackSink(settings, redis, SlackCalls(web_client(settings)))
