"""`compare` within the operator's limits: only the models REPOBOX_MODELS_ALLOWED names may be
candidates, and what every candidate spent counts against the spending caps."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from redis import Redis

from bot.commands.executor import Asker, Executor, Queued, Reply
from bot.commands.grammar import parse
from bot.core.budget_rules import parse_budgets
from bot.core.config import Settings
from bot.core.errors import Conflict, UserError
from bot.sessions.events import EventKind
from bot.sessions.session import Session
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.agent_support import agent_settings, events, fake  # noqa: F401 - fixtures
from tests.compare.test_compare import ALICE, start
from tests.compare_support import script_candidates
from tests.conftest import MakeRepo, run_jobs
from tests.fakes.anthropic import FakeAnthropic


def say(ctx: JobContext, session: Session, text: str) -> Reply:
    return ctx.service.run(
        lambda svc: Executor(svc).execute(parse(text), session, Asker(ALICE, uuid.uuid4().hex))
    )


def test_compare_names_only_allowed_models(
    settings: Settings,
    redis: Redis,
    fake: FakeAnthropic,  # noqa: F811
    make_repo: MakeRepo,
    tmp_path: Path,
) -> None:
    limited = agent_settings(settings, fake, models_allowed=frozenset({"sonnet", "haiku"}))
    ctx = runtime.install(limited, redis)
    session = start(ctx, make_repo, tmp_path)
    with pytest.raises(UserError) as refused:
        say(ctx, session, "compare opus,haiku document add")
    assert "`opus` is not among the models this Repobox allows" in str(refused.value)
    assert "`haiku`, `sonnet`" in (refused.value.hint or "")
    assert fake.requests() == []


def test_every_candidates_spend_counts_against_the_caps(
    settings: Settings,
    redis: Redis,
    fake: FakeAnthropic,  # noqa: F811
    make_repo: MakeRepo,
    tmp_path: Path,
) -> None:
    capped = agent_settings(settings, fake, budgets=parse_budgets("person:10ktokens/day"))
    ctx = runtime.install(capped, redis)
    session = start(ctx, make_repo, tmp_path)
    script_candidates(fake)
    assert isinstance(say(ctx, session, "compare opus,haiku document add"), Queued)
    run_jobs(ctx)
    said = [e.text for e in events(ctx, session, EventKind.WARNING) if e.data.get("budget")]
    # opus alone spent 11,160 tokens and haiku 2,020: the sum is what counts
    assert said and said[-1].startswith("Budget reached: 13,180 tokens of 10,000 tokens")
    with pytest.raises(Conflict) as refused:
        say(ctx, session, "and one more")
    assert "The budget of 10,000 tokens a day for each person is spent" in str(refused.value)
