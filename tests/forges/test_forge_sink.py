"""The progress sink on its own (with the placements the relay would keep for it): paced
edits of one comment, the final state always lands."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from redis import Redis

from bot.core.config import Settings
from bot.progress.sink import Prompts
from bot.progress.surface import Surface
from bot.sessions.events import EventKind, ProgressEvent, ProgressStream
from bot.sessions.prompts import Action
from bot.sessions.session import Person, Session, Thread
from bot.sessions.session_store import SessionStore
from bot.sessions.thread_context import ThreadContext
from bot.surfaces.forge.sink import ForgeSink
from tests.conftest import queued
from tests.fakes.gitlab import DEFAULT_TOKEN, FakeGitLab

ALICE = Person("alice", "Alice")


@pytest.fixture
def fake() -> Iterator[FakeGitLab]:
    with FakeGitLab() as server:
        yield server


def test_edits_are_paced_and_the_end_is_written_at_once(
    settings: Settings, redis: Redis, fake: FakeGitLab
) -> None:
    fake.add_user("alice")
    project = fake.add_project("acme/widgets")
    issue = fake.add_issue(project, "x", author="alice")
    session = Session("s1", "gitlab:acme/widgets", "gitlab", "acme/widgets", "main", "w",
                      Thread("gitlab", f"{project.id}:issue:1"), ALICE,
                      context=ThreadContext("issue", issue.iid))  # fmt: skip
    SessionStore(redis).create(session)
    prompt = queued(redis, session.id, Action.RUN, "do it", ALICE, "r1").prompt
    configured = settings.with_changes(
        gitlab_url=fake.url, gitlab_token=DEFAULT_TOKEN, forge_edit_interval=0.4
    )
    sink = Surface(redis, session.id, "gitlab", ForgeSink(configured, "gitlab"))
    notes = f"/api/v4/projects/{project.id}/issues/1/notes"
    prompts = Prompts({prompt.id: prompt})  # what the relay reads for the batch

    def event(kind: EventKind, text: str = "", **data: object) -> ProgressEvent:
        return ProgressEvent(kind, text, prompt.id, dict(data))

    sink.deliver(session, [event(EventKind.STARTED, "working")], prompts)
    sink.deliver(session, [event(EventKind.STEP, "read a.py")], prompts)
    sink.deliver(session, [event(EventKind.STEP, "edited a.py")], prompts)
    assert [c.method for c in fake.calls_to(notes)] == ["POST"]  # the steps wait their turn
    time.sleep(0.45)
    sink.tick(session, time.time())  # the relay ticks while the stream is quiet
    fake.wait_for(lambda f: f.calls_to(f"{notes}/1"), timeout=3)
    [note] = fake.notes(project, "issue", 1)
    assert "- [x] read a.py" in note.body and "- [ ] edited a.py" in note.body

    sink.deliver(session, [event(EventKind.STEP, "ran tests")], prompts)
    sink.deliver(
        session, [event(EventKind.RESULT, "All good.", diffstat="1 file changed")], prompts
    )
    card, mention = fake.notes(project, "issue", 1)
    assert card.body.startswith("✅ **Done**") and "- [x] ran tests" in card.body
    assert mention.body.startswith("@alice done in")
    sink.close(session)
    time.sleep(0.5)  # no timer left to fire after the end
    assert [c.method for c in fake.calls_to(notes)] == ["POST", "POST"]
    assert len(fake.calls_to(f"{notes}/1")) == 2 and len(card.history) == 2


def test_two_relays_delivering_the_same_events_write_once(
    settings: Settings, redis: Redis, fake: FakeGitLab
) -> None:
    fake.add_user("alice")
    project = fake.add_project("acme/widgets")
    fake.add_issue(project, "x", author="alice")
    session = Session("s2", "gitlab:acme/widgets", "gitlab", "acme/widgets", "main", "w",
                      Thread("gitlab", f"{project.id}:issue:1"), ALICE,
                      context=ThreadContext("issue", 1))  # fmt: skip
    SessionStore(redis).create(session)
    prompt = queued(redis, session.id, Action.RUN, "do it", ALICE, "r1").prompt
    stream = ProgressStream(redis, session.id)
    for kind, text in (
        (EventKind.STARTED, "go"),
        (EventKind.STEP, "read"),
        (EventKind.RESULT, "ok"),
    ):
        stream.emit(kind, text, prompt.id)
    events = stream.read()
    configured = settings.with_changes(gitlab_url=fake.url, gitlab_token=DEFAULT_TOKEN)
    for _relay in range(2):
        sink = Surface(redis, session.id, "gitlab", ForgeSink(configured, "gitlab"))
        sink.deliver(session, events, Prompts({prompt.id: prompt}))
        sink.close(session)
    card, mention = fake.notes(project, "issue", 1)
    assert card.body.startswith("✅ **Done**") and card.body.count("- [x] read") == 1
    assert mention.body.startswith("@alice done")
    assert [c.method for c in fake.calls_to("/issues/1/notes")] == ["POST", "POST"]
