"""The GitLab/GitHub progress sink: one comment per prompt, edited in place, paced.

The relay hands it events in order, under the session's lock. Each prompt gets a card
(`card.Card`) kept in Redis, so the next job's relay carries on with the same
comment. Every pass reads the cards afresh, and a card skips events it has already seen,
so two relays overlapping for a moment never write a comment twice. Edits are paced to
one per `forge_edit_interval` per comment; a card that changed meanwhile is written when
the relay ticks or at `close`, and the final state is always written at once. When a
run ends, a short new comment mentions the person who asked. Failures here are logged
and never fail the work (the relay goes on).
"""

from __future__ import annotations

import json
import logging
import time

from redis import Redis

from bot import keys
from bot.config import Settings
from bot.errors import NotFound, RepoboxError
from bot.progress import EventKind, ProgressEvent
from bot.progress.sink import Prompts
from bot.progress.view import PromptView
from bot.providers.forge import Forge, ReplyTarget
from bot.providers.registry import forge_for
from bot.redisio import as_str
from bot.security.links import session_link
from bot.sessions import Session
from bot.surfaces.forge.card import Card
from bot.surfaces.forge_text import defuse, host_words
from bot.values import ForgeOrigin

log = logging.getLogger(__name__)


def default_target(session: Session) -> ReplyTarget:
    """The conversation itself (for prompts that carry no reply target of their own)."""
    context = session.context
    if context is None or context.number is None:
        raise NotFound(f"Session `{session.id}` is not bound to an issue or merge request.")
    return ReplyTarget(session.project, context.kind, context.number)


class ForgeSink:
    def __init__(self, settings: Settings, redis: Redis, surface: str) -> None:
        self.settings = settings
        self.redis = redis
        self.surface = surface
        self.prompts = Prompts()  # those of the batch being delivered
        self._forge: Forge | None = None
        self._cards: dict[str, Card] = {}  # cards this sink touched, by prompt id
        self._dirty: set[str] = set()  # cards whose latest state waits for its turn

    @property
    def forge(self) -> Forge:
        if self._forge is None:
            self._forge = forge_for(self.surface, self.settings)
        return self._forge

    # -- ProgressSink ---------------------------------------------------------------------
    def deliver(self, session: Session, events: list[ProgressEvent], prompts: Prompts) -> None:
        self._cards, self.prompts = {}, prompts
        touched: dict[str, Card] = {}
        for event in events:
            if event.prompt_id is None:
                self._session_event(session, event)
                continue
            if event.kind is EventKind.STATE:
                continue  # the card shows the run's own events, not the session's moves
            if event.kind is EventKind.QUEUED and not self._known(session, event.prompt_id):
                self._show_earlier(session, event.prompt_id, touched)
            card = touched.get(event.prompt_id) or self._card(session, event.prompt_id)
            if card is None or not card.take(event):
                continue
            touched[card.prompt_id] = card
        for card in touched.values():
            self._write(session, card, force=card.finished)

    def tick(self, session: Session, now: float) -> None:
        self._write_held(session, force=False)

    def close(self, session: Session) -> None:
        self._write_held(session, force=True)

    def _write_held(self, session: Session, *, force: bool) -> None:
        self._cards = {}
        for prompt_id in sorted(self._dirty):
            card = self._card(session, prompt_id)
            if card is not None:
                self._write(session, card, force=force)

    # -- cards ---------------------------------------------------------------------------
    def _state_key(self, session_id: str) -> str:
        return keys.surface_state(session_id, self.surface)

    def _known(self, session: Session, prompt_id: str) -> bool:
        return prompt_id in self._cards or bool(
            self.redis.hexists(self._state_key(session.id), f"prompt:{prompt_id}")
        )

    def _show_earlier(self, session: Session, prompt_id: str, touched: dict[str, Card]) -> None:
        """Before a "waiting" card, the cards of what it waits for, so they read in order."""
        for prompt in self.prompts.ahead_of(prompt_id):
            if not self._known(session, prompt.id):
                card = self._card(session, prompt.id)
                if card is not None:
                    touched[card.prompt_id] = card
                    self._write(session, card, force=True)

    def _card(self, session: Session, prompt_id: str) -> Card | None:
        if prompt_id in self._cards:
            return self._cards[prompt_id]
        raw = self.redis.hget(self._state_key(session.id), f"prompt:{prompt_id}")
        if raw is not None:
            card = Card.from_dict(json.loads(as_str(raw)))
        else:
            prompt = self.prompts.get(prompt_id)
            if prompt is None:
                return None
            origin = prompt.origin if isinstance(prompt.origin, ForgeOrigin) else None
            asker = (origin.comment.author if origin else "") or prompt.author.id
            target = origin.reply if origin else default_target(session)
            link = session_link(self.settings, session.id)
            card = Card(target, str(asker), link, view=PromptView.of(prompt))
        self._cards[prompt_id] = card
        return card

    def _write(self, session: Session, card: Card, *, force: bool) -> None:
        """Create or edit the comment (paced), then the mention once the run has ended."""
        target = card.target
        body = self._words(card.render(self.settings.bot_name, time.time()))
        waited = time.time() - card.edited_at
        try:
            if card.comment_id is None:
                card.comment_id = self.forge.post(target, body)
                card.rendered, card.edited_at = body, time.time()
            elif body != card.rendered:
                if not force and waited < self.settings.forge_edit_interval:
                    self._dirty.add(card.prompt_id)
                    return
                self.forge.edit(target, card.comment_id, body)
                card.rendered, card.edited_at = body, time.time()
            self._dirty.discard(card.prompt_id)
            if card.finished and not card.notified:
                self.forge.post(target, self._words(card.mention(self.settings.bot_name)))
                card.notified = True
        except RepoboxError as error:
            log.warning("progress comment for %s not written: %s", card.prompt_id, error)
            self._dirty.add(card.prompt_id)
        finally:
            self._save(session.id, card)

    def _words(self, text: str) -> str:
        return host_words(defuse(text, self.settings.bot_name), self.surface)

    def _save(self, session_id: str, card: Card) -> None:
        state = json.dumps(card.to_dict())
        self.redis.hset(self._state_key(session_id), f"prompt:{card.prompt_id}", state)

    # -- the session itself -----------------------------------------------------------------
    def _session_event(self, session: Session, event: ProgressEvent) -> None:
        """Only a failed set-up is said in the thread; other session events show elsewhere."""
        if event.kind is not EventKind.ERROR:
            return
        text = f"@{session.created_by.id} ❌ I could not set up the session: {event.text}"
        try:
            self.forge.post(default_target(session), self._words(text))
        except RepoboxError as error:
            log.warning("set-up failure of session %s not said: %s", session.id, error)
