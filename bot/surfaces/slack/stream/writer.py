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

Where Slack refuses streaming (`refusals.CHANNEL_REFUSALS`), or the stream cannot start
at all, the writer says `Outcome.FALLBACK` and does nothing else: the caller renders the
reply as today's edited message. Channel refusals are remembered (`RefusalMemory`), so
the next reply there does not ask again. Nothing here raises on a Slack error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from slack_sdk.web import WebClient

from bot.surfaces.slack.stream.budget import AppendBudget
from bot.surfaces.slack.stream.calls import MUST_LAND_FOR, Answer, Caller
from bot.surfaces.slack.stream.refusals import CHANNEL_REFUSALS, STREAM_GONE, RefusalMemory
from bot.surfaces.slack.stream.values import (
    Chunk,
    StreamTarget,
    TaskStatus,
    TaskUpdate,
    markdown_chunks,
)

log = logging.getLogger(__name__)

MAX_AGE = 240.0  # Slack ends a stream about 5 minutes after it starts; roll over before


class Outcome(StrEnum):
    NEW = "new"
    STREAMING = "streaming"
    FALLBACK = "fallback"  # render this reply as an edited message instead
    STOPPED = "stopped"
    FAILED = "failed"  # the final state could not be delivered (logged)


@dataclass(frozen=True)
class Fallback:
    """Why the reply is not streamed: Slack's error code, and whether it was remembered."""

    code: str
    remembered: bool


