"""Outbound Slack Web API calls: one call as a value, never an exception, never failing the
work (a side channel never fails the job).

`Caller` makes one call (`once`), or repeats one that must land (`landing`) under the one
rate-limit policy (`retry_after`), and counts calls per method. `SlackCalls` is what the
edit path needs on top: post, edit, react and answer privately, with failures logged.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse, WebClient

from bot.surfaces.slack.kit import BlockDict
from bot.surfaces.slack.retry_after import MUST_LAND_FOR, OUTAGE_PAUSE, retry_after, until_landed

log = logging.getLogger(__name__)

Send = Callable[[WebClient], SlackResponse]
"""One Web API method called on the client, e.g. `lambda c: c.chat_update(...)`."""


@dataclass(frozen=True)
class Answer:
    """What a call came to: `ok` with Slack's `data`, or Slack's `error` code. A call worth
    trying again says how long to wait first (`retry_after`): `ratelimited` (a 429) and
    `connection` (Slack could not be reached)."""

    ok: bool
    data: Mapping[str, object] = field(default_factory=dict)
    error: str | None = None
    retry_after: float | None = None


class Caller:
    """Calls Slack on one client, counting the calls per method."""

    def __init__(
        self,
        client: WebClient,
        *,
        must_land_for: float = MUST_LAND_FOR,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.must_land_for = must_land_for
        self.sleep = sleep
        self.clock = clock
        self.counts: Counter[str] = Counter()

    def once(self, method: str, send: Send) -> Answer:
        self.counts[method] += 1
        try:
            response = send(self.client)
        except SlackApiError as error:
            refused = error.response
            if refused.status_code == 429:
                return Answer(False, error="ratelimited", retry_after=retry_after(refused.headers))
            data = refused.data if isinstance(refused.data, dict) else {}
            return Answer(False, data, str(data.get("error") or refused.status_code))
        except (SlackClientError, OSError):
            return Answer(False, error="connection", retry_after=OUTAGE_PAUSE)
        return Answer(True, response.data if isinstance(response.data, dict) else {})

    def landing(self, method: str, send: Send) -> Answer:
        """`once`, repeated through 429s and outages for up to `must_land_for` seconds."""
        return until_landed(
            lambda: self.once(method, send),
            lambda answer: answer.retry_after,
            within=self.must_land_for,
            clock=self.clock,
            sleep=self.sleep,
        )


class SlackCalls:
    """The edit path's calls. `must_land` ones wait out 429s and outages; a failure is
    logged and answered as None or False."""

    def __init__(self, client: WebClient, must_land_for: float = MUST_LAND_FOR) -> None:
        self.caller = Caller(client, must_land_for=must_land_for)

    def post(
        self,
        *,
        channel: str,
        text: str,
        blocks: Sequence[BlockDict] | None = None,
        thread_ts: str | None = None,
    ) -> str | None:
        """chat.postMessage (it must land); the new message's ts, or None."""
        answer = self._call(
            "chat.postMessage",
            lambda c: c.chat_postMessage(
                channel=channel, thread_ts=thread_ts, text=text, blocks=blocks
            ),
        )
        return str(answer.data["ts"]) if answer.ok else None

    def update(
        self, *, channel: str, ts: str, text: str, blocks: Sequence[BlockDict], must_land: bool
    ) -> bool:
        return self._call(
            "chat.update",
            lambda c: c.chat_update(channel=channel, ts=ts, text=text, blocks=blocks),
            must_land=must_land,
        ).ok

    def react(self, channel: str, ts: str, name: str) -> None:
        self._call(
            "reactions.add", lambda c: c.reactions_add(channel=channel, timestamp=ts, name=name)
        )

    def ephemeral(
        self,
        *,
        channel: str,
        user: str,
        text: str,
        blocks: Sequence[BlockDict],
        thread_ts: str | None = None,
    ) -> bool:
        return self._call(
            "chat.postEphemeral",
            lambda c: c.chat_postEphemeral(
                channel=channel, user=user, text=text, blocks=blocks, thread_ts=thread_ts
            ),
        ).ok

    def _call(self, method: str, send: Send, *, must_land: bool = True) -> Answer:
        caller = self.caller
        answer = caller.landing(method, send) if must_land else caller.once(method, send)
        if answer.error == "already_reacted":
            return Answer(True)
        if not answer.ok:
            log.warning("slack %s failed: %s", method, answer.error)
        return answer
