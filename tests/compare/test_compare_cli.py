"""`compare` and `pick` from the terminal, and `cancel` of a comparison, against a real
worker process: the built-in agent talks to the fake Anthropic API, whose scripts differ
per model (tests/compare_support.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from bot.core.config import Settings
from bot.sessions.events import EventKind, ProgressStream
from jobs.steps.context import JobContext
from tests.agent_support import API_KEY, fake  # noqa: F401 - fixture
from tests.checks_repo import CALC
from tests.cli.test_cli import CliResult, cli, session_id_from  # noqa: F401 - fixture
from tests.compare_support import (
    MODELS,
    OPUS_CALC,
    OPUS_NOTES,
    compare_tree,
    recorded,
    script_candidates,
)
from tests.conftest import MakeRepo, WorkerProcess, git, wait_until
from tests.fakes.anthropic import FakeAnthropic, Reply


def agent_env(fake: FakeAnthropic) -> dict[str, str]:  # noqa: F811
    return {
        "REPOBOX_AGENT": "anthropic",
        "ANTHROPIC_BASE_URL": fake.url,
        "ANTHROPIC_API_KEY": API_KEY,
    }


def checked_repo(settings: Settings, make_repo: MakeRepo, tmp_path: Path) -> Path:
    return make_repo(files=compare_tree())


def test_compare_watch_pick_and_ship_from_the_terminal(
    cli: Callable[..., CliResult],  # noqa: F811
    start_worker: Callable[..., WorkerProcess],
    fake: FakeAnthropic,  # noqa: F811
    settings: Settings,
    make_repo: MakeRepo,
    tmp_path: Path,
) -> None:
    origin = checked_repo(settings, make_repo, tmp_path)
    start_worker(**agent_env(fake))
    new = cli("new", str(origin))
    assert new.returncode == 0, new.stderr
    session_id = session_id_from(new.stdout)

    too_many = cli("prompt", session_id, "compare sonnet,opus,haiku,claude-code tidy up")
    assert too_many.returncode == 1
    assert "compares at most 3 at once" in too_many.stderr

    script_candidates(fake)
    compared = cli(
        "compare", session_id, "--models", "sonnet,opus,haiku", "tidy", "up", "calc", "--watch",
        timeout=180,
    )  # fmt: skip
    assert compared.returncode == 0, compared.stderr
    out = compared.stdout
    assert "[1 sonnet]" in out and "[2 opus]" in out and "[3 haiku]" in out
    assert "Compared 3 candidates (sonnet, opus, haiku)" in out
    assert "1. sonnet: ❌ checks fail" in out
    assert "3. haiku: ✅ checks pass · cheapest" in out
    assert "3 candidates" in out  # the comparison's own figures line

    bad_pick = cli("pick", session_id, "4")
    assert bad_pick.returncode == 1 and "there is no candidate 4" in bad_pick.stderr
    picked = cli("pick", session_id, "2", timeout=120)
    assert picked.returncode == 0, picked.stderr
    assert "Picked candidate 2 (opus)" in picked.stdout

    status = cli("status", session_id)
    assert "[done] compare sonnet,opus,haiku: tidy up calc" in status.stdout
    assert "[done] pick 2" in status.stdout
    shipped = cli("ship", session_id, timeout=120)
    assert shipped.returncode == 0, shipped.stderr
    branches = git("branch", "--format=%(refname:short)", cwd=origin).split()
    branch = next(b for b in branches if b.startswith("repobox/"))
    assert git("show", f"{branch}:calc.py", cwd=origin) == OPUS_CALC
    assert git("show", f"{branch}:NOTES.md", cwd=origin) == OPUS_NOTES


def test_cancel_stops_every_candidate_and_leaves_no_workdir(
    cli: Callable[..., CliResult],  # noqa: F811
    start_worker: Callable[..., WorkerProcess],
    fake: FakeAnthropic,  # noqa: F811
    ctx: JobContext,
    settings: Settings,
    make_repo: MakeRepo,
    tmp_path: Path,
) -> None:
    origin = make_repo(files={"calc.py": CALC})
    start_worker(**agent_env(fake))
    new = cli("new", str(origin))
    session_id = session_id_from(new.stdout)
    pids = tmp_path / "pids"
    pids.mkdir()
    for name in ("sonnet", "opus", "haiku"):
        sleeper = f"echo $$ > {pids / name}; exec sleep 300"
        fake.script_for(MODELS[name], Reply.tool_use("run", {"command": sleeper}))

    queued = cli("prompt", session_id, "compare sonnet,opus,haiku wait a long while")
    assert queued.returncode == 0, queued.stderr
    wait_until(lambda: len(recorded(pids)) == 3, timeout=60, what="three sleepers")
    sleepers = recorded(pids)
    assert all(alive(pid) for pid in sleepers)

    cancelled = cli("cancel", session_id)
    assert cancelled.returncode == 0, cancelled.stderr
    stream = ProgressStream(ctx.redis, session_id)

    def ended() -> list[str]:
        return [
            e.text
            for e in stream.read(count=10_000)
            if e.kind is EventKind.CANCELLED and e.candidate is None
        ]

    texts = wait_until(ended, timeout=60, what="the comparison to end")
    assert isinstance(texts, list) and texts[0].startswith("Comparison cancelled after")
    assert texts[0].endswith("every candidate was stopped.")
    wait_until(lambda: not any(alive(pid) for pid in sleepers), timeout=20, what="sleepers gone")
    candidate_ends = [
        e for e in stream.read(count=10_000) if e.candidate is not None and e.ends_prompt is False
    ]
    assert {e.candidate for e in candidate_ends if e.kind is EventKind.CANCELLED} == {1, 2, 3}
    assert ctx.workdirs.forks_of(session_id) == []
    session = ctx.service.sessions.get(session_id)
    assert git("show", "HEAD:calc.py", cwd=Path(session.workdir or "")) == CALC


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")
