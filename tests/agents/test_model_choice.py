"""The model per session: `new … --model <name>` and `use <name>`, within what the operator
allows (REPOBOX_MODELS_ALLOWED).

Real parts: the executor parses and answers, an in-process RQ worker runs the prompt, the
built-in agent talks HTTP to the fake Anthropic API, which records the model each request
names. What is asserted is what people see (the status reply, the refusal's words) and what
the model API was asked for.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from bot.commands.executor import Asker, Executor, Queued, Reply, StatusReply
from bot.commands.grammar import parse
from bot.core.config import Settings
from bot.core.errors import ConfigError, UserError
from bot.sessions.session import Session, Thread
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.agent_support import ALICE, actx, agent_settings, fake, start_session  # noqa: F401
from tests.conftest import MakeRepo, run_jobs
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.anthropic import Reply as ModelReply


def say(ctx: JobContext, session: Session, text: str) -> Reply:
    return ctx.service.run(
        lambda svc: Executor(svc).execute(parse(text), session, Asker(ALICE, uuid.uuid4().hex))
    )


def models_asked(server: FakeAnthropic) -> list[str]:
    return [str(r.get("model")) for r in server.requests()]


def test_use_opus_changes_the_model_of_the_next_run(
    actx: JobContext,  # noqa: F811
    fake: FakeAnthropic,  # noqa: F811
    make_repo: MakeRepo,
) -> None:
    fake.script(ModelReply.text("First on the default."), ModelReply.text("Then on opus."))
    session = start_session(actx, make_repo(), "look around")
    assert models_asked(fake) == [actx.settings.model]

    reply = say(actx, session, "use opus")
    assert isinstance(reply, StatusReply)
    assert reply.status.model == "opus"
    assert isinstance(say(actx, session, "now tidy up"), Queued)
    run_jobs(actx)
    assert models_asked(fake)[-1] == "claude-opus-5-5"


def test_new_with_model_runs_its_first_prompt_on_it(
    actx: JobContext,  # noqa: F811
    fake: FakeAnthropic,  # noqa: F811
    make_repo: MakeRepo,
) -> None:
    fake.script(ModelReply.text("Done cheaply."))
    command = parse(f"new {make_repo()} --model haiku fix the docstring")
    assert command.model == "haiku"
    actx.service.run(
        lambda svc: svc.start(
            repo=command.repo or "",
            base=command.base,
            prompt=command.prompt,
            thread=Thread("cli", uuid.uuid4().hex),
            person=ALICE,
            request_id=uuid.uuid4().hex,
            model=command.model,
        )
    )
    run_jobs(actx)
    assert models_asked(fake) == ["claude-haiku-5-5"]


def test_the_operator_restricts_the_choices(
    settings: Settings,
    redis: object,
    fake: FakeAnthropic,  # noqa: F811
    make_repo: MakeRepo,
) -> None:
    limited = agent_settings(settings, fake, models_allowed=frozenset({"sonnet", "haiku"}))
    ctx = runtime.install(limited, redis)  # type: ignore[arg-type]
    fake.script(ModelReply.text("ok"))
    session = start_session(ctx, make_repo(), "look around")
    with pytest.raises(UserError) as refused:
        say(ctx, session, "use opus")
    assert "`opus` is not among the models this Repobox allows" in str(refused.value)
    assert "`haiku`, `sonnet` (REPOBOX_MODELS_ALLOWED)" in str(refused.value.hint)
    # A full id of an allowed family is the same choice.
    reply = say(ctx, session, "use claude-haiku-5-5")
    assert isinstance(reply, StatusReply) and reply.status.model == "claude-haiku-5-5"


def test_an_unknown_name_is_refused_at_start_up_and_in_new(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="REPOBOX_MODELS_ALLOWED"):
        Settings.from_env(
            {"REPOBOX_MODELS_ALLOWED": "opus,gpt-5", "REPOBOX_DATA_DIR": str(tmp_path)}
        )
    with pytest.raises(UserError, match="`gpt-5` is not a model or agent I know"):
        parse("new acme/api --model gpt-5 fix it")
    assert parse("use tabs for indentation").kind.value == "prompt"
