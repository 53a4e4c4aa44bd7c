"""The Slack sink with native streaming: a prompt's run as one streamed reply with task cards.

Same view, same pass as the edit renderer (`Delivery`), but a run's reply is a Slack stream
(`bot.surfaces.slack.stream.writer.StreamWriter`): the agent's words as markdown, each
step as a task card that turns complete or error, and at the end the summary and buttons
rendered under it.
The writer's state travels between relay passes as a snapshot in the prompt's message, so
any worker can go on with it under the relay's lock. Where Slack refuses streaming the
writer says FALLBACK and the prompt is rendered by the edit path, silently (the refusal is
remembered per channel); so it is when the workspace's Tier 2 minute of stream starts and
stops is spent (`StreamSlots`): the reply is edited instead of waiting. If the final
`stopStream` cannot land, the summary is posted by the edit path too. Queued prompts,
ships and comparisons keep the edited message.
"""

from __future__ import annotations

import logging
import time

from slack_sdk.web import WebClient

from bot.core.config import Settings
from bot.sessions.events import EventKind, ProgressEvent
from bot.sessions.prompts import Action, PromptState
from bot.sessions.session import Session
from bot.surfaces.slack import blocks as render
from bot.surfaces.slack import kit
from bot.surfaces.slack.calls import SlackCalls
from bot.surfaces.slack.clients import web_client
from bot.surfaces.slack.delivery import REACTIONS, Delivery
from bot.surfaces.slack.messages import Messages, MessageView, PromptMessage
from bot.surfaces.slack.pacing import UPDATE
from bot.surfaces.slack.sink import SlackSink
from bot.surfaces.slack.stream.budget import AppendBudget
from bot.surfaces.slack.stream.refusals import RefusalMemory
from bot.surfaces.slack.stream.slots import StreamSlots
from bot.surfaces.slack.stream.status import REFRESH_AFTER, ThreadStatus
from bot.surfaces.slack.stream.values import Outcome, StreamTarget, TaskStatus, TaskUpdate
from bot.surfaces.slack.stream.writer import Options, StreamWriter

log = logging.getLogger(__name__)

ENDED_WELL = (EventKind.RESULT, EventKind.SHIPPED)
LIVE = (Outcome.NEW.value, Outcome.STREAMING.value)


CHECK_ENDINGS = {  # a check step's `status` (bot.checks.results.CheckStatus) → its card
    "passed": TaskStatus.COMPLETE,
    "skipped": TaskStatus.COMPLETE,
    "failed": TaskStatus.ERROR,
    "timed_out": TaskStatus.ERROR,
    "error": TaskStatus.ERROR,
    "cancelled": TaskStatus.ERROR,
}


def step_status(event: ProgressEvent) -> TaskStatus:
    """How a step's card stands: a step that failed (a command's non-zero exit, a tool
    refused, a red check) is an `error` card, never a `complete` one."""
    if event.data.get("error") or " ✗ " in event.text:
        return TaskStatus.ERROR
    return CHECK_ENDINGS.get(str(event.data.get("status", "")), TaskStatus.IN_PROGRESS)


def step_card(event: ProgressEvent) -> TaskUpdate:
    """Any step as a card: its first line is the title, so new kinds (checks) need nothing."""
    title = event.text.strip().splitlines()[0] if event.text.strip() else "step"
    details = str(event.data.get("tool") or event.data.get("kind") or "") or None
    return TaskUpdate(f"step-{event.id or event.at}", title, step_status(event), details)


def check_verdict(event: ProgressEvent) -> bool:
    """A check's result, which ends the "⏳ check running" card it follows."""
    return bool(event.data.get("check")) and event.data.get("status") in CHECK_ENDINGS


def summary_blocks(session: Session, message: PromptMessage, log_url: str) -> list[kit.BlockDict]:
    """What the stream ends with: the edit path's final reply, then Ship it, Undo and View
    log (Undo takes this prompt's checkpoint back, as the `undo` command does)."""
    _, blocks = render.progress(message.view, log_url, time.time())
    buttons = [kit.button("View log", render.ACTION_LOG, session.id, url=log_url)]
    if message.view.state is PromptState.DONE and not message.view.shipped:
        ship = kit.button("Ship it", render.ACTION_SHIP, session.id, style="primary")
        undo = kit.button("Undo", render.ACTION_UNDO, session.id)
        buttons[:0] = [ship, undo]
    return [*blocks[:48], *kit.within_limits([kit.actions(buttons)])]


