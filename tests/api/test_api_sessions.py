"""The API end to end over HTTP, with a real worker: start a session with a token, send a
prompt, follow its events to the end (resuming after a dropped connection), ship, undo."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from redis import Redis

from bot.core import keys
from bot.core.config import Settings
from bot.core.redisio import as_str
from tests.api.support import Api, Sse, operator, read_events, token
from tests.conftest import MakeRepo, WorkerProcess, git, wait_until
from tests.live_server import LiveServer


@pytest.fixture
def server(settings: Settings, redis: Redis) -> Iterator[LiveServer]:
    live = LiveServer(settings, redis).start()
    yield live
    live.stop()


def follow(api: Api, session_id: str, after: str | None = None) -> list[Sse]:
    """Every event until the session is idle (`?until=idle`), from `after` on."""
    headers = {"Last-Event-ID": after} if after else {}
    with api.get(
        f"/sessions/{session_id}/events", params={"until": "idle"}, headers=headers, stream=True
    ) as answer:
        assert answer.status_code == 200, answer.text
        assert answer.headers["Content-Type"].startswith("text/event-stream")
        return list(read_events(answer))


@pytest.mark.slow
def test_start_prompt_follow_resume_ship_and_undo(
    settings: Settings,
    redis: Redis,
    server: LiveServer,
    make_repo: MakeRepo,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    start_worker()
    origin = make_repo(name="widgets")
    secret, _ = token(redis, operator(settings, redis))
    api = Api(server.url, secret)

    started = api.post("/sessions", json={"repo": str(origin), "prompt": "write A.txt: one"})
    assert started.status_code == 201, started.text
    body = started.json()
    session_id = body["session"]["id"]
    assert body["prompt"]["seq"] == 1 and body["prompt"]["text"] == "write A.txt: one"
    assert body["session"]["places"]["events"].endswith(f"/api/v1/sessions/{session_id}/events")

    first = follow(api, session_id)
    assert first[-1].event == "end"
    kinds = [e.data["kind"] for e in first if e.event == "progress"]
    assert "result" in kinds, kinds

    queued = api.post(
        f"/sessions/{session_id}/prompts",
        json={"prompt": "write B.txt: two\nprint 30"},
        headers={"Idempotency-Key": "ci-42-b"},
    )
    assert queued.status_code == 202, queued.text
    assert queued.json()["prompt"]["seq"] == 2
    again = api.post(
        f"/sessions/{session_id}/prompts",
        json={"prompt": "write B.txt: two\nprint 30"},
        headers={"Idempotency-Key": "ci-42-b"},
    )
    assert again.json()["prompt"]["id"] == queued.json()["prompt"]["id"]  # not queued twice

    # A dropped connection: read a few events after the first prompt's, then hang up.
    resume_from = first[-2].id
    assert resume_from
    seen: list[Sse] = []
    with api.get(
        f"/sessions/{session_id}/events",
        headers={"Last-Event-ID": resume_from},
        stream=True,
    ) as answer:
        for event in read_events(answer):
            seen.append(event)
            if len(seen) == 3:
                break
    rest = follow(api, session_id, after=seen[-1].id)
    ids = [e.id for e in seen + rest if e.event == "progress"]
    stored = [as_str(i) for i, _ in redis.xrange(keys.events(session_id), min=f"({resume_from}")]
    assert ids == stored  # nothing lost, nothing twice
    assert rest[-1].event == "end"

    one = api.get(f"/sessions/{session_id}").json()
    assert [p["state"] for p in one["prompts"]] == ["done", "done"]
    assert one["prompts"][1]["result"] is not None
    diff = api.get(f"/sessions/{session_id}/diff").json()
    assert "B.txt" in diff["patch"] and "A.txt" in diff["patch"]

    shipped = api.post(f"/sessions/{session_id}/ship")
    assert shipped.status_code == 202 and shipped.json()["prompt"]["action"] == "ship"
    follow(api, session_id)
    branch = one["work_branch"]
    assert "B.txt" in git("ls-tree", "--name-only", branch, cwd=origin)

    undone = api.post(f"/sessions/{session_id}/undo")
    assert undone.status_code == 202, undone.text
    follow(api, session_id)
    after = wait_until(
        lambda: (
            (d := api.get(f"/sessions/{session_id}/diff").json())
            and "B.txt" not in d["patch"]
            and d
        ),
        what="the undo to take B.txt back",
    )
    assert "A.txt" in after["patch"]

    listed = api.get("/sessions").json()
    assert [row["id"] for row in listed["items"]] == [session_id]
    assert listed["items"][0]["surface"] == "api"
