"""A prompt's reply as one native Slack stream: text and task cards, batched, always closed.

The caller feeds it the agent's words (`text`) and steps (`task`) as they happen and calls
`flush` whenever it likes; at most one `chat.appendStream` goes out per `interval`
(1 s by default: 60 a minute, well inside Tier 4's 100+), carrying everything that piled
up since the last one, with repeated updates of one card folded into the newest. The
tier counts per workspace, so with an `AppendBudget` all streams of a workspace share it.
A 429 only pushes the next append back by its `Retry-After` (for the whole workspace).
`stop` must land: it waits out 429s, and when Slack has ended the stream meanwhile it
starts a new one to carry the final state, summary blocks and buttons. Streams older
than `max_age` are rolled over (closed, and a new one opened with the cards still
running) before Slack cuts them off.

With `StreamSlots` every start and stop takes a place in its workspace's Tier 2 minute
first (a start reserves its stop); with no place left the stream does not start (code
`paced`).
Where Slack refuses streaming (`refusals.CHANNEL_REFUSALS`), or the stream cannot start
at all, the writer says `Outcome.FALLBACK` and does nothing else: the caller renders the
reply as today's edited message. Channel refusals are remembered (`RefusalMemory`), so
the next reply there does not ask again. Nothing here raises on a Slack error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TypedDict, Unpack

from slack_sdk.web import WebClient

from bot.surfaces.slack.calls import Answer, Caller
from bot.surfaces.slack.kit import BlockDict
from bot.surfaces.slack.retry_after import MUST_LAND_FOR
from bot.surfaces.slack.stream.batch import Batch, task_ids
from bot.surfaces.slack.stream.budget import AppendBudget
from bot.surfaces.slack.stream.refusals import CHANNEL_REFUSALS, STREAM_GONE, RefusalMemory
from bot.surfaces.slack.stream.slots import StreamSlots
from bot.surfaces.slack.stream.values import (
    Chunk,
    Fallback,
    Outcome,
    Snapshot,
    StreamTarget,
    TaskStatus,
    TaskUpdate,
)

log = logging.getLogger(__name__)

MAX_AGE = 240.0  # Slack ends a stream about 5 minutes after it starts; roll over before


class Options(TypedDict, total=False):
    """How a writer paces and remembers (`StreamWriter`'s keyword arguments)."""

    refusals: RefusalMemory | None
    budget: AppendBudget | None
    slots: StreamSlots | None
    interval: float
    sleep: Callable[[float], None]
    clock: Callable[[], float]


class StreamWriter:
    """One prompt's streamed reply. Not thread-safe: one relay loop drives it."""

    def __init__(
        self,
        client: WebClient,
        target: StreamTarget,
        *,
        refusals: RefusalMemory | None = None,
        budget: AppendBudget | None = None,
        slots: StreamSlots | None = None,
        interval: float = 1.0,
        display_mode: str = "timeline",
        max_age: float = MAX_AGE,
        must_land_for: float = MUST_LAND_FOR,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`clock` is wall-clock time by default, so a `snapshot` resumes in another process."""
        self.target = target
        self.refusals = refusals
        self.budget = budget
        self.slots = slots
        self.slot: str | None = None
        self.interval = interval
        self.display_mode = display_mode
        self.max_age = max_age
        self.clock = clock
        self.slack = Caller(client, must_land_for=must_land_for, sleep=sleep, clock=clock)
        self.outcome = Outcome.NEW
        self.fallback: Fallback | None = None
        self.messages: list[str] = []
        """The ts of every message this reply streamed into (more than one after rollover)."""
        self._pending = Batch()
        self._tasks: dict[str, TaskUpdate] = {}
        self._started_at = 0.0
        self._next_at = 0.0

    @classmethod
    def resumed(
        cls, client: WebClient, data: Mapping[str, object], **options: Unpack[Options]
    ) -> StreamWriter:
        """The writer a `snapshot` was taken of, for the next pass (any process) to go on."""
        state = Snapshot.model_validate(data)
        writer = cls(client, state.target, **options)
        writer.outcome, writer.fallback = state.outcome, state.fallback
        writer.messages, writer._tasks = state.messages, {t.id: t for t in state.tasks}
        writer._pending = Batch.from_dicts(state.pending)
        writer._started_at, writer._next_at = state.started_at, state.next_at
        writer.slot = state.slot
        return writer

    def snapshot(self) -> dict[str, object]:
        """The reply's state as JSON (what was sent where, what is still to send)."""
        state = Snapshot(
            target=self.target,
            outcome=self.outcome,
            fallback=self.fallback,
            messages=self.messages,
            tasks=list(self._tasks.values()),
            pending=self._pending.to_dicts(),
            started_at=self._started_at,
            next_at=self._next_at,
            slot=self.slot,
        )
        return state.model_dump(mode="json")

    @property
    def ts(self) -> str | None:
        return self.messages[-1] if self.messages else None

    @property
    def calls(self) -> int:
        return sum(self.slack.counts.values())

    # -- what the reply says ------------------------------------------------------------
    def text(self, markdown: str) -> None:
        """Append the agent's words (markdown) to the reply."""
        if markdown:
            self._pending.text(markdown)

    def task(self, update: TaskUpdate) -> None:
        """Show or change one task card; a card's pending update is replaced, not repeated."""
        self._tasks[update.id] = update
        self._pending.task(update.to_chunk())

    def open_tasks(self) -> list[TaskUpdate]:
        return [t for t in self._tasks.values() if t.status.open]

    # -- delivery -------------------------------------------------------------------------
    def start(self, markdown: str | None = None) -> Outcome:
        """Open the stream (a reply in the target thread), or decide on the fallback."""
        if self.outcome is not Outcome.NEW:
            return self.outcome
        if markdown:
            self.text(markdown)
        to = self.target
        code = self.refusals.refused(to.team_id, to.channel) if self.refusals else None
        if code is not None:
            self.fallback, self.outcome = Fallback(code, remembered=True), Outcome.FALLBACK
            return self.outcome
        answer = self._open(self._pending.take())
        if answer.ok:
            self.outcome = Outcome.STREAMING
        else:
            self._fall_back(answer.error or "unknown")
        return self.outcome

    def flush(self, *, force: bool = False) -> Outcome:
        """Send what piled up, if the interval since the last call has passed (or `force`)."""
        if self.outcome is Outcome.NEW:
            self.start()
        if self.outcome is not Outcome.STREAMING:
            return self.outcome
        now = self.clock()
        if now - self._started_at >= self.max_age:
            self._roll_over()
            return self.outcome
        if not self._pending or (now < self._next_at and not force):
            return self.outcome
        wait = self.budget.take() if self.budget is not None and not force else 0.0
        if wait > 0:  # the workspace's appends are spent for now
            self._next_at = now + wait
            return self.outcome
        chunks = self._pending.take()
        channel, ts = self.target.channel, self.ts or ""
        call = self.slack.landing if force else self.slack.once
        answer = call(
            "chat.appendStream",
            lambda c: c.chat_appendStream(channel=channel, ts=ts, chunks=chunks),
        )
        self._after_append(answer, chunks)
        return self.outcome

    def stop(
        self,
        *,
        markdown: str | None = None,
        blocks: Sequence[BlockDict] | None = None,
        open_tasks: TaskStatus | None = None,
        open_details: str | None = None,
    ) -> Outcome:
        """Close the reply with its final words, summary `blocks` and buttons; it must land.

        `open_tasks` ends the cards still pending or running (ERROR for a cancelled or
        failed run, with `open_details` such as "cancelled")."""
        if self.outcome is Outcome.NEW:
            self.start()
        if self.outcome is not Outcome.STREAMING:
            return self.outcome
        if open_tasks is not None:
            for task in self.open_tasks():
                self.task(task.with_status(open_tasks, open_details))
        if markdown:
            self.text(markdown)
        chunks = self._pending.take()
        summary = list(blocks) if blocks else None
        answer = self._stop(chunks, summary)
        if answer.error in STREAM_GONE:
            answer = self._reopen_and_stop(chunks, summary)
        elif answer.error in ("invalid_blocks", "invalid_chunks") and summary:
            log.warning("slack refused the summary of %s: %s", self.ts, answer.data.get("errors"))
            answer = self._stop(chunks, None)
        self.outcome = Outcome.STOPPED if answer.ok else Outcome.FAILED
        if not answer.ok:
            log.warning("could not close the stream %s: %s", self.ts, answer.error)
        return self.outcome

    # -- internals ------------------------------------------------------------------------
    def _stop(self, chunks: list[Chunk] | None, blocks: list[BlockDict] | None) -> Answer:
        """`chat.stopStream` of the current message; it must land."""
        channel, ts = self.target.channel, self.ts or ""
        self._free_slot()
        return self.slack.landing(
            "chat.stopStream",
            lambda c: c.chat_stopStream(channel=channel, ts=ts, chunks=chunks, blocks=blocks),
        )

    def _free_slot(self) -> None:
        """Count this stream's stop in the workspace's minute (its reserved place)."""
        if self.slots is not None:
            if not self.slots.close(self.slot):
                log.warning("no stop place left for %s: stopping it anyway", self.ts)
            self.slot = None

    def _open(self, chunks: list[Chunk]) -> Answer:
        to, mode = self.target, self.display_mode
        if self.slots is not None:
            slot = self.slots.open()
            if slot is None:  # the workspace's starts (or stops) are spent this minute
                return Answer(False, error="paced")
            self.slot = slot
        # paced, a start Slack refuses for now is an edited reply at once, not a wait
        call = self.slack.once if self.slots is not None else self.slack.landing
        answer = call(
            "chat.startStream",
            lambda c: c.chat_startStream(
                channel=to.channel,
                thread_ts=to.thread_ts,
                recipient_user_id=to.recipient[0],
                recipient_team_id=to.recipient[1],
                task_display_mode=mode,
                chunks=chunks or None,
            ),
        )
        if answer.ok:
            self.messages.append(str(answer.data["ts"]))
            self._started_at = self.clock()
            self._next_at = self._started_at + self.interval
        return answer

    def _fall_back(self, code: str) -> None:
        remembered = code in CHANNEL_REFUSALS and self.refusals is not None
        if remembered and self.refusals is not None:
            self.refusals.remember(self.target.team_id, self.target.channel, code)
        log.info("no streaming in %s (%s): edited messages instead", self.target.channel, code)
        self.fallback = Fallback(code, remembered)
        self.outcome = Outcome.FALLBACK

    def _after_append(self, answer: Answer, chunks: list[Chunk]) -> None:
        now = self.clock()
        if answer.ok:
            self._next_at = now + self.interval
        elif answer.error in ("ratelimited", "connection"):
            self._pending.put_back(chunks)  # keep them, in order, for the next turn
            self._next_at = now + (answer.retry_after or self.interval)
            if answer.error == "ratelimited" and self.budget is not None:
                self.budget.pause(answer.retry_after or self.interval)
        elif answer.error in STREAM_GONE:
            self._pending.put_back(chunks)
            self._reopen()
        elif answer.error in CHANNEL_REFUSALS:
            self._fall_back(answer.error or "unknown")
        else:  # a batch Slack will never take: drop it rather than send it forever
            log.warning("slack refused an append to %s: %s", self.ts, answer.error)
            self._next_at = now + self.interval

    def _replay(self, besides: list[Chunk]) -> list[Chunk]:
        """Cards still running and not in `besides`, to carry into a new message (their
        updates land there)."""
        sent = task_ids(besides)
        return [chunk for t in self.open_tasks() if (chunk := t.to_chunk()).id not in sent]

    def _reopen(self) -> None:
        answer = self._open(self._replay(self._pending.chunks) + self._pending.take())
        if not answer.ok:
            self._fall_back(answer.error or "unknown")

    def _roll_over(self) -> None:
        """Close the aging stream (cards still open stay as they are) and open the next."""
        channel, ts = self.target.channel, self.ts or ""
        self._free_slot()
        self.slack.once("chat.stopStream", lambda c: c.chat_stopStream(channel=channel, ts=ts))
        self._reopen()

    def _reopen_and_stop(self, chunks: list[Chunk], blocks: list[BlockDict] | None) -> Answer:
        opened = self._open(self._replay(chunks) + chunks)
        if not opened.ok:
            return opened
        return self._stop(None, blocks)
