"""Server-Sent Events from a session's progress stream, for the live page.

Each open page holds one blocking XREAD on the web app's client for blocking reads (a pool
of its own, so open pages never take the connections requests share), so a line reaches
every page as soon as it is appended and nothing polls. Every progress message carries its
stream id as the SSE `id:`, so the browser's automatic reconnect sends `Last-Event-ID` and
resumes exactly after the last line it showed. Idle streams get a comment line every
`heartbeat` seconds, which keeps proxies from closing them and lets a departed reader be
noticed. On shutdown every stream ends at once, so the server can stop without waiting for
readers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Mapping
from typing import Literal

import redis.asyncio as aioredis
from aiohttp import web
from redis.exceptions import RedisError

from bot.compare import record as records
from bot.core.errors import NotFound
from bot.progress.lines import line_of
from bot.sessions.async_events import AsyncProgressStream
from bot.sessions.async_prompts import AsyncPromptQueue
from bot.sessions.async_session import AsyncSessionStore
from bot.sessions.events import ProgressEvent
from bot.sessions.prompts import Prompt

log = logging.getLogger(__name__)

HEARTBEAT = 10.0  # seconds between comment lines on an idle stream
BATCH = 200  # events per XREAD; a shorter answer means the reader has caught up
RETRY_MS = 1000  # how soon the browser reconnects after the stream ends
STREAM_ID = re.compile(r"^[0-9]{1,20}(-[0-9]{1,20})?$")
HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",  # nginx: pass each line through at once
}


def message(
    data: Mapping[str, object], *, event: str | None = None, event_id: str | None = None
) -> bytes:
    """One SSE message; JSON escapes newlines, so `data` is always a single line."""
    head = (f"event: {event}\n" if event else "") + (f"id: {event_id}\n" if event_id else "")
    return f"{head}data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class LiveStreams:
    """The open event streams of this web process and the Redis client they read with."""

    def __init__(self, client: aioredis.Redis, heartbeat: float = HEARTBEAT) -> None:
        """`client`: the web app's client for blocking reads (`WebContext.readers`); every
        read goes through the stores on it."""
        self.client = client
        self.sessions = AsyncSessionStore(client)
        self.prompts = AsyncPromptQueue(client)
        self.heartbeat = heartbeat
        self.open = 0
        self._stopping = asyncio.Event()

    async def shutdown(self, _app: web.Application) -> None:
        self._stopping.set()

    async def exists(self, session_id: str) -> bool:
        return await self.sessions.exists(session_id)

    async def serve(
        self, request: web.Request, session_id: str, cursor: str, until: float
    ) -> web.StreamResponse:
        """Stream events after `cursor` until the reader leaves, the link expires or we stop."""
        response = web.StreamResponse(headers=HEADERS)
        await response.prepare(request)
        self.open += 1
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await response.write(f"retry: {RETRY_MS}\n\n".encode())
            await self._pump(response, session_id, cursor, until, stopping)
        except (ConnectionError, RedisError) as error:
            # The reader left (a failed write) or Redis went away: end here; the browser
            # reconnects and resumes from its last event.
            log.debug("event stream of session %s ended: %r", session_id, error)
        finally:
            stopping.cancel()
            self.open -= 1
        return response

    async def _pump(
        self,
        response: web.StreamResponse,
        session_id: str,
        cursor: str,
        until: float,
        stopping: asyncio.Task[Literal[True]],
    ) -> None:
        stream = AsyncProgressStream(self.client, session_id)
        prompts_sent: set[str] = set()
        diff_due = cursor in ("0", "0-0")  # a fresh page has no diff yet
        comparison_due = diff_due  # nor the candidates of a comparison waiting for a pick
        clear = False  # a fresh page has no candidates to clear
        while (wait := min(self.heartbeat, until - time.time())) > 0:
            read = asyncio.ensure_future(
                stream.read(cursor, count=BATCH, block_ms=max(1, int(wait * 1000)))
            )
            await asyncio.wait({read, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not read.done():
                read.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await read
                return
            events = read.result()
            chunks: list[bytes] = []
            for event in events:
                chunks.append(await self._prompt_message(event, prompts_sent))
                cursor = event.id or cursor
                diff_due = diff_due or event.ends_prompt
                if event.ends_prompt and _compares(event):
                    comparison_due = clear = True
                shown = {**event.to_dict(), "line": line_of(event).to_dict()}
                chunks.append(message(shown, event_id=event.id))
            if diff_due and len(events) < BATCH:
                chunks.append(await self._diff_message(session_id))
                diff_due = False
            if comparison_due and len(events) < BATCH:
                chunks.append(await self._comparison_message(session_id, clear))
                comparison_due = False
            await response.write(b"".join(chunks) or b": keep-alive\n\n")

    async def _prompt_message(self, event: ProgressEvent, sent: set[str]) -> bytes:
        """What the page needs to title a prompt's section, before that prompt's first event."""
        prompt_id = event.prompt_id
        if prompt_id is None or prompt_id in sent:
            return b""
        sent.add(prompt_id)
        try:
            prompt = await self.prompts.get(prompt_id)
        except NotFound:
            return b""
        return message(prompt_card(prompt), event="prompt")

    async def _comparison_message(self, session_id: str, clear: bool) -> bytes:
        """The latest comparison's candidates: each one's diff and the diffs between them
        (`clear`: an empty one once they were picked from or discarded, so the page clears
        them; a fresh page with no comparison gets nothing)."""
        record = await records.load_async(self.client, session_id)
        if record is None:
            return message({"prompt_id": None}, event="comparison") if clear else b""
        shown = {
            "prompt_id": record.prompt_id,
            "candidates": [
                {"number": f.number, "label": f.label, "patch": f.patch, "truncated": f.truncated}
                for f in record.forks
            ],
            "between": record.between,
        }
        return message(shown, event="comparison")

    async def _diff_message(self, session_id: str) -> bytes:
        raw = await self.sessions.diff(session_id)
        return message(json.loads(raw), event="diff") if raw else b""


def _compares(event: ProgressEvent) -> bool:
    """A comparison's end (its candidates are on disk now) or a pick's (they are gone)."""
    return "comparison" in event.data or "picked" in event.data


def prompt_card(prompt: Prompt) -> dict[str, object]:
    """A prompt as the page shows it (no origin: comment bodies stay with their surface)."""
    return {
        "id": prompt.id,
        "seq": prompt.seq,
        "action": prompt.action.value,
        "text": prompt.text,
        "author": prompt.author.name,
        "state": prompt.state.value,
    }
