"""The GitLab/GitHub progress sink: one comment per prompt, edited in place, paced.

The relay hands it events in order, under the session's lock. Each prompt gets a card
(`card.Card`), which the relay keeps among the session's placements, so the next job's
relay carries on with the same comment. Every turn starts from the saved cards, and a
card skips events it has already seen, so two relays overlapping for a moment never
write a comment twice. Edits are paced to one per `forge_edit_interval` per comment; a
card that changed meanwhile is held (remembered with the cards) and written when the
relay ticks or at `close`, and the final state is always written at once. When a run
ends, a short new comment mentions the person who asked. Failures here are logged and
never fail the work (the relay goes on).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from bot.core.config import Settings
from bot.core.errors import NotFound, RepoboxError
from bot.forges.forge import Forge, ReplyTarget
from bot.forges.registry import forge_for
from bot.forges.text import defuse, host_words
from bot.progress.sink import Prompts, Turn
from bot.progress.view import PromptView
from bot.security.links import session_link
from bot.sessions.events import EventKind, ProgressEvent
from bot.sessions.origin import ForgeOrigin
from bot.sessions.session import Session
from bot.surfaces.forge.card import Card

log = logging.getLogger(__name__)


def default_target(session: Session) -> ReplyTarget:
    """The conversation itself (for prompts that carry no reply target of their own)."""
    context = session.context
    if context is None or context.number is None:
        raise NotFound(f"Session `{session.id}` is not bound to an issue or merge request.")
    return ReplyTarget(session.project, context.kind, context.number)


@dataclass
class Held:
    """The forge sink's own field: prompts whose newest card waits for its edit turn."""

    prompts: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"prompts": self.prompts}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Held:
        return cls(sorted(str(p) for p in data.get("prompts") or []))


Cards = Turn[Card, Held]  # what the relay hands the sink on each call


class ForgeSink:
    placement = Card
    fields = Held

    def __init__(self, settings: Settings, surface: str) -> None:
        self.settings = settings
        self.surface = surface
        self._forge: Forge | None = None

    @property
    def forge(self) -> Forge:
        if self._forge is None:
            self._forge = forge_for(self.surface, self.settings)
        return self._forge

    # -- ProgressSink ---------------------------------------------------------------------
    def deliver(self, turn: Cards, events: list[ProgressEvent], prompts: Prompts) -> None:
        touched: dict[str, Card] = {}
        for event in events:
            if event.prompt_id is None:
                self._session_event(turn.session, event)
                continue
            if event.kind is EventKind.STATE:
                continue  # the card shows the run's own events, not the session's moves
            if event.kind is EventKind.QUEUED and event.prompt_id not in turn.placements.prompts:
                self._show_earlier(turn, prompts, event.prompt_id, touched)
            card = self._card(turn, prompts, event.prompt_id)
            if card is None or not card.take(event):
                continue
            touched[card.prompt_id] = card
        for card in touched.values():
            self._write(turn, card, force=card.finished)

    def tick(self, turn: Cards, now: float) -> None:
        self._write_held(turn, force=False)

    def close(self, turn: Cards) -> None:
        self._write_held(turn, force=True)

    def _write_held(self, turn: Cards, *, force: bool) -> None:
        for prompt_id in list(turn.placements.fields.prompts):
            card = turn.placements.prompts.get(prompt_id)
            if card is not None:
                self._write(turn, card, force=force)

    # -- cards ---------------------------------------------------------------------------
    def _show_earlier(
        self, turn: Cards, prompts: Prompts, prompt_id: str, touched: dict[str, Card]
    ) -> None:
        """Before a "waiting" card, the cards of what it waits for, so they read in order."""
        for prompt in prompts.ahead_of(prompt_id):
            if prompt.id not in turn.placements.prompts:
                card = self._card(turn, prompts, prompt.id)
                if card is not None:
                    touched[card.prompt_id] = card
                    self._write(turn, card, force=True)

    def _card(self, turn: Cards, prompts: Prompts, prompt_id: str) -> Card | None:
        card = turn.placements.prompts.get(prompt_id)
        if card is not None:
            return card
        prompt = prompts.get(prompt_id)
        if prompt is None:
            return None
        session = turn.session
        origin = prompt.origin if isinstance(prompt.origin, ForgeOrigin) else None
        asker = (origin.comment.author if origin else "") or prompt.author.id
        target = origin.reply if origin else default_target(session)
        link = session_link(self.settings, session.id)
        card = Card(target, str(asker), link, view=PromptView.of(prompt))
        turn.placements.prompts[prompt_id] = card
        return card

    def _write(self, turn: Cards, card: Card, *, force: bool) -> None:
        """Create or edit the comment (paced), then the mention once the run has ended."""
        held = turn.placements.fields.prompts
        target = card.target
        body = self._words(card.render(self.settings.bot_name, time.time()))
        waited = time.time() - card.edited_at
        try:
            if card.comment_id is None:
                card.comment_id = self.forge.post(target, body)
                card.rendered, card.edited_at = body, time.time()
                turn.keep()  # a second comment for this card: never
            elif body != card.rendered:
                if not force and waited < self.settings.forge_edit_interval:
                    _hold(held, card.prompt_id)
                    return
                self.forge.edit(target, card.comment_id, body)
                card.rendered, card.edited_at = body, time.time()
            _release(held, card.prompt_id)
            if card.finished and not card.notified:
                self.forge.post(target, self._words(card.mention(self.settings.bot_name)))
                card.notified = True
                turn.keep()
        except RepoboxError as error:
            log.warning("progress comment for %s not written: %s", card.prompt_id, error)
            _hold(held, card.prompt_id)

    def _words(self, text: str) -> str:
        return host_words(defuse(text, self.settings.bot_name), self.surface)

    # -- the session itself -----------------------------------------------------------------
    def _session_event(self, session: Session, event: ProgressEvent) -> None:
        """A failed set-up is said in the thread, and a prompt asked on another of the
        session's places in one line; other session events show elsewhere."""
        if event.kind is EventKind.INFO and event.data.get("asked_on"):
            url = str(event.data.get("url") or "")
            plain = url.startswith(("https://", "http://")) and not any(c in url for c in " ()")
            text = f"{event.text} ({url})" if plain else event.text
        elif event.kind is EventKind.ERROR:
            text = f"@{session.created_by.id} ❌ I could not set up the session: {event.text}"
        else:
            return
        try:
            self.forge.post(default_target(session), self._words(text))
        except RepoboxError as error:
            log.warning("session event of %s not said: %s", session.id, error)


def _hold(held: list[str], prompt_id: str) -> None:
    if prompt_id not in held:
        held.append(prompt_id)
        held.sort()


def _release(held: list[str], prompt_id: str) -> None:
    if prompt_id in held:
        held.remove(prompt_id)
