"""The "is working…" line under a thread (`assistant.threads.setStatus`).

Slack shows it in assistant threads, and since 2026-03 also in channel threads for apps
with `chat:write`. It disappears by itself two minutes after it was set unless a message
arrives, and a reply from the app clears it, so a run sets it at the start (and again
while it stays quiet) and clears it (`status=""`) at the end. A status is decoration:
one try, never a wait for `Retry-After`; a failure is logged and the run goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_sdk.web import WebClient

from bot.surfaces.slack.calls import Caller
from bot.surfaces.slack.stream.values import clip

log = logging.getLogger(__name__)

MAX_LOADING_MESSAGES = 10
REFRESH_AFTER = 90.0  # seconds; Slack drops a status two minutes after it was set


class ThreadStatus:
    """Set and clear the status of one thread (`channel`, `thread_ts`)."""

    def __init__(self, client: WebClient | Caller, channel: str, thread_ts: str) -> None:
        self.slack = client if isinstance(client, Caller) else Caller(client)
        self.channel = channel
        self.thread_ts = thread_ts

    def set(self, status: str, loading_messages: Sequence[str] = ()) -> bool:
        """Show `status` (e.g. "is working on acme/api…"), rotating `loading_messages`."""
        loading = [clip(m, 256) for m in loading_messages][:MAX_LOADING_MESSAGES]
        return self._send(clip(status, 256), loading or None)

    def clear(self) -> bool:
        return self._send("", None)

    def _send(self, status: str, loading: list[str] | None) -> bool:
        channel, thread_ts = self.channel, self.thread_ts
        answer = self.slack.once(
            "assistant.threads.setStatus",
            lambda c: c.assistant_threads_setStatus(
                channel_id=channel, thread_ts=thread_ts, status=status, loading_messages=loading
            ),
        )
        if not answer.ok:
            log.info("status of %s not set: %s", self.thread_ts, answer.error)
        return answer.ok
