"""The web process's async reads see what the session service wrote."""

from __future__ import annotations

import asyncio

from redis import Redis

from bot.lookups import Lookups
from bot.redisio import async_client
from bot.sessions import Person, Thread
from jobs.runtime import JobContext
from tests.conftest import MakeRepo


def test_async_lookups_read_what_the_service_wrote(ctx: JobContext, make_repo: MakeRepo) -> None:
    service = ctx.service
    started = service.start(
        repo=str(make_repo()),
        base=None,
        prompt="add a README",
        thread=Thread("cli", "lookups"),
        person=Person("u", "U"),
        request_id="lookups",
    )
    session = started.session
    service.submit(session, "then a licence", Person("u", "U"), request_id="lookups-2")
    linked_repo = str(make_repo("linked"))
    service.link_channel("cli", "general", linked_repo)

    async def read(redis: Redis) -> tuple[object, ...]:
        aredis = async_client(redis)
        try:
            lookups = Lookups(aredis)
            return (
                await lookups.session(session.id),
                await lookups.by_thread("cli", "lookups"),
                await lookups.by_thread("cli", "nowhere"),
                await lookups.history(session.id),
                await lookups.linked_repo("cli", "general"),
                await lookups.open_sessions(),
            )
        finally:
            await aredis.aclose()

    found, by_thread, nowhere, history, linked, open_sessions = asyncio.run(read(ctx.redis))
    assert found == service.sessions.get(session.id) == by_thread
    assert nowhere is None
    assert history == service.prompts.history(session.id)
    assert [p.text for p in history] == ["add a README", "then a licence"]
    assert linked == linked_repo == service.linked_repo("cli", "general")
    assert open_sessions == service.sessions.recent()
