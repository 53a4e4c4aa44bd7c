"""The live page and its event stream over real HTTP: signatures, replay, resume, endings."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from redis import Redis

from bot.core.config import Settings
from bot.security.links import session_link
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.session import Person, Session, Thread
from handlers.live.page import FORBIDDEN, STREAMS_KEY
from jobs.steps.context import JobContext
from tests.conftest import MakeRepo, run_jobs, wait_until
from tests.live_server import LiveServer, SseReader

CAROL = Person("U3", "Carol <admin>")


def quick_heartbeat(app: web.Application) -> None:
    app[STREAMS_KEY].heartbeat = 0.2


@pytest.fixture
def server(settings: Settings, redis: Redis) -> Iterator[LiveServer]:
    live = LiveServer(settings, redis, quick_heartbeat).start()
    yield live
    live.stop()


@pytest.fixture
def session(ctx: JobContext, make_repo: MakeRepo) -> Session:
    origin = make_repo(name="widgets")
    return ctx.service.run(
        lambda svc: svc.start(
            repo=str(origin),
            base=None,
            prompt=None,
            thread=Thread("cli", "page-tests"),
            person=CAROL,
            request_id="page-1",
        )
    ).session


def path_of(link: str, suffix: str = "") -> str:
    url = urlsplit(link)
    return f"{url.path}{suffix}?{url.query}"


def signed(settings: Settings, session_id: str, suffix: str = "", ttl: float = 600) -> str:
    return path_of(session_link(settings, session_id, ttl), suffix)


def emit_lines(redis: Redis, session_id: str, texts: list[str]) -> list[str]:
    stream = ProgressStream(redis, session_id)
    return [stream.emit(EventKind.OUTPUT, text, stream="stdout") for text in texts]


def test_page_shows_the_card_escaped_and_never_leaks_its_signature(
    settings: Settings, server: LiveServer, session: Session
) -> None:
    status, body, headers = server.get(signed(settings, session.id))
    assert status == 200
    assert "widgets" in body and session.work_branch in body
    assert "Carol &lt;admin&gt;" in body and "Carol <admin>" not in body
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    snapshot = json.loads(re.findall(r'id="snapshot"[^>]*>(.*?)</script>', body, re.S)[0])
    assert snapshot["session"]["state"] == "initializing"
    assert snapshot["events"].startswith(f"{session.id}/events?expires=")
    status, css, _ = server.get("/static/session.css")
    assert status == 200 and ".stderr" in css


@pytest.mark.parametrize("surface", ["page", "events"])
def test_without_a_valid_signature_both_answer_403_and_reveal_nothing(
    settings: Settings, server: LiveServer, session: Session, surface: str
) -> None:
    suffix = "/events" if surface == "events" else ""
    good = signed(settings, session.id, suffix)
    expired = signed(settings, session.id, suffix, ttl=-5)
    other = signed(settings, "0therses", suffix).replace("0therses", session.id)
    sig = good.rsplit("sig=", 1)[1]
    tampered = good.replace(sig, sig[::-1])
    bare = f"/sessions/{session.id}{suffix}"
    missing = signed(settings, "nosuch00", suffix).replace("nosuch00", "nosuch01")
    for path in (expired, other, tampered, bare, missing, f"{bare}?expires=99999999999&sig="):
        status, body, _ = server.get(path)
        assert (status, body) == (403, FORBIDDEN), path
    # A valid link to a session that is gone says so (only a valid link learns that much).
    assert server.get(signed(settings, "nosuch00"))[0] == 404
    assert server.get(signed(settings, "nosuch00", "/events"))[0] == 404


def test_stream_replays_then_follows_live_with_stream_ids(
    settings: Settings, redis: Redis, server: LiveServer, session: Session
) -> None:
    first = emit_lines(redis, session.id, ["one", "two"])
    reader = SseReader.open(server, signed(settings, session.id, "/events"))
    assert reader.status == 200
    assert reader.headers["Content-Type"].startswith("text/event-stream")
    replay = reader.progress(3)  # the "initializing" state event, then the two lines
    assert [m.json()["text"] for m in replay] == ["initializing", "one", "two"]
    assert [m.id for m in replay[1:]] == first
    later = emit_lines(redis, session.id, ["three"])
    (live,) = reader.progress(1)
    assert (live.id, live.json()["text"], live.json()["data"]) == (
        later[0],
        "three",
        {"stream": "stdout"},
    )
    reader.close()


def test_last_event_id_resumes_exactly_after_that_event(
    settings: Settings, redis: Redis, server: LiveServer, session: Session
) -> None:
    ids = emit_lines(redis, session.id, [f"line {n}" for n in range(10)])
    path = signed(settings, session.id, "/events")
    reader = SseReader.open(server, path, last_event_id=ids[4])
    assert [m.json()["text"] for m in reader.progress(5)] == [f"line {n}" for n in range(5, 10)]
    emit_lines(redis, session.id, ["line 10"])
    assert [m.json()["text"] for m in reader.progress(1)] == ["line 10"]
    reader.close()

    # A new EventSource cannot send the header, so the page passes `after`; the header wins.
    by_query = SseReader.open(server, f"{path}&after={ids[8]}")
    assert [m.json()["text"] for m in by_query.progress(2)] == ["line 9", "line 10"]
    by_query.close()
    both = SseReader.open(server, f"{path}&after={ids[0]}", last_event_id=ids[9])
    assert [m.json()["text"] for m in both.progress(1)] == ["line 10"]
    both.close()
    assert server.get(path, {"Last-Event-ID": "x; DROP"})[0] == 400


def test_idle_stream_sends_heartbeats_and_stops_when_the_reader_leaves(
    settings: Settings, server: LiveServer, session: Session
) -> None:
    reader = SseReader.open(server, signed(settings, session.id, "/events"))
    comments = (m for m in reader.messages() if m.comment is not None)
    assert next(comments).comment == "keep-alive"
    assert server.open_streams() == 1
    reader.close()
    wait_until(lambda: server.open_streams() == 0, timeout=5, what="the stream to end")


def test_stopping_the_server_ends_open_streams_at_once(
    settings: Settings, server: LiveServer, session: Session
) -> None:
    server.call(lambda: setattr(server.app and server.app[STREAMS_KEY], "heartbeat", 30))
    readers = [SseReader.open(server, signed(settings, session.id, "/events")) for _ in range(3)]
    for reader in readers:
        reader.progress(1)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 3
    for reader in readers:
        assert list(reader.messages()) == []  # the stream ended cleanly (EOF)
        reader.close()


def test_stream_ends_when_its_link_expires(
    settings: Settings, server: LiveServer, session: Session
) -> None:
    reader = SseReader.open(server, signed(settings, session.id, "/events", ttl=1.5))
    started = time.monotonic()
    assert [m.json()["text"] for m in reader.progress(1)] == ["initializing"]
    list(reader.messages())  # runs to the end of the stream
    assert time.monotonic() - started < 4
    assert server.get(signed(settings, session.id, "/events", ttl=-1))[0] == 403


def test_a_real_run_streams_prompt_titles_stderr_results_and_the_diff(
    settings: Settings, ctx: JobContext, server: LiveServer, session: Session
) -> None:
    ctx.service.run(
        lambda svc: svc.submit(
            session, "write notes.txt: hello\nstderr careful now", CAROL, request_id="p1"
        )
    )
    run_jobs(ctx)
    reader = SseReader.open(server, signed(settings, session.id, "/events"))
    seen: list[tuple[str, dict[str, object]]] = []
    for msg in reader.messages():
        seen.append((msg.event, msg.json() if msg.data else {}))
        if msg.event == "diff":
            break
    reader.close()
    events = [e for kind, e in seen if kind == "message"]
    prompts = [e for kind, e in seen if kind == "prompt"]
    assert [p["text"] for p in prompts] == ["write notes.txt: hello\nstderr careful now"]
    first_of_prompt = next(i for i, (_k, e) in enumerate(seen) if e.get("prompt"))
    assert seen[first_of_prompt - 1][0] == "prompt"  # its title comes just before its first event
    stderr = [e for e in events if e["kind"] == "output" and e["data"] == {"stream": "stderr"}]
    assert [e["text"] for e in stderr] == ["careful now"]
    assert any(e["kind"] == "result" for e in events)
    diff = seen[-1][1]
    assert "+hello" in str(diff["patch"]) and "notes.txt" in str(diff["stat"])
