"""The largest prompt, refused at the door on every surface: one clear line, no session,
no queued prompt, no job."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest
from rq import Queue
from rq.serializers import JSONSerializer

from bot.commands.admission import PROMPT_LIMIT
from bot.core.config import Settings
from bot.core.dispatch import RUN_QUEUE
from bot.core.errors import UserError
from bot.sessions.session import Person, Thread
from jobs.steps.context import JobContext
from tests.agents.test_long_prompts import long_prompt
from tests.conftest import ROOT, MakeRepo, env_for
from tests.forges.test_gitlab_surface import Lab, lab  # noqa: F401 - the GitLab fixture

TOO_LONG = PROMPT_LIMIT + 1
ALICE = Person("u", "Alice")
REFUSAL = f"That prompt is {TOO_LONG:,} characters long; Repobox takes at most {PROMPT_LIMIT:,}."


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "session", *args],
        env=env_for(settings),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def words(total: int) -> list[str]:
    """A prompt of `total` characters as several arguments (each under Linux's 128 KiB)."""
    text = long_prompt("write x.txt: y", total)
    return [text[i : i + 100_000] for i in range(0, total, 100_000)]


def test_the_cli_refuses_a_prompt_over_the_limit_before_making_a_session(
    settings: Settings, make_repo: MakeRepo
) -> None:
    origin = make_repo()
    refused = cli(settings, "new", str(origin), *words(TOO_LONG))
    assert refused.returncode == 1
    said = f"That prompt is {TOO_LONG + 2:,} characters long"  # three words, two spaces
    assert said in refused.stderr and "Traceback" not in refused.stderr
    listed = cli(settings, "list")
    assert str(origin) not in listed.stdout


def test_the_service_refuses_before_a_session_or_a_job_exists(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    origin = make_repo()

    def start(prompt: str) -> Callable[..., object]:
        return lambda svc: svc.start(
            repo=str(origin),
            base=None,
            prompt=prompt,
            thread=Thread("cli", f"t{len(prompt)}"),
            person=ALICE,
            request_id=f"r{len(prompt)}",
        )

    with pytest.raises(UserError, match="Repobox takes at most 250,000"):
        ctx.service.run(start("x" * TOO_LONG))
    assert ctx.service.sessions.find_by_thread("cli", f"t{TOO_LONG}") is None
    assert Queue(RUN_QUEUE, connection=ctx.redis, serializer=JSONSerializer).count == 0

    at_limit = ctx.service.run(start("x" * PROMPT_LIMIT))  # the limit itself is accepted
    assert at_limit.submitted is not None
    with pytest.raises(UserError, match="at most"):
        ctx.service.run(
            lambda svc: svc.submit(
                at_limit.session, "y" * TOO_LONG, Person("u", "U"), request_id="n"
            )
        )
    assert len(ctx.service.prompts.history(at_limit.session.id)) == 1


def test_a_gitlab_note_over_the_limit_is_answered_with_the_limit_and_starts_nothing(
    lab: Lab,  # noqa: F811 - the imported fixture
) -> None:
    issue = lab.fake.add_issue(lab.project, "Long", "A long paste.", author="alice")
    body = "@repobox " + long_prompt("write x.txt: y", TOO_LONG)
    lab.comment("issue", issue.iid, body)

    [answer] = lab.bot_notes("issue", issue.iid)
    assert REFUSAL.replace("That", "") in answer.body
    assert "in a file in the repository" in answer.body
    thread = f"{lab.project}:issue:{issue.iid}"
    assert lab.ctx.service.sessions.find_by_thread("gitlab", thread) is None
