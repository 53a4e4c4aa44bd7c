"""All the relays of a session: its home thread's and one per other surface it has a place on.

A Slack or web session that shipped a GitHub pull request has a place there; a prompt asked
on that pull request shows its progress on it, through a `Relay` for the `github` place
(its own cursor, lock and placements). Jobs open `Relays` wherever they opened a relay, and
a drain calls `refresh` before each prompt, so a place bound while it ran (its own ship)
gets its relay for the prompts asked there next.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from redis import Redis

from bot.core.config import Settings
from bot.progress.relay import Relay, SinkFactory
from bot.sessions.session_store import SessionStore


class Relays:
    def __init__(
        self,
        settings: Settings,
        redis: Redis,
        session_id: str,
        sinks: SinkFactory,
        followup: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.session_id = session_id
        self.sinks = sinks
        self.followup = followup  # the home relay's: a final reply deferred by pacing
        self._stack = contextlib.ExitStack()
        self._open: set[str] = set()
        self._home = ""

    def __enter__(self) -> Relays:
        home = Relay(
            self.settings, self.redis, self.session_id, sinks=self.sinks, followup=self.followup
        )
        self._home = home.home
        self._stack.enter_context(home)
        self.refresh()
        return self

    def refresh(self) -> None:
        """Open a relay for each surface the session has a place on and no relay yet."""
        places = SessionStore(self.redis).places(self.session_id)
        for surface in sorted({surface for surface, _ in places} - self._open - {self._home}):
            relay = Relay(
                self.settings, self.redis, self.session_id, sinks=self.sinks, place=surface
            )
            self._stack.enter_context(relay)
            self._open.add(surface)

    def __exit__(self, *exc: object) -> None:
        self._stack.close()
