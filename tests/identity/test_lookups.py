"""The web process's async stores read what the workers' sync stores see."""

from __future__ import annotations

from bot.commands.service import SessionService
from bot.sessions.session import Person, Thread
from jobs.steps.context import JobContext
from tests.conftest import MakeRepo


def test_async_lookups_read_what_the_service_wrote(ctx: JobContext, make_repo: MakeRepo) -> None:
    service = ctx.service
    started = service.run(
        lambda svc: svc.start(
            repo=str(make_repo()),
            base=None,
            prompt="add a README",
            thread=Thread("cli", "lookups"),
            person=Person("u", "U"),
            request_id="lookups",
        )
    )
    session = started.session
    service.run(
        lambda svc: svc.submit(session, "then a licence", Person("u", "U"), request_id="lookups-2")
    )
    linked_repo = str(make_repo("linked"))
    service.run(lambda svc: svc.link_channel("cli", "general", linked_repo))

    async def read(svc: SessionService) -> tuple[object, ...]:
        return (
            await svc.sessions.get(session.id),
            await svc.sessions.find_by_thread("cli", "lookups"),
            await svc.sessions.find_by_thread("cli", "nowhere"),
            await svc.prompts.history(session.id),
            await svc.linked_repo("cli", "general"),
            await svc.sessions.recent(),
        )

    found, by_thread, nowhere, history, linked, open_sessions = service.run(read)
    assert found == service.sessions.get(session.id) == by_thread
    assert nowhere is None
    assert history == service.prompts.history(session.id)
    assert [p.text for p in history] == ["add a README", "then a licence"]
    assert linked == linked_repo == service.run(lambda svc: svc.linked_repo("cli", "general"))
    assert open_sessions == service.sessions.recent()
