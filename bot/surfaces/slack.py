"""The Slack progress sink: a session's events become its card and threaded replies.

The relay hands events over in batches; each batch is one `Delivery` pass under the
session's sink lock. Between batches an editor thread lands edits that were held back by
the one-edit-a-second rule (and refreshes the elapsed time of a quiet run), so the
thread shows the latest state even when the agent goes silent. `close` sends the final
state of every message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis

from bot.config import Settings
from bot.progress import ProgressEvent
from bot.sessions import Session
from bot.surfaces.slack_client import SlackCalls, web_client
from bot.surfaces.slack_delivery import Delivery
from bot.surfaces.slack_state import SinkStore

log = logging.getLogger(__name__)


class SlackSink:
    def __init__(self, settings: Settings, redis: Redis, calls: SlackCalls) -> None:
        self.settings = settings
        self.redis = redis
        self.calls = calls
        self._mutex = threading.RLock()
        self._stopping = threading.Event()
        self._editor: threading.Thread | None = None
        self._session_id: str | None = None

    def deliver(self, session: Session, events: list[ProgressEvent]) -> None:
        with self._pass(session.id) as delivery:
            delivery.apply(events)
            delivery.flush(force=False)
        self._start_editor(session.id)

    def close(self, session: Session) -> None:
        self._stopping.set()
        if self._editor is not None:
            self._editor.join(timeout=30)
        with self._pass(session.id) as delivery:
            delivery.flush(force=True)

    @contextmanager
    def _pass(self, session_id: str) -> Iterator[Delivery]:
        with self._mutex:
            store = SinkStore(self.redis, session_id)
            locked = store.lock()
            try:
                delivery = Delivery(self.settings, self.redis, self.calls, store)
                yield delivery
                if delivery.changed:
                    store.save(delivery.state)
            finally:
                if locked:
                    store.unlock()

    def _start_editor(self, session_id: str) -> None:
        if self._editor is not None or self._stopping.is_set():
            return
        self._session_id = session_id
        self._editor = threading.Thread(
            target=self._edit_loop, name=f"slack-editor-{session_id}", daemon=True
        )
        self._editor.start()

    def _edit_loop(self) -> None:
        assert self._session_id is not None
        pause = max(0.02, min(0.25, self.settings.slack_edit_interval / 2))
        while not self._stopping.wait(pause):
            try:
                with self._pass(self._session_id) as delivery:
                    delivery.tick(time.time())
                    delivery.flush(force=False)
            except Exception:
                log.exception("slack editor of session %s failed", self._session_id)


def build_sink(settings: Settings, redis: Redis) -> SlackSink | None:
    """The relay's factory; None (no Slack replies) when no bot token is configured."""
    if not settings.slack_bot_token:
        log.warning("a Slack session has events to relay, but SLACK_BOT_TOKEN is not set")
        return None
    return SlackSink(settings, redis, SlackCalls(web_client(settings)))