class StreamWriter:
    """One prompt's streamed reply. Not thread-safe: one relay loop drives it."""

    def __init__(
        self,
        client: WebClient,
        target: StreamTarget,
        *,
        refusals: RefusalMemory | None = None,
        budget: AppendBudget | None = None,
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
        self.interval = interval
        self.display_mode = display_mode
        self.max_age = max_age
        self.clock = clock
        self.slack = Caller(client, must_land_for=must_land_for, sleep=sleep, clock=clock)
        self.outcome = Outcome.NEW
        self.fallback: Fallback | None = None
        self.messages: list[str] = []
        """The ts of every message this reply streamed into (more than one after rollover)."""
        self._pending: list[Chunk] = []
        self._tasks: dict[str, TaskUpdate] = {}
        self._started_at = 0.0
        self._next_at = 0.0

    @classmethod
    def resumed(cls, client: WebClient, data: dict[str, Any], **options: Any) -> StreamWriter:
        """The writer a `snapshot` was taken of, for the next pass (any process) to go on."""
        writer = cls(client, StreamTarget.from_dict(data["target"]), **options)
        writer.outcome = Outcome(data["outcome"])
        fallback = data.get("fallback")
        writer.fallback = None if fallback is None else Fallback(**fallback)
        writer.messages = [str(ts) for ts in data.get("messages", [])]
        writer._tasks = {t["id"]: TaskUpdate.from_dict(t) for t in data.get("tasks", [])}
        writer._pending = list(data.get("pending", []))
        writer._started_at = float(data.get("started_at", 0.0))
        writer._next_at = float(data.get("next_at", 0.0))
        return writer

    def snapshot(self) -> dict[str, Any]:
        """The reply's state as JSON (what was sent where, what is still to send)."""
        return {
            "target": self.target.to_dict(),
            "outcome": self.outcome.value,
            "fallback": None
            if self.fallback is None
            else {"code": self.fallback.code, "remembered": self.fallback.remembered},
            "messages": list(self.messages),
            "tasks": [t.to_dict() for t in self._tasks.values()],
            "pending": list(self._pending),
            "started_at": self._started_at,
            "next_at": self._next_at,
        }

    @property
    def ts(self) -> str | None:
        return self.messages[-1] if self.messages else None

    @property
    def calls(self) -> int:
        return sum(self.slack.counts.values())

    # -- what the reply says ------------------------------------------------------------
    def text(self, markdown: str) -> None:
        """Append the agent's words (markdown) to the reply."""
        if not markdown:
            return
        if self._pending and self._pending[-1]["type"] == "markdown_text":
            self._pending[-1] = {
                "type": "markdown_text",
                "text": self._pending[-1]["text"] + markdown,
            }
        else:
            self._pending.append({"type": "markdown_text", "text": markdown})

    def task(self, update: TaskUpdate) -> None:
        """Show or change one task card; a card's pending update is replaced, not repeated."""
        self._tasks[update.id] = update
        chunk = update.to_chunk()
        for i, pending in enumerate(self._pending):
            if pending["type"] == "task_update" and pending["id"] == chunk["id"]:
                self._pending[i] = chunk
                return
        self._pending.append(chunk)

    def open_tasks(self) -> list[TaskUpdate]:
        return [t for t in self._tasks.values() if t.status.open]

    # -- delivery -------------------------------------------------------------------------
    def start(self, markdown: str | None = None) -> Outcome:
        """Open the stream (a reply in the target thread), or decide on the fallback."""
        if self.outcome is not Outcome.NEW:
            return self.outcome
        if markdown:
            self.text(markdown)
        code = (
            self.refusals.refused(self.target.team_id, self.target.channel)
            if self.refusals
            else None
        )
        if code is not None:
            self.fallback = Fallback(code, remembered=True)
            self.outcome = Outcome.FALLBACK
            return self.outcome
        answer = self._open(self._take())
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
        chunks = self._take()
        if force:
            answer = self.slack.landing("chat.appendStream", **self._where(), chunks=chunks)
        else:
            answer = self.slack.once("chat.appendStream", **self._where(), chunks=chunks)
        self._after_append(answer, chunks)
        return self.outcome

    def stop(
        self,
        *,
        markdown: str | None = None,
        blocks: Sequence[dict[str, Any]] | None = None,
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
        chunks = self._take()
        extra: dict[str, Any] = {"blocks": list(blocks)} if blocks else {}
        answer = self.slack.landing("chat.stopStream", **self._where(), chunks=chunks, **extra)
        if answer.error in STREAM_GONE:
            answer = self._reopen_and_stop(chunks, extra)
        elif answer.error in ("invalid_blocks", "invalid_chunks") and extra:
            log.warning("slack refused the summary of %s: %s", self.ts, answer.data.get("errors"))
            answer = self.slack.landing("chat.stopStream", **self._where(), chunks=chunks)
        self.outcome = Outcome.STOPPED if answer.ok else Outcome.FAILED
        if not answer.ok:
            log.warning("could not close the stream %s: %s", self.ts, answer.error)
        return self.outcome

    # -- internals ------------------------------------------------------------------------
    def _where(self) -> dict[str, str]:
        return {"channel": self.target.channel, "ts": self.ts or ""}

    def _take(self) -> list[Chunk]:
        chunks: list[Chunk] = []
        for chunk in self._pending:
            chunks.extend(
                markdown_chunks(chunk["text"]) if chunk["type"] == "markdown_text" else [chunk]
            )
        self._pending = []
        return chunks

    def _open(self, chunks: list[Chunk]) -> Answer:
        args: dict[str, Any] = dict(self.target.start_args(), task_display_mode=self.display_mode)
        if chunks:
            args["chunks"] = chunks
        answer = self.slack.landing("chat.startStream", **args)
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
            self._pending = chunks + self._pending  # keep them, in order, for the next turn
            self._next_at = now + (answer.retry_after or self.interval)
            if answer.error == "ratelimited" and self.budget is not None:
                self.budget.pause(answer.retry_after or self.interval)
        elif answer.error in STREAM_GONE:
            self._pending = chunks + self._pending
            self._reopen()
        elif answer.error in CHANNEL_REFUSALS:
            self._fall_back(answer.error or "unknown")
        else:  # a batch Slack will never take: drop it rather than send it forever
            log.warning("slack refused an append to %s: %s", self.ts, answer.error)
            self._next_at = now + self.interval

    def _replay(self) -> list[Chunk]:
        """Cards still running, to carry into a new message (their updates land there)."""
        return [t.to_chunk() for t in self.open_tasks()]

    def _reopen(self) -> None:
        pending_ids = {c.get("id") for c in self._pending if c["type"] == "task_update"}
        replay = [c for c in self._replay() if c["id"] not in pending_ids]
        answer = self._open(replay + self._take())
        if not answer.ok:
            self._fall_back(answer.error or "unknown")

    def _roll_over(self) -> None:
        """Close the aging stream (cards still open stay as they are) and open the next."""
        self.slack.once("chat.stopStream", **self._where())
        self._reopen()

    def _reopen_and_stop(self, chunks: list[Chunk], extra: dict[str, Any]) -> Answer:
        ids = {c.get("id") for c in chunks if c["type"] == "task_update"}
        opened = self._open([c for c in self._replay() if c["id"] not in ids] + chunks)
        if not opened.ok:
            return opened
        return self.slack.landing("chat.stopStream", **self._where(), **extra)
