"""One pass of the Slack sink over a session: apply new events, post and edit messages.

A pass runs under the relay's lock with the state loaded from Redis. New messages
(the card, a prompt's reply, the closing mention) are posted at once; edits of a message
are coalesced to one per `slack_edit_interval`, and a message's final state is always
sent, waiting out the interval and any 429 when it has to.
"""

from __future__ import annotations

import logging
import time

from redis import Redis

from bot.config import Settings
from bot.errors import NotFound
from bot.progress import EventKind, ProgressEvent
from bot.prompts import PromptQueue
from bot.security.links import session_link
from bot.sessions import Session, SessionStore, Thread
from bot.surfaces import slack_blocks as render
from bot.surfaces.slack_client import SlackCalls
from bot.surfaces.slack_state import (
    CardView,
    MessageView,
    Phase,
    PromptView,
    SinkState,
    SinkStore,
)
from bot.surfaces.slack_thread import SURFACE, SlackThread

log = logging.getLogger(__name__)

TICK = 10.0  # a running reply is re-rendered this often even when quiet (elapsed time)
EYES, DONE, FAILED = "eyes", "white_check_mark", "x"
ENDINGS = {
    EventKind.RESULT: (Phase.DONE, DONE),
    EventKind.SHIPPED: (Phase.SHIPPED, DONE),
    EventKind.ERROR: (Phase.FAILED, FAILED),
    EventKind.CANCELLED: (Phase.CANCELLED, FAILED),
}


