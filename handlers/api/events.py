"""`GET /api/v1/sessions/{id}/events`: a session's progress events as Server-Sent Events.

Each event is its stored JSON (`ProgressEvent.to_dict`: id, kind, text, prompt, data, at)
with the stream id as the SSE `id:`, so a client that lost its connection sends
`Last-Event-ID` and resumes exactly after the last event it saw, with nothing lost or
repeated. Reads block on the web app's client for blocking reads (`WebContext.readers`), as
the live page's do; nothing polls. With `?until=idle` the stream ends (`event: end`) once no
prompt is running or waiting, which is what a CI job waits for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web
from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import RedisError

from bot.sessions.async_events import AsyncProgressStream
from bot.sessions.async_prompts import AsyncPromptQueue
from bot.sessions.async_session import AsyncSessionStore
from bot.sessions.session import SessionState
from handlers.api import models
from handlers.api.operations import Call
from handlers.api.problems import ApiProblem
from handlers.api.sessions import own_session
from handlers.live.events import HEADERS, STREAM_ID, message

log = logging.getLogger(__name__)

HEARTBEAT = 10.0
BATCH = 200
STOPPING = web.AppKey("repobox.api.stopping", asyncio.Event)
BUSY = (SessionState.INITIALIZING, SessionState.RUNNING)
ENDED = (SessionState.FAILED, SessionState.ARCHIVED)


async def idle(client: AsyncRedis, session_id: str) -> bool:
    """Nothing more will happen by itself: no prompt running or waiting past the session's
    set-up, or a session that failed or was archived."""
    prompts = AsyncPromptQueue(client)
    state = (await AsyncSessionStore(client).get(session_id)).state
    if state in ENDED:
        return True
    if state in BUSY:
        return False
    return await prompts.running(session_id) is None and not await prompts.waiting(session_id)


def _cursor(call: Call) -> str:
    cursor = call.request.headers.get("Last-Event-ID") or call.request.query.get("after") or "0"
    if not STREAM_ID.match(cursor):
        raise ApiProblem(400, "bad-event-id", "Bad Last-Event-ID", "Last-Event-ID is not an id.")
    return cursor


async def events(call: Call) -> web.StreamResponse:
    found = await own_session(call)
    asked: models.EventsQuery = call.query
    cursor = _cursor(call)
    readers = call.api.web.readers
    stopping = call.request.app[STOPPING]
    response = web.StreamResponse(headers=HEADERS)
    await response.prepare(call.request)
    stream = AsyncProgressStream(readers, found.id)
    stop = asyncio.ensure_future(stopping.wait())
    try:
        await response.write(b"retry: 1000\n\n")
        while True:
            read = asyncio.ensure_future(
                stream.read(cursor, count=BATCH, block_ms=int(HEARTBEAT * 1000))
            )
            await asyncio.wait({read, stop}, return_when=asyncio.FIRST_COMPLETED)
            if not read.done():
                read.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await read
                break
            batch = read.result()
            done = asked.until == "idle" and len(batch) < BATCH and await idle(readers, found.id)
            if done:  # what was appended while it settled, then the end
                batch += await stream.read(batch[-1].id or cursor if batch else cursor, count=BATCH)
            chunks = [message(e.to_dict(), event="progress", event_id=e.id) for e in batch]
            cursor = (batch[-1].id or cursor) if batch else cursor
            if done:
                chunks.append(message(models.StreamEnd(last=cursor).model_dump(), event="end"))
            await response.write(b"".join(chunks) or b": keep-alive\n\n")
            if done:
                break
    except (ConnectionError, RedisError) as error:
        log.debug("API event stream of session %s ended: %r", found.id, error)
    finally:
        stop.cancel()
    return response


async def stop_streams(app: web.Application) -> None:
    app[STOPPING].set()
