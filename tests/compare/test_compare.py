"""`compare` and `pick` through the one executor, on a real repository with checks.

The built-in agent runs against the fake Anthropic API, which scripts each model its own
way (tests/compare_support.py); an in-process RQ worker runs the comparison, git is real
and the checks run for real. What is asserted is what people see: the comparison's reply
and its table, the work branch after `pick`, the merge request's description.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from redis import Redis

from bot.commands.executor import Asker, Executor, Queued
from bot.commands.grammar import parse
from bot.compare.outcome import Comparison
from bot.core.config import Settings
from bot.core.errors import UserError
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.results import RunResult
from bot.sessions.session import Person, Session, Thread
from jobs.steps.context import JobContext
from jobs.steps.ship import merge_request_description
from jobs.worker import runtime
from tests.agent_support import actx, agent_settings, fake  # noqa: F401 - fixtures
from tests.checks_repo import CALC
from tests.compare_support import HAIKU_CALC, OPUS_CALC, OPUS_NOTES, compare_tree, script_candidates
from tests.conftest import MakeRepo, git, run_jobs
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.live_server import LiveServer
from tests.sessions.test_metrics import scrape

ALICE = Person("U1", "Alice", "alice@example.com")
ENDS = (EventKind.RESULT, EventKind.ERROR, EventKind.SHIPPED, EventKind.CANCELLED)


def start(ctx: JobContext, make_repo: MakeRepo, tmp_path: Path) -> Session:
    origin = make_repo(files=compare_tree())
    thread, request = Thread("cli", uuid.uuid4().hex), uuid.uuid4().hex
    started = ctx.service.run(
        lambda svc: svc.start(
            repo=str(origin),
            base=None,
            prompt=None,
            thread=thread,
            person=ALICE,
            request_id=request,
        )
    )
    run_jobs(ctx)
    return ctx.service.sessions.get(started.session.id)


def say(ctx: JobContext, session: Session, text: str) -> Queued:
    reply = ctx.service.run(
        lambda svc: Executor(svc).execute(parse(text), session, Asker(ALICE, uuid.uuid4().hex))
    )
    assert isinstance(reply, Queued)
    return reply


def last_end(ctx: JobContext, session: Session, prompt_id: str) -> tuple[str, dict[str, object]]:
    ends = [
        e
        for e in ProgressStream(ctx.redis, session.id).read(count=10_000)
        if e.kind in ENDS and e.prompt_id == prompt_id and "candidate" not in e.data
    ]
    return ends[-1].text, ends[-1].data


def head_file(session: Session, path: str) -> str:
    return git("show", f"HEAD:{path}", cwd=Path(session.workdir or ""))


def test_compare_three_models_then_pick_two_and_ship(
    actx: JobContext,  # noqa: F811
    fake: FakeAnthropic,  # noqa: F811
    make_repo: MakeRepo,
    tmp_path: Path,
) -> None:
    session = start(actx, make_repo, tmp_path)
    base = git("rev-parse", "HEAD", cwd=Path(session.workdir or ""))
    script_candidates(fake)

    queued = say(actx, session, "compare sonnet,opus,haiku tidy up calc")
    run_jobs(actx)
    text, data = last_end(actx, session, queued.submitted.prompt.id)

    assert text.startswith("Compared 3 candidates (sonnet, opus, haiku) in ")
    assert "1. sonnet: ❌ checks fail" in text
    assert "2. opus: ✅ checks pass" in text
    assert "3. haiku: ✅ checks pass · cheapest" in text
    assert "Reply `pick <n>` to adopt one" in text
    comparison = Comparison.of(RunResult.from_dict(data))
    assert comparison is not None
    assert [len(c.result.files) for c in comparison.candidates if c.result] == [1, 2, 1]
    # The session's own work is untouched until someone picks.
    assert git("rev-parse", "HEAD", cwd=Path(session.workdir or "")) == base
    assert len(actx.workdirs.forks_of(session.id)) == 3

    picked = say(actx, session, "pick 2")
    run_jobs(actx)
    text, _ = last_end(actx, session, picked.submitted.prompt.id)
    assert text.startswith("Picked candidate 2 (opus): 2 files changed")
    assert head_file(session, "calc.py") == OPUS_CALC
    assert head_file(session, "NOTES.md") == OPUS_NOTES
    assert actx.workdirs.forks_of(session.id) == []
    server = LiveServer(actx.settings, actx.redis).start()
    try:
        samples = scrape(server)
    finally:
        server.stop()
    assert samples[("repobox_compare_picks_total", (("candidate", "opus"),))] == 1
    for label in ("sonnet", "opus", "haiku"):
        ran = (("candidate", label), ("outcome", "done"))
        assert samples[("repobox_compare_candidates_total", ran)] == 1

    description = merge_request_description(actx, actx.service.sessions.get(session.id))
    assert "## Chosen by comparison" in description
    assert "Alice picked **2 (opus)**" in description
    assert "| 2 ⭐ | opus |" in description
    shipped = say(actx, session, "ship it")
    run_jobs(actx)
    text, _ = last_end(actx, session, shipped.submitted.prompt.id)
    branch = actx.service.sessions.get(session.id).work_branch
    origin = actx.service.sessions.get(session.id).repo
    assert git("show", f"{branch}:calc.py", cwd=Path(origin)) == OPUS_CALC
    assert git("show", f"{branch}:NOTES.md", cwd=Path(origin)) == OPUS_NOTES
    assert HAIKU_CALC not in git("log", "-p", branch, cwd=Path(origin))


def test_limits_and_bad_picks_are_answered_before_anything_runs(
    actx: JobContext,  # noqa: F811
    make_repo: MakeRepo,
    tmp_path: Path,
) -> None:
    session = start(actx, make_repo, tmp_path)
    with pytest.raises(UserError, match="compares at most 3 at once"):
        say(actx, session, "compare sonnet,opus,haiku,claude-code do it")
    with pytest.raises(UserError, match="`gpt-9` is not a model or agent I can compare"):
        say(actx, session, "compare sonnet,gpt-9 do it")
    with pytest.raises(UserError, match="at least two candidates"):
        say(actx, session, "compare opus do it")
    with pytest.raises(UserError, match="no comparison to pick from"):
        say(actx, session, "pick 1")
    assert actx.service.prompts.history(session.id) == []
    assert head_file(session, "calc.py") == CALC


def test_a_comparison_waits_behind_a_running_prompt_and_starts_from_its_checkpoint(
    settings: Settings,
    redis: Redis,
    fake: FakeAnthropic,  # noqa: F811
    make_repo: MakeRepo,
    tmp_path: Path,
) -> None:
    # The session's own model is none of the candidates', so each follows its own script.
    qctx = runtime.install(agent_settings(settings, fake, model="claude-opus-4-7"), redis)
    session = start(qctx, make_repo, tmp_path)
    fake.script_for(
        "claude-opus-4-7",
        Reply.tool_use("write_file", {"path": "FIRST.md", "content": "first\n"}),
        Reply.text("Wrote FIRST.md."),
    )
    first = qctx.service.run(
        lambda svc: Executor(svc).execute(
            parse("write FIRST.md"), session, Asker(ALICE, uuid.uuid4().hex)
        )
    )
    assert isinstance(first, Queued)
    script_candidates(fake)
    compared = say(qctx, session, "compare sonnet,haiku tidy up calc")
    assert compared.submitted.position == 2  # one ahead: it waits its turn as one prompt

    run_jobs(qctx)
    stream = ProgressStream(qctx.redis, session.id).read(count=10_000)
    first_end = next(
        i
        for i, e in enumerate(stream)
        if e.prompt_id == first.submitted.prompt.id and e.ends_prompt
    )
    compare_start = next(
        i
        for i, e in enumerate(stream)
        if e.prompt_id == compared.submitted.prompt.id and e.kind is EventKind.STARTED
    )
    assert first_end < compare_start
    waiting = [e.text for e in stream if e.prompt_id == compared.submitted.prompt.id]
    assert "waiting: 1 ahead" in waiting
    say(qctx, session, "pick 2")
    run_jobs(qctx)
    assert head_file(session, "FIRST.md") == "first\n"  # the candidate began from prompt 1
    assert head_file(session, "calc.py") == HAIKU_CALC


def test_undo_after_a_pick_takes_the_picked_change_back(
    actx: JobContext,  # noqa: F811
    fake: FakeAnthropic,  # noqa: F811
    make_repo: MakeRepo,
    tmp_path: Path,
) -> None:
    session = start(actx, make_repo, tmp_path)
    script_candidates(fake)
    say(actx, session, "compare sonnet,opus,haiku tidy up calc")
    run_jobs(actx)
    say(actx, session, "pick 3")
    run_jobs(actx)
    assert head_file(session, "calc.py") == HAIKU_CALC
    undone = say(actx, session, "undo")
    run_jobs(actx)
    text, _ = last_end(actx, session, undone.submitted.prompt.id)
    assert text.startswith("Took back `") and "1 file changed (+0 −4)." in text
    assert head_file(session, "calc.py") == CALC
    with pytest.raises(UserError, match="already picked"):
        say(actx, session, "pick 2")
