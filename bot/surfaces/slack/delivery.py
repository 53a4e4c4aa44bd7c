"""One pass of the Slack sink over a session: apply new events, post and edit messages.

A pass runs under the relay's lock, on the messages the relay loaded for it. New messages
(the card, a prompt's reply, the closing mention) are posted at once; edits of a message
are coalesced to one per `slack_edit_interval`, and a message's final state is always
sent, waiting out the interval when it has to. Every call takes its place in the
workspace's budget first (`pacing.Pacing`): a reaction or an intermediate edit goes only
when there is one (skipped or coalesced otherwise); a new message or a final state waits
for one, bounded, and past the bound the pass marks the turn `deferred` and leaves the
message stale for a follow-up relay job.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import replace

from bot.core.config import Settings
from bot.progress.cursor import seen
from bot.progress.sink import Prompts
from bot.progress.view import PromptView
from bot.security.links import session_link
from bot.sessions.events import EventKind, ProgressEvent
from bot.sessions.origin import SlackOrigin
from bot.sessions.prompts import PromptState
from bot.sessions.session import Session, Thread
from bot.surfaces.slack import blocks as render
from bot.surfaces.slack import kit
from bot.surfaces.slack.calls import SlackCalls
from bot.surfaces.slack.messages import CardView, Messages, MessageView, PromptMessage
from bot.surfaces.slack.pacing import POST, REACT, UPDATE, Pacing
from bot.surfaces.slack.thread import SURFACE, SlackThread

log = logging.getLogger(__name__)

TICK = 10.0  # a running reply is re-rendered this often even when quiet (elapsed time)
CARD_EVERY = 10.0  # the card's state between the closes of relays: at most one edit per
EYES, DONE, FAILED = "eyes", "white_check_mark", "x"
REACTIONS = {
    EventKind.RESULT: DONE,
    EventKind.SHIPPED: DONE,
    EventKind.ERROR: FAILED,
    EventKind.CANCELLED: FAILED,
}


def shown(text: str, blocks: Sequence[kit.BlockDict]) -> str:
    """A short digest of a rendered message, to skip an edit that would change nothing."""
    raw = json.dumps([text, list(blocks)], sort_keys=True, default=str)
    return hashlib.blake2b(raw.encode(), digest_size=8).hexdigest()


class Delivery:
    def __init__(self, settings: Settings, calls: SlackCalls, turn: Messages) -> None:
        self.settings = settings
        self.calls = calls
        self.turn = turn
        self.fields = turn.placements.fields
        self.messages = turn.placements.prompts  # in the order the prompts appeared
        self.prompts = Prompts()  # those of the batch being applied
        self.log_url = session_link(settings, turn.session.id)
        self.interval = settings.slack_edit_interval
        self.pacing = Pacing(turn.shared, self.thread.team, settings)

    @property
    def session(self) -> Session:
        return self.turn.session

    @property
    def thread(self) -> SlackThread:
        return SlackThread.from_key(self.session.thread.key)

    # -- events -------------------------------------------------------------------------
    def apply(self, events: list[ProgressEvent], prompts: Prompts) -> None:
        self.prompts = prompts
        for event in events:
            if seen(event.id, self.fields.delivered):
                continue
            self.ensure_card()
            if event.prompt_id is None:
                self._session_event(event)
            else:
                self._prompt_event(event)
            self.fields.delivered = event.id or self.fields.delivered

    def _session_event(self, event: ProgressEvent) -> None:
        self.fields.card.dirty = True
        if event.kind is EventKind.ERROR:
            self.notify(f"setup:{event.id}", f"<@{self.session.created_by.id}> ❌ {event.text}")
        elif event.kind is EventKind.INFO and event.data.get("asked_on"):  # asked elsewhere
            url = str(event.data.get("url") or "")
            link = f" (<{url}|open>)" if kit.safe_url(url) else ""
            self.notify(f"place:{event.id}", f"{kit.escape(event.text)}{link}")

    def _prompt_event(self, event: ProgressEvent) -> None:
        if event.kind is EventKind.STATE:
            self.fields.card.dirty = True
            return
        message = self._message(event.prompt_id or "")
        view = message.view
        was_final = view.final
        if not view.take(event):
            return
        if was_final:
            if event.kind in (EventKind.INFO, EventKind.ERROR):  # e.g. the MR update after a run
                self.notify(f"after:{event.id}", kit.escape(event.text))
                self.fields.card.dirty = True
            return
        if event.candidate is not None:  # one candidate's line of a comparison changed;
            message.dirty = True  # its end is not the comparison's (no reaction, no mention)
            return
        if event.kind in (EventKind.QUEUED, EventKind.STARTED):
            self._taken(message)
        elif event.kind in REACTIONS:
            self._ended(message, event)
        elif event.text.strip():
            message.dirty = True

    def _message(self, prompt_id: str) -> PromptMessage:
        message = self.messages.get(prompt_id)
        if message is not None:
            return message
        message = PromptMessage(view=PromptView(prompt_id))
        prompt = self.prompts.get(prompt_id)
        if prompt is not None:
            message.view = PromptView.of(prompt)
            if isinstance(prompt.origin, SlackOrigin):
                message.origin_channel = prompt.origin.channel
                message.origin_ts = prompt.origin.ts
        self.messages[prompt_id] = message
        return message

    def _taken(self, message: PromptMessage) -> None:
        """Queued or started: its reply shows that; 👀 only when no reply could be posted
        (a Tier 3 call a prompt need not spend)."""
        message.dirty = True
        if message.ts is None:
            self.send(message)
        if message.ts is None:
            self.react(message, EYES)

    def _ended(self, message: PromptMessage, event: ProgressEvent) -> None:
        message.dirty = True
        if event.kind is EventKind.SHIPPED:
            self.fields.card.dirty = True
        self.send(message, force=True)
        if self.announces(message):
            self.react(message, REACTIONS[event.kind])
            self.announce(message)

    @staticmethod
    def announces(message: PromptMessage) -> bool:
        """A prompt that ran, or ended otherwise than cancelled while waiting, is announced."""
        view = message.view
        ran = view.started_at is not None
        return view.final and (ran or view.state is not PromptState.CANCELLED)

    def announce(self, message: PromptMessage) -> None:
        """The short reply mentioning the author (once; a deferred one is sent at the close)."""
        if not message.announced:
            text = render.announcement(message.view)
            message.announced = self.post(text, blocks=None) is not None
            message.announce_due = not message.announced

    # -- Slack --------------------------------------------------------------------------
    def ensure_card(self) -> None:
        if self.fields.card.ts is not None:
            return
        thread = self.thread
        text, blocks = render.card(self.session, self.log_url)
        if not self.paced(POST, thread.channel):
            return
        ts = self.calls.post(channel=thread.channel, thread_ts=thread.ts, text=text, blocks=blocks)
        if ts is None:
            return
        self.fields.card = CardView(ts=ts, last_edit=time.time())
        self.turn.keep()  # never post a second card, whatever happens next
        if thread.ts is None:
            moved = Thread(SURFACE, thread.with_parent(ts).key)
            self.turn.moved, self.turn.session = moved, replace(self.session, thread=moved)

    def post(self, text: str, blocks: list[kit.BlockDict] | None) -> str | None:
        thread = self.thread
        if thread.ts is None or not self.paced(POST, thread.channel):
            return None
        return self.calls.post(
            channel=thread.channel, thread_ts=thread.ts, text=text, blocks=blocks
        )

    def notify(self, key: str, text: str) -> None:
        """A one-off short reply in the thread (posted once, whichever process gets here)."""
        if key in self.fields.notices:
            return
        if self.post(text, blocks=None) is not None:
            self.fields.notices.append(key)
            del self.fields.notices[:-50]
            self.turn.keep()

    def react(self, message: PromptMessage, name: str) -> None:
        """A cosmetic reaction: skipped for good when the workspace's budget is short."""
        if message.origin_channel and message.origin_ts and name not in message.reactions:
            if self.pacing.spare(REACT):
                self.calls.react(message.origin_channel, message.origin_ts, name)
            message.reactions.append(name)

    def paced(self, method: str, channel: str) -> bool:
        """A place for a call that must land: waited for up to the bound once per pass;
        after one deferral in a pass the others only try (the worker moves on)."""
        if self.turn.deferred:
            got = self.pacing.now(method, channel)
        else:
            got = self.pacing.wait(method, channel)
        self.turn.deferred = self.turn.deferred or not got
        return got

    def tick(self, now: float) -> None:
        for message in self.messages.values():
            running = message.view.state is PromptState.RUNNING
            if running and now - message.last_edit >= max(TICK, self.interval):
                message.dirty = True

    def flush(self, *, force: bool) -> None:
        """Edit every stale message that may be edited now (all of them when `force`)."""
        views: list[MessageView] = [self.fields.card, *self.messages.values()]
        for view in [v for v in views if v.dirty]:
            self.send(view, force=force)
        if force:  # the closing mentions pacing deferred
            for message in self.messages.values():
                if message.announce_due:
                    self.announce(message)

    def send(self, view: MessageView, *, force: bool = False) -> None:
        """Post or edit one message, at most once per interval; `force` waits its turn."""
        if view is self.fields.card and view.ts is None:
            self.ensure_card()
            return
        card = view is self.fields.card
        if view.ts is not None:
            wait = view.due(self.interval, time.time())
            if not force and card:  # cosmetic until the close: coalesced over CARD_EVERY
                wait = max(wait, view.due(CARD_EVERY, time.time()))
            if wait > 0 and not force:
                return
            time.sleep(min(wait, self.interval))
        if card:
            text, blocks = render.card(self.session, self.log_url)
            if view.ts is not None and self.fields.card.shown == shown(text, blocks):
                view.dirty = False  # unchanged since its last edit: no call
                return
        else:
            assert isinstance(view, PromptMessage)
            text, blocks = render.progress(view.view, self.log_url, time.time())
        must_land = force or (isinstance(view, PromptMessage) and view.view.final)
        if view.ts is None:
            ts = self.post(text, blocks)
            ok = ts is not None
            view.ts = ts
        else:
            channel = self.thread.channel
            if not (self.paced(UPDATE, channel) if must_land else self.pacing.spare(UPDATE)):
                return  # stays dirty: coalesced into the next edit, or deferred
            ok = self.calls.update(
                must_land=must_land, channel=channel, ts=view.ts, text=text, blocks=blocks
            )
        if ok:
            view.dirty, view.last_edit = False, time.time()
            if card:
                self.fields.card.shown = shown(text, blocks)
            self.turn.keep()