class StreamDelivery(Delivery):
    """A `Delivery` pass whose running prompts stream; everything else is the edit path."""

    def __init__(
        self, settings: Settings, calls: SlackCalls, turn: Messages, client: WebClient
    ) -> None:
        super().__init__(settings, calls, turn)
        self.client = client
        self.refusals = RefusalMemory(turn.shared)
        self.writers: dict[str, StreamWriter] = {}

    # -- which prompts stream -------------------------------------------------------------
    @staticmethod
    def live(message: PromptMessage) -> bool:
        return message.stream is not None and message.stream.get("outcome") in LIVE

    def writer(self, message: PromptMessage) -> StreamWriter:
        writer = self.writers.get(message.prompt_id)
        if writer is None:
            assert message.stream is not None
            writer = StreamWriter.resumed(self.client, message.stream, **self._options())
            self.writers[message.prompt_id] = writer
        return writer

    def _options(self) -> Options:
        return {
            "refusals": self.refusals,
            "budget": AppendBudget(self.turn.shared, self.thread.team),
            "slots": StreamSlots(self.turn.shared, self.thread.team),
            "interval": self.settings.slack_stream_interval,
        }

    def _keep(self, message: PromptMessage, writer: StreamWriter) -> None:
        message.stream = writer.snapshot()

    # -- events ---------------------------------------------------------------------------
    def _prompt_event(self, event: ProgressEvent) -> None:
        if event.kind is EventKind.STATE:
            super()._prompt_event(event)
            return
        message = self._message(event.prompt_id or "")
        if event.kind is EventKind.STARTED and message.stream is None:
            self._open(message)
        if not self.live(message):
            super()._prompt_event(event)
            return
        if not message.view.take(event):
            return
        writer = self.writer(message)
        if event.kind in REACTIONS:
            self._stop(message, writer, event)
            return
        self._feed(message, writer, event)
        writer.flush()
        self._keep(message, writer)

    def _open(self, message: PromptMessage) -> None:
        thread = self.thread
        # Only a run streams. A comparison stays one edited message: a stream only appends
        # (text, then task cards in one timeline), so several candidates' steps would
        # interleave in it, while their side-by-side lines need rewriting in place.
        if message.view.action is not Action.RUN or message.view.final or thread.ts is None:
            return
        target = StreamTarget(thread.channel, thread.ts, thread.team, message.view.author or None)
        writer = StreamWriter(self.client, target, **self._options())
        self.writers[message.prompt_id] = writer
        writer.start()
        self._keep(message, writer)
        if writer.outcome is not Outcome.STREAMING:
            return
        if message.ts is not None:  # the "waiting" reply of a queued prompt
            text, blocks = kit.notice("▶️ Started: the reply streams below.")
            channel = thread.channel
            if self.pacing.spare(UPDATE):
                self.calls.update(
                    must_land=False, channel=channel, ts=message.ts, text=text, blocks=blocks
                )
        self._status(message, "is working…")

    def _feed(self, message: PromptMessage, writer: StreamWriter, event: ProgressEvent) -> None:
        kind = event.kind
        # no 👀 on a streamed run: the stream and the thread's status already show it going
        if kind is EventKind.STEP:
            card = step_card(event)
            # the card a check's "running" step opened ends as the check did
            ending = card.status if check_verdict(event) else TaskStatus.COMPLETE
            for task in writer.open_tasks():
                writer.task(task.with_status(ending))
            writer.task(card)
        elif kind is EventKind.OUTPUT:
            open_tasks = writer.open_tasks()
            if open_tasks:
                task = open_tasks[-1]
                line = event.text.strip()[:200]
                # a tool's result that says it failed (Claude Code's is_error) ends its card
                status = TaskStatus.ERROR if event.data.get("error") else task.status
                writer.task(TaskUpdate(task.id, task.title, status, task.details, line))
        elif kind is EventKind.TEXT and event.text.strip():
            writer.text(event.text.rstrip() + "\n\n")
        elif kind in (EventKind.INFO, EventKind.WARNING) and event.text.strip():
            mark = "⚠️ " if kind is EventKind.WARNING else ""
            writer.text(f"_{mark}{kit.escape(event.text.strip().splitlines()[0])}_\n\n")

    def _stop(self, message: PromptMessage, writer: StreamWriter, event: ProgressEvent) -> None:
        good = event.kind in ENDED_WELL
        ending = TaskStatus.COMPLETE if good else TaskStatus.ERROR
        why = None if good else ("cancelled" if event.kind is EventKind.CANCELLED else "failed")
        blocks = summary_blocks(self.session, message, self.log_url)
        outcome = writer.stop(blocks=blocks, open_tasks=ending, open_details=why)
        self._keep(message, writer)
        self._status(message, "")
        if outcome is not Outcome.STOPPED:  # the summary lands by the edit path instead
            log.warning("stream of %s not closed (%s): summary posted", message.prompt_id, outcome)
            message.ts = None
            message.dirty = True
            self.send(message, force=True)
        self.react(message, REACTIONS[event.kind])
        self.announce(message)

    def _status(self, message: PromptMessage, status: str) -> None:
        thread = self.thread
        if thread.ts is None:
            return
        line = ThreadStatus(self.client, thread.channel, thread.ts)
        line.set(status) if status else line.clear()
        message.status_at = time.time() if status else 0.0

    # -- pacing ---------------------------------------------------------------------------
    def tick(self, now: float) -> None:
        super().tick(now)
        for message in self.messages.values():
            if (
                self.live(message)
                and message.status_at
                and now - message.status_at >= (REFRESH_AFTER)
            ):
                self._status(message, "is working…")

    def flush(self, *, force: bool) -> None:
        super().flush(force=force)
        for message in self.messages.values():
            if self.live(message):
                writer = self.writer(message)
                writer.flush(force=force)
                self._keep(message, writer)

    def send(self, view: MessageView, *, force: bool = False) -> None:
        if isinstance(view, PromptMessage) and self.live(view):
            view.dirty = False  # its reply is the stream, not an edited message
            return
        super().send(view, force=force)


class StreamingSink(SlackSink):
    """`SlackSink` whose passes stream running prompts (`StreamDelivery`)."""

    def __init__(self, settings: Settings, calls: SlackCalls, client: WebClient) -> None:
        super().__init__(settings, calls)
        self.client = client

    def _delivery(self, turn: Messages) -> Delivery:
        return StreamDelivery(self.settings, self.calls, turn, self.client)


def build_sink(settings: Settings) -> SlackSink | None:
    """The relay's Slack factory: streaming unless `REPOBOX_SLACK_STREAMING=0`."""
    if not settings.slack_bot_token:
        log.warning("a Slack session has events to relay, but SLACK_BOT_TOKEN is not set")
        return None
    client = web_client(settings)
    calls = SlackCalls(client)
    if not settings.slack_streaming:
        return SlackSink(settings, calls)
    return StreamingSink(settings, calls, client)
