"""Spending caps (REPOBOX_BUDGETS): the warnings in the session's thread, the refusal at the
door, the reset when the period turns, and the spend on /metrics.

Real parts: the built-in agent talks HTTP to the fake Anthropic API, which reports each
reply's token usage; an in-process RQ worker runs the prompts; Valkey holds the spend.
Time is never waited for: the reset is the spend standing in yesterday's period (the
stored hash is named by its period), or the door asked about tomorrow.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis

from bot.commands.executor import Asker, Executor, Queued, Reply
from bot.commands.grammar import parse
from bot.core import keys
from bot.core.budget_rules import parse_budgets
from bot.core.config import Settings
from bot.core.errors import ConfigError, Conflict
from bot.core.redisio import async_client
from bot.sessions import budgets
from bot.sessions.events import EventKind
from bot.sessions.session import Session
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.agent_support import ALICE, agent_settings, events, fake, start_session  # noqa: F401
from tests.conftest import MakeRepo, run_jobs
from tests.fakes.anthropic import FakeAnthropic, TokenUsage
from tests.fakes.anthropic import Reply as ModelReply
from tests.live_server import LiveServer
from tests.sessions.test_metrics import scrape

CAPS = "person:1ktokens/day,deployment:100usd/month"


@pytest.fixture
def bctx(settings: Settings, redis: Redis, fake: FakeAnthropic) -> JobContext:  # noqa: F811
    return runtime.install(agent_settings(settings, fake, budgets=parse_budgets(CAPS)), redis)


def say(ctx: JobContext, session: Session, text: str) -> Reply:
    return ctx.service.run(
        lambda svc: Executor(svc).execute(parse(text), session, Asker(ALICE, uuid.uuid4().hex))
    )


def warnings(ctx: JobContext, session: Session) -> list[str]:
    return [e.text for e in events(ctx, session, EventKind.WARNING) if e.data.get("budget")]


def test_warning_at_80_then_refusal_at_100_then_reset(
    bctx: JobContext,
    fake: FakeAnthropic,  # noqa: F811
    make_repo: MakeRepo,
) -> None:
    fake.script(
        ModelReply.text("Looked.", usage=TokenUsage(700, 100)),  # 800 of 1000 tokens
        ModelReply.text("Tidied.", usage=TokenUsage(150, 50)),  # 1000: the cap
        ModelReply.text("After midnight.", usage=TokenUsage(10, 10)),
    )
    session = start_session(bctx, make_repo(), "look around")
    [warning] = warnings(bctx, session)
    assert warning.startswith("Budget at 80%: 800 tokens of 1,000 tokens a day for each person")
    assert "(person U1)" in warning and "resets at " in warning and " 00:00 UTC" in warning

    assert isinstance(say(bctx, session, "tidy up"), Queued)
    run_jobs(bctx)
    assert warnings(bctx, session)[-1].startswith("Budget reached: 1,000 tokens of 1,000 tokens")

    with pytest.raises(Conflict) as refused:
        say(bctx, session, "one more thing")
    text = str(refused.value)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")
    assert "The budget of 1,000 tokens a day for each person is spent" in text
    assert f"resets at {tomorrow} 00:00 UTC" in text
    assert "The cap was set by the operator, in REPOBOX_BUDGETS." in text
    assert len(fake.requests()) == 2  # nothing was queued, so nothing ran

    # The door asked about tomorrow lets the prompt through.
    rules = bctx.settings.budgets
    later = datetime.now(UTC) + timedelta(days=1)
    assert asyncio.run(_refusal(bctx.redis, rules, session, later)) is None
    # Midnight: today's spend becomes yesterday's, and the next prompt is accepted and runs.
    today = budgets.period_id("day", datetime.now(UTC))
    yesterday = budgets.period_id("day", datetime.now(UTC) - timedelta(days=1))
    bctx.redis.rename(keys.spend(today), keys.spend(yesterday))
    assert isinstance(say(bctx, session, "one more thing"), Queued)
    run_jobs(bctx)
    assert len(fake.requests()) == 3


async def _refusal(
    redis: Redis, rules: tuple[budgets.BudgetRule, ...], session: Session, at: datetime
) -> str | None:
    aredis = async_client(redis, shared=None)
    try:
        return await budgets.refusal(aredis, rules, session, ALICE, at)
    finally:
        await aredis.aclose()


def test_spend_by_person_and_project_on_metrics(
    bctx: JobContext,
    fake: FakeAnthropic,  # noqa: F811
    make_repo: MakeRepo,
) -> None:
    fake.script(ModelReply.text("Looked.", usage=TokenUsage(300, 100)))
    session = start_session(bctx, make_repo(), "look around")
    server = LiveServer(bctx.settings, bctx.redis).start()
    try:
        samples = scrape(server)
    finally:
        server.stop()
    person = (("name", "U1"), ("scope", "person"))
    project = (("name", session.project), ("scope", "project"))
    assert samples[("repobox_spend_tokens_total", person)] == 400
    assert samples[("repobox_spend_tokens_total", project)] == 400
    assert samples[("repobox_spend_usd_total", person)] > 0


def test_budgets_syntax_and_its_mistakes() -> None:
    rules = parse_budgets("person:50usd/day, project:acme/api:$500/month,deployment:2mtokens/month")
    assert [r.text for r in rules] == [
        "50 USD a day for each person",
        "500 USD a month for project acme/api",
        "2,000,000 tokens a month for this deployment",
    ]
    for bad, why in (
        ("team:5usd/day", "the scope must be one of"),
        ("person:5usd/week", "the period must be /day or /month"),
        ("person:5eur/day", "the amount must be like"),
        ("deployment:x:5usd/day", "a deployment cap takes no name"),
    ):
        with pytest.raises(ConfigError, match=why):
            Settings.from_env({"REPOBOX_BUDGETS": bad})
