"""Following a session live from the terminal: `watch`, `--watch`, and `new` waiting for its
set-up. Blocking stream reads, no polling; every read rides out a Redis outage
(`redis_trouble`), so a database restart shows as one "reconnecting" line, not an error.
"""

from __future__ import annotations

import argparse
import time
from functools import partial
from typing import TextIO

from bot.commands.blocking import BlockingService
from bot.core.errors import UserError
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.session import Session, SessionState
from handlers.cli.output import print_event
from handlers.cli.redis_trouble import events, patiently

SETTLED = {SessionState.READY, SessionState.PUSHED, SessionState.FAILED, SessionState.ARCHIVED}
WAIT_READY_SECONDS = 1800.0


def watch(service: BlockingService, args: argparse.Namespace, out: TextIO) -> int:
    """The session's history, then its events live until it is settled and idle."""
    session = patiently(service, partial(service.sessions.get, args.id))
    stream = ProgressStream(service.redis, session.id)
    for event in events(service, session.id):
        print_event(event, out)
        if patiently(service, partial(_caught_up_and_idle, service, stream, event.id or "0")):
            return 0
    return 0


def follow_prompt(service: BlockingService, session_id: str, prompt_id: str, out: TextIO) -> int:
    """Print the session's events until this prompt ends; exit 1 if it failed.

    A run handed back at a restart is not its end: it runs again, and this keeps following.
    """
    for event in events(service, session_id):
        if event.prompt_id != prompt_id:
            continue
        print_event(event, out)
        if event.ends_prompt:
            return 1 if event.kind in (EventKind.ERROR, EventKind.CANCELLED) else 0
    return 0


def wait_settled(service: BlockingService, session_id: str) -> Session:
    """The session once its set-up has ended (ready or failed)."""
    stream = ProgressStream(service.redis, session_id)
    deadline = time.monotonic() + WAIT_READY_SECONDS
    for event in stream.follow("0", block_ms=1000, stop_after=WAIT_READY_SECONDS):
        if event.kind is EventKind.STATE and event.text != SessionState.INITIALIZING.value:
            break
        if time.monotonic() > deadline:
            raise UserError(
                f"The session is still being set up; check `./dev session status {session_id}` "
                "later."
            )
    return service.sessions.get(session_id)


def _caught_up_and_idle(service: BlockingService, stream: ProgressStream, cursor: str) -> bool:
    return not stream.read(cursor, count=1) and _idle(service, stream.session_id)


def _idle(service: BlockingService, session_id: str) -> bool:
    session = service.sessions.get(session_id)
    busy = service.prompts.running(session_id) or service.prompts.has_waiting(session_id)
    return session.state in SETTLED and not busy
