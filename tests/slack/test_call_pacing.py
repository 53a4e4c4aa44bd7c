"""A workspace's budget of Tier 3 calls (`chat.update`, `reactions.add`) and per-channel
posts, shared through real Valkey, against the fake Slack with its limits lowered: a burst
of prompts meets no 429, every final reply lands, and a final reply held back by the
budget goes to a follow-up job while the worker runs the next prompt."""

from __future__ import annotations

import time

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import FinishedJobRegistry
from rq.serializers import JSONSerializer

from bot.core.config import Settings
from bot.core.dispatch import FAST_QUEUE, RUN_QUEUE, host_queue
from bot.progress.shared import RedisShared
from bot.sessions.session_store import SessionStore
from bot.surfaces.slack.pacing import Pacing
from bot.surfaces.slack.thread import SURFACE, SlackThread
from jobs.steps.context import JobContext
from tests.conftest import MakeRepo, run_jobs
from tests.fakes.slack import FakeSlack
from tests.slack.support import CHANNEL, TEAM, Workspace

MINUTE = 2.0  # Slack's minute, shortened: the test runs in seconds
SESSIONS = 3


@pytest.fixture
def slack_settings(slack_settings: Settings) -> Settings:
    # Our budget: 2 a "minute", one under the fake's 3, as 45 is under Slack's 50.
    return slack_settings.with_changes(
        slack_tier3_per_minute=2, slack_minute=MINUTE, slack_final_wait=0.3
    )


def finished_jobs(redis: Redis) -> list[Job]:
    """Every job the burst ran, from RQ's registries, in the order they started."""
    jobs = []
    for name in (RUN_QUEUE, FAST_QUEUE, host_queue(Settings().host)):
        registry = FinishedJobRegistry(queue=Queue(name, connection=redis))
        jobs += Job.fetch_many(registry.get_job_ids(), connection=redis, serializer=JSONSerializer)
    return sorted((j for j in jobs if j is not None and j.started_at), key=started)


def started(job: Job) -> float:
    assert job.started_at is not None
    return job.started_at.timestamp()


def ended(job: Job) -> float:
    assert job.ended_at is not None
    return job.ended_at.timestamp()


def last_call(slack: FakeSlack, thread: set[str]) -> float:
    """When the fake last accepted a call about one of these messages (its clock)."""
    return max(
        call.at
        for call in slack.calls
        if call.status == 200
        and thread & {str(call.params().get(k)) for k in ("ts", "thread_ts", "timestamp")}
    )


def test_a_burst_meets_no_429_every_reply_lands_and_no_worker_waits(
    workspace: Workspace,
    slack: FakeSlack,
    slack_ctx: JobContext,
    redis: Redis,
    make_repo: MakeRepo,
) -> None:
    for method in ("chat.update", "reactions.add"):
        slack.tiers.limit(method, 3, per=MINUTE)
    repo = make_repo()
    asked = [workspace.mention(f"{repo} write notes{n}.txt: hello")[0] for n in range(SESSIONS)]
    run_jobs(slack_ctx)

    assert not slack.throttled()
    wall = time.time() - time.monotonic()  # the fake's clock (monotonic) to the jobs'
    jobs = finished_jobs(redis)
    held_back = 0
    for message in asked:
        thread = SlackThread(TEAM, CHANNEL, message.ts).key
        session = SessionStore(redis).find_by_thread(SURFACE, thread)
        assert session is not None
        card, reply, *rest = slack.messages(CHANNEL, message.ts)
        assert reply.visible_text.startswith("✅ *Done* in"), reply.visible_text
        assert any(m.text.startswith("<@W222> ✅ Done:") for m in rest)
        landed = wall + last_call(slack, {message.ts, card.ts, reply.ts, *(m.ts for m in rest)})
        mine = [j for j in jobs if j.kwargs.get("session_id") == session.id]
        (drain,) = [j for j in mine if j.func_name.endswith("drain_session")]
        relays = [j for j in mine if j.func_name.endswith("relay_session") and j.enqueued_at]
        if any(started(drain) <= j.enqueued_at.timestamp() <= ended(drain) for j in relays):
            # a final state was deferred: the drain ended before the thread's last call
            # landed, and the worker took other work in between
            held_back += 1
            assert ended(drain) < landed
            assert any(ended(drain) <= started(j) < landed for j in jobs if j not in mine)
    assert held_back >= 1


def test_two_hosts_draw_from_one_budget_and_a_final_call_waits_only_its_bound(
    slack_settings: Settings, redis: Redis
) -> None:
    one, two = (Pacing(RedisShared(redis), TEAM, slack_settings) for _ in range(2))
    assert one.spare("chat.update")  # a cosmetic edit: 1 of this minute's 2
    assert not two.spare("chat.update")  # cosmetic ones stop short of the reserve...
    assert two.now("chat.update")  # ...which a call that must land still gets
    assert not one.now("chat.update") and not two.spare("chat.update")  # the 2 are spent
    assert one.spare("reactions.add")  # each method its own window
    began = time.monotonic()
    assert not two.wait("chat.update", within=0.2)  # bounded: defer, never sleep it out
    assert time.monotonic() - began < 2
    assert two.wait("chat.update", within=MINUTE + 5)  # the window slides: a place frees
    for _ in range(5):
        assert one.spare("chat.postMessage", "C1")
    assert not one.spare("chat.postMessage", "C1")  # one a second per channel, bursts of 5
    assert one.spare("chat.postMessage", "C2")
