"""Shared set-up for the built-in agent's tests: a fake Anthropic API and one-call sessions.

Everything real: the `anthropic` SDK talks HTTP to `FakeAnthropic`, sessions are set up
and run by an in-process RQ worker against a real Valkey and real git, and what the tests
check is what a user would see: the stream's events, the workdir, the checkpoint commit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from bot.core.config import Settings
from bot.sessions.events import EventKind, ProgressEvent, ProgressStream
from bot.sessions.session import Person, Session, Thread
from bot.sessions.thread_context import ThreadContext
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.conftest import git, run_jobs
from tests.fakes.anthropic import FakeAnthropic

API_KEY = "sk-ant-test-0123456789abcdef"
ALICE = Person("U1", "Alice", "alice@example.com")


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(api_key=API_KEY) as server:
        yield server


def agent_settings(settings: Settings, fake: FakeAnthropic, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "agent": "anthropic",
        "anthropic_base_url": fake.url,
        "anthropic_api_key": API_KEY,
        "sandbox": "auto",
    }
    values.update(changes)
    return settings.with_changes(**values)


@pytest.fixture
def actx(settings: Settings, redis: Redis, fake: FakeAnthropic) -> JobContext:
    """A job context whose agent is the built-in one, talking to the fake API."""
    return runtime.install(agent_settings(settings, fake), redis)


def start_session(
    ctx: JobContext,
    origin: Path,
    prompt: str,
    *,
    thread: str = "t1",
    context: ThreadContext | None = None,
    run: bool = True,
) -> Session:
    started = ctx.service.run(
        lambda svc: svc.start(
            repo=str(origin),
            base=None,
            prompt=prompt,
            thread=Thread("cli", thread),
            person=ALICE,
            request_id=f"new-{thread}",
            context=context,
        )
    )
    if run:
        run_jobs(ctx)
    return ctx.service.sessions.get(started.session.id)


def events(ctx: JobContext, session: Session, *kinds: EventKind) -> list[ProgressEvent]:
    found = ProgressStream(ctx.redis, session.id).read(count=10_000)
    return [e for e in found if not kinds or e.kind in kinds]


def texts(ctx: JobContext, session: Session, kind: EventKind) -> list[str]:
    return [e.text for e in events(ctx, session, kind)]


def workdir(session: Session) -> Path:
    return Path(session.workdir or "")


def committed(session: Session, path: str) -> str:
    return git("show", f"HEAD:{path}", cwd=workdir(session))


def results_text(fake: FakeAnthropic, request: int) -> list[tuple[bool, str]]:
    """(is_error, content) of each tool_result in the `request`-th request (0-based)."""
    body = fake.requests()[request]
    return [(bool(r.get("is_error")), str(r["content"])) for r in fake.tool_results(body)]


def system_text(request: dict[str, Any]) -> str:
    return "\n".join(block["text"] for block in request["system"])


def dump(value: Any) -> str:
    return json.dumps(value, indent=1)
