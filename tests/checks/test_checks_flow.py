"""Checks wired into the session: verdicts in the thread, the ship gate, `fix the checks`,
`ship it anyway`, autofix, `undo` before and after a push, an invalid `.repobox.yml`.

A real repository (tests/checks_repo.py: a required test check, an optional lint), the
scripted agent breaking a test and fixing it when handed the failure, an in-process RQ
worker, real git against a local bare remote; the commands go through the one executor.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from bot.commands.executor import Asker, Executor, Queued
from bot.commands.grammar import parse
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.session import Person, Session, SessionState, Thread
from jobs.steps.context import JobContext
from jobs.steps.ship import merge_request_description
from tests.checks_repo import files
from tests.conftest import MakeRepo, git, run_jobs

ALICE = Person("U1", "Alice", "alice@example.com")
BOB = Person("U2", "Bob", "bob@example.com")
BREAK = (
    "write calc.py: def add(a, b): return a - b\n"
    "write FIX.txt: write calc.py: def add(a, b): return a + b\n"
    "write .repobox.yml: checks: []"  # the agent tries to drop its own gate: ignored
)
ENDS = (EventKind.RESULT, EventKind.ERROR, EventKind.SHIPPED, EventKind.CANCELLED)


def repo(ctx: JobContext, make_repo: MakeRepo, tmp_path: Path, autofix: int = 0) -> Path:
    tree = files(ctx.settings, tmp_path / "probe")
    tree[".repobox.yml"] = tree[".repobox.yml"].replace("autofix: 1", f"autofix: {autofix}")
    return make_repo(files=tree)


def start(ctx: JobContext, origin: Path, prompt: str) -> Session:
    started = ctx.service.run(
        lambda svc: svc.start(
            repo=str(origin),
            base=None,
            prompt=prompt,
            thread=Thread("cli", uuid.uuid4().hex),
            person=ALICE,
            request_id=uuid.uuid4().hex,
        )
    )
    run_jobs(ctx)
    return ctx.service.sessions.get(started.session.id)


def say(ctx: JobContext, session: Session, text: str, person: Person = ALICE) -> str:
    """Type `text` in the session's thread; the text of the item's last event."""
    asker = Asker(person, uuid.uuid4().hex)
    reply = ctx.service.run(lambda svc: Executor(svc).execute(parse(text), session, asker))
    assert isinstance(reply, Queued)
    run_jobs(ctx)
    return ended(ctx, session, reply.submitted.prompt.id)


def ended(ctx: JobContext, session: Session, prompt_id: str | None = None) -> str:
    events = [
        e
        for e in ProgressStream(ctx.redis, session.id).read(count=5000)
        if e.kind in ENDS and (prompt_id is None or e.prompt_id == prompt_id)
    ]
    return events[-1].text


def steps(ctx: JobContext, session: Session) -> list[str]:
    return [
        e.text
        for e in ProgressStream(ctx.redis, session.id).read(count=5000)
        if e.data.get("check")
    ]


def test_verdicts_gate_fix_the_checks_ship_and_undo_after_the_push(
    ctx: JobContext, make_repo: MakeRepo, tmp_path: Path
) -> None:
    origin = repo(ctx, make_repo, tmp_path)
    session = start(ctx, origin, BREAK)
    reply = ended(ctx, session)
    assert "❌ tests failed (exit 1" in reply  # the base's config ran, not the agent's
    assert "lint" in reply.split("❌ tests failed", 1)[1]
    shown = steps(ctx, session)
    assert "⏳ setting up" in shown and "⏳ check `tests` running" in shown
    run = ctx.service.prompts.history(session.id)[0]
    report = run.result.check_report if run.result else None
    assert report is not None and [r.name for r in report.blocking] == ["tests"]
    assert report.commit == git("rev-parse", "HEAD", cwd=Path(session.workdir or "")).strip()

    refused = say(ctx, session, "ship it")
    assert "Not shipping: required checks fail" in refused and "tests failed" in refused
    assert "`fix the checks`" in refused and "`ship it anyway`" in refused
    assert session.work_branch not in git("branch", "--list", cwd=origin)

    fixed = say(ctx, session, "fix the checks")
    assert "✅ tests passed" in fixed
    shipped = say(ctx, session, "ship it")
    assert shipped.startswith("Pushed `repobox/")
    assert git("show", f"{session.work_branch}:calc.py", cwd=origin).endswith("a + b\n")
    session = ctx.service.sessions.get(session.id)
    described = merge_request_description(ctx, session)
    assert "| Check | Result | Duration | Commit |" in described
    assert "| tests (required) | ✅ passed |" in described
    assert "All required checks pass." in described and "**Alice**: write calc.py" in described

    undone = say(ctx, session, "undo", BOB)
    assert "with a revert commit (it was already pushed)" in undone
    assert "1 file changed" in undone
    subject = git("log", "-1", "--format=%s", session.work_branch, cwd=origin).strip()
    assert subject.startswith('Undo "') and "as Bob asked" in git(
        "log", "-1", "--format=%b", session.work_branch, cwd=origin
    )
    assert git("show", f"{session.work_branch}:calc.py", cwd=origin).endswith("a - b\n")


def test_ship_it_anyway_records_who_and_undo_before_a_push_moves_back(
    ctx: JobContext, make_repo: MakeRepo, tmp_path: Path
) -> None:
    origin = repo(ctx, make_repo, tmp_path)
    session = start(ctx, origin, "write notes.txt: fine")
    assert "✅ tests passed" in ended(ctx, session)
    say(ctx, session, BREAK)
    undone = say(ctx, session, "undo")
    assert "by moving the work branch back (it was not pushed yet)" in undone
    workdir = Path(session.workdir or "")
    assert (workdir / "calc.py").read_text().endswith("a + b\n")
    say(ctx, session, BREAK)

    shipped = say(ctx, session, "ship it anyway", BOB)
    assert "Shipped past failing checks: tests" in shipped
    assert git("show", f"{session.work_branch}:calc.py", cwd=origin).endswith("a - b\n")
    described = merge_request_description(ctx, ctx.service.sessions.get(session.id))
    assert "**Shipped with failing checks**: Bob chose “ship it anyway”" in described
    assert "| tests (required) | ❌ failed |" in described
    assert ctx.service.sessions.get(session.id).state is SessionState.PUSHED


def test_autofix_hands_the_failure_back_without_being_asked(
    ctx: JobContext, make_repo: MakeRepo, tmp_path: Path
) -> None:
    origin = repo(ctx, make_repo, tmp_path, autofix=1)
    session = start(ctx, origin, BREAK)
    reply = ended(ctx, session)
    assert "✅ tests passed" in reply and "❌ tests" not in reply
    shown = steps(ctx, session)
    assert any(s.startswith("❌ tests failed") for s in shown)  # the first round, visible
    rounds = [
        e.text
        for e in ProgressStream(ctx.redis, session.id).read(count=5000)
        if e.data.get("autofix")
    ]
    assert rounds == ["🔁 autofix round 1/1: handing `tests` back to the agent"]
    assert say(ctx, session, "ship it").startswith("Pushed `repobox/")  # the gate lets it by


def test_an_invalid_repobox_yml_is_answered_in_the_thread(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    origin = make_repo(
        files={"a.txt": "x\n", ".repobox.yml": "checks:\n  - name: tests\n    run: 'true'\n"
               "    timeout: soon\n"}
    )  # fmt: skip
    session = start(ctx, origin, "write a.txt: y")
    reply = ended(ctx, session)
    assert "`.repobox.yml` on" in reply and "is not valid, so no checks ran" in reply
    assert "line 4, `checks[0].timeout`" in reply
    assert ctx.service.sessions.get(session.id).state is SessionState.READY
