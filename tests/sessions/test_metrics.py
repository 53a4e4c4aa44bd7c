"""`GET /metrics`: request counts and acknowledgement latency seen by the web process, and the
fleet's figures (queues, runs, tokens, cost, sessions) read from Redis at scrape time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis

from bot.core.config import Settings
from bot.security.links import session_link
from bot.sessions.session import Person, Thread
from jobs.steps.context import JobContext
from tests.conftest import MakeRepo, run_jobs
from tests.live_server import LiveServer

DAN = Person("U4", "Dan")
CLAUDE_RESULT = json.dumps(
    {
        "type": "result",
        "subtype": "success",
        "result": "Wrote the notes.",
        "usage": {"input_tokens": 1200, "output_tokens": 340, "cache_read_input_tokens": 50},
        "total_cost_usd": 0.0123,
    }
)


@pytest.fixture
def server(settings: Settings, redis: Redis) -> Iterator[LiveServer]:
    live = LiveServer(settings, redis).start()
    yield live
    live.stop()


def scrape(server: LiveServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, body, headers = server.get("/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def start(ctx: JobContext, origin: Path, prompt: str | None, key: str) -> str:
    thread = Thread("cli", key)
    started = ctx.service.run(
        lambda svc: svc.start(
            repo=str(origin), base=None, prompt=prompt, thread=thread, person=DAN, request_id=key
        )
    )
    return started.session.id


def test_requests_are_counted_by_surface_and_outcome_with_ack_latency(
    settings: Settings, server: LiveServer
) -> None:
    server.get("/sessions/abc")  # unsigned: 403
    server.get("/sessions/abc/events?expires=1&sig=x")  # 403
    server.get(session_link(settings, "abc").removeprefix(settings.public_url))  # 404
    server.get("/webhooks/github")  # no GitHub surface here: 404 or 405, a 4xx all the same
    server.get("/healthz")  # not a surface: not counted
    samples = scrape(server)
    assert samples[("repobox_requests_total", (("outcome", "4xx"), ("surface", "page")))] == 3
    assert samples[("repobox_requests_total", (("outcome", "4xx"), ("surface", "github")))] == 1
    assert samples[("repobox_ack_seconds_count", (("surface", "page"),))] == 3
    assert samples[("repobox_ack_seconds_bucket", (("le", "5.0"), ("surface", "page")))] == 3
    assert not [k for k in samples if k[0] == "repobox_requests_total" and "healthz" in str(k)]


def test_queue_depth_and_open_sessions_come_from_redis(
    ctx: JobContext, make_repo: MakeRepo, server: LiveServer
) -> None:
    origin = make_repo()
    start(ctx, origin, None, "one")
    start(ctx, origin, None, "two")
    samples = scrape(server)
    assert samples[("repobox_queue_depth", (("queue", "repobox"),))] == 2  # two init jobs
    assert samples[("repobox_sessions_active", (("state", "initializing"),))] == 2
    run_jobs(ctx)
    samples = scrape(server)
    assert samples[("repobox_queue_depth", (("queue", "repobox"),))] == 0
    assert samples[("repobox_sessions_active", (("state", "ready"),))] == 2
    assert samples[("repobox_runs_in_progress", ())] == 0


def test_run_duration_tokens_and_cost_recorded_by_the_worker(
    ctx: JobContext, make_repo: MakeRepo, server: LiveServer
) -> None:
    origin = make_repo()
    start(ctx, origin, f"write notes.txt: hi\n{CLAUDE_RESULT}", "a")
    start(ctx, origin, "fail 3", "b")
    run_jobs(ctx)
    samples = scrape(server)
    assert samples[("repobox_runs_total", (("outcome", "done"),))] == 1
    assert samples[("repobox_runs_total", (("outcome", "failed"),))] == 1
    assert samples[("repobox_run_duration_seconds_count", ())] == 2
    assert samples[("repobox_run_duration_seconds_bucket", (("le", "+Inf"),))] == 2
    assert samples[("repobox_run_duration_seconds_bucket", (("le", "60.0"),))] == 2
    assert 0 < samples[("repobox_run_duration_seconds_sum", ())] < 60
    assert samples[("repobox_tokens_total", (("kind", "input"),))] == 1200
    assert samples[("repobox_tokens_total", (("kind", "output"),))] == 340
    assert samples[("repobox_tokens_total", (("kind", "cache_read"),))] == 50
    assert samples[("repobox_cost_usd_total", ())] == pytest.approx(0.0123)