class Delivery:
    def __init__(
        self, settings: Settings, redis: Redis, calls: SlackCalls, store: SinkStore
    ) -> None:
        self.settings = settings
        self.calls = calls
        self.store = store
        self.sessions = SessionStore(redis)
        self.prompts = PromptQueue(redis)
        self.session: Session = self.sessions.get(store.session_id)
        self.state: SinkState = store.load()
        self.log_url = session_link(settings, self.session.id)
        self.interval = settings.slack_edit_interval
        self.changed = False

    @property
    def thread(self) -> SlackThread:
        return SlackThread.from_key(self.session.thread.key)

    # -- events -------------------------------------------------------------------------
    def apply(self, events: list[ProgressEvent]) -> None:
        for event in events:
            if self.state.seen(event.id):
                continue
            self.ensure_card()
            if event.prompt_id is None:
                self._session_event(event)
            else:
                self._prompt_event(event)
            self.state.delivered = event.id or self.state.delivered
            self.changed = True

    def _session_event(self, event: ProgressEvent) -> None:
        self.state.card.dirty = True
        if event.kind is EventKind.ERROR:
            self.notify(f"setup:{event.id}", f"<@{self.session.created_by.id}> ❌ {event.text}")

    def _prompt_event(self, event: ProgressEvent) -> None:
        if event.kind is EventKind.STATE:
            self.state.card.dirty = True
            return
        view = self._view(event.prompt_id or "")
        if view.final:
            if event.kind in (EventKind.INFO, EventKind.ERROR):  # e.g. the MR update after a run
                self.notify(f"after:{event.id}", render.escape(event.text))
                self.state.card.dirty = True
            return
        if event.kind is EventKind.QUEUED:
            view.ahead = max(0, int(event.data.get("position", 1)) - 1)
            self._taken(view)
        elif event.kind is EventKind.STARTED:
            view.phase, view.started_at = Phase.RUNNING, event.at
            self._taken(view)
        elif event.kind in ENDINGS:
            self._ended(view, event)
        elif event.text.strip():
            view.add_step(event.text, output=event.kind is EventKind.OUTPUT)

    def _view(self, prompt_id: str) -> PromptView:
        view = self.state.prompts.get(prompt_id)
        if view is not None:
            return view
        view = PromptView(prompt_id=prompt_id)
        try:
            prompt = self.prompts.get(prompt_id)
        except NotFound:
            prompt = None
        if prompt is not None:
            view.action, view.author, view.text = prompt.action.value, prompt.author.id, prompt.text
            if prompt.origin.get("surface") == SURFACE:
                view.origin_channel = prompt.origin.get("channel")
                view.origin_ts = prompt.origin.get("ts")
        view.text = view.text[:300]
        self.state.prompts[prompt_id] = view
        return view

    def _taken(self, view: PromptView) -> None:
        view.dirty = True
        if view.ts is None:
            self.send(view)
        self.react(view, EYES)

    def _ended(self, view: PromptView, event: ProgressEvent) -> None:
        view.phase, reaction = ENDINGS[event.kind]
        view.finished_at = event.at
        view.outcome = event.text
        view.result = dict(event.data) if event.kind is EventKind.RESULT else {}
        view.url = event.data.get("url")
        view.dirty = True
        if event.kind is EventKind.SHIPPED:
            self.state.card.dirty = True
        self.send(view, force=True)
        if view.started_at is not None or event.kind is not EventKind.CANCELLED:
            self.react(view, reaction)
            if not view.announced:
                view.announced = self.post(render.announcement(view), blocks=None) is not None

    # -- Slack --------------------------------------------------------------------------
    def ensure_card(self) -> None:
        if self.state.card.ts is not None:
            return
        thread = self.thread
        text, blocks = render.card(self.session, self.log_url)
        ts = self.calls.post(channel=thread.channel, thread_ts=thread.ts, text=text, blocks=blocks)
        if ts is None:
            return
        self.state.card = CardView(ts=ts, last_edit=time.time())
        self.changed = True
        self.store.save(self.state)  # never post a second card, whatever happens next
        if thread.ts is None:
            self.sessions.bind_thread(self.session.id, Thread(SURFACE, thread.with_parent(ts).key))
            self.session = self.sessions.get(self.session.id)

    def post(self, text: str, blocks: list[render.Block] | None) -> str | None:
        thread = self.thread
        if thread.ts is None:
            return None
        ts = self.calls.post(channel=thread.channel, thread_ts=thread.ts, text=text, blocks=blocks)
        self.changed = True
        return ts

    def notify(self, key: str, text: str) -> None:
        """A one-off short reply in the thread (posted once, whichever process gets here)."""
        if key in self.state.notices:
            return
        if self.post(text, blocks=None) is not None:
            self.state.notices.append(key)
            del self.state.notices[:-50]

    def react(self, view: PromptView, name: str) -> None:
        if view.origin_channel and view.origin_ts and name not in view.reactions:
            self.calls.react(view.origin_channel, view.origin_ts, name)
            view.reactions.append(name)
            self.changed = True

    def tick(self, now: float) -> None:
        for view in self.state.prompts.values():
            if view.phase is Phase.RUNNING and now - view.last_edit >= max(TICK, self.interval):
                view.dirty = True

    def flush(self, *, force: bool) -> None:
        """Edit every stale message that may be edited now (all of them when `force`)."""
        for view in self.state.dirty_views():
            self.send(view, force=force)

    def send(self, view: MessageView, *, force: bool = False) -> None:
        """Post or edit one message, at most once per interval; `force` waits its turn."""
        if view is self.state.card and view.ts is None:
            self.ensure_card()
            return
        if view.ts is not None:
            wait = view.due(self.interval, time.time())
            if wait > 0 and not force:
                return
            time.sleep(wait)
        if view is self.state.card:
            self.session = self.sessions.get(self.session.id)
            text, blocks = render.card(self.session, self.log_url)
        else:
            assert isinstance(view, PromptView)
            text, blocks = render.progress(view, self.log_url, time.time())
        must_land = force or (isinstance(view, PromptView) and view.final)
        if view.ts is None:
            ts = self.post(text, blocks)
            ok = ts is not None
            view.ts = ts
        else:
            channel = self.thread.channel
            ok = self.calls.update(
                must_land=must_land, channel=channel, ts=view.ts, text=text, blocks=blocks
            )
        if ok:
            view.dirty, view.last_edit = False, time.time()
            self.changed = True
            self.store.save(self.state)
