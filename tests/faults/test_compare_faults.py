"""Faults in the middle of a comparison: every candidate dies with its owner, the
comparison runs once after a restart (or fails once, naming the cause), and a later one
starts from a clean slate. Real `python app.py` processes, the built-in agent against the
fake Anthropic API; the candidates' commands record their pids so the test can see them die.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sessions.prompts import Action, PromptQueue
from jobs.worker.watchdog import LOST_RUN
from tests.agent_support import API_KEY
from tests.compare_support import MODELS, recorded
from tests.conftest import MakeRepo, wait_until
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.faults.harness import RepoboxApp, alive, children

PAIR = ("sonnet", "haiku")


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(api_key=API_KEY) as server:
        yield server


@pytest.fixture
def app(make_repo: MakeRepo, fake: FakeAnthropic) -> Iterator[RepoboxApp]:
    box = RepoboxApp(
        make_repo(files={"README.md": "# Example\n"}),
        REPOBOX_AGENT="anthropic",
        ANTHROPIC_BASE_URL=fake.url,
        ANTHROPIC_API_KEY=API_KEY,
    )
    yield box
    box.close()


def sleepers(fake: FakeAnthropic, pids: Path, seconds: int) -> None:
    """Each candidate: a command that records its pid and sleeps, then a file, then done."""
    for name in PAIR:
        command = f"echo $$ > {pids / name}; exec sleep {seconds}"
        fake.script_for(
            MODELS[name],
            Reply.tool_use("run", {"command": command}),
            Reply.tool_use("write_file", {"path": f"{name}.txt", "content": f"{name}\n"}),
            Reply.text(f"Wrote {name}.txt."),
        )


def comparisons(app: RepoboxApp, session_id: str) -> list[str]:
    return [
        p.state.value
        for p in PromptQueue(app.redis()).history(session_id)
        if p.action is Action.COMPARE
    ]


def forks(app: RepoboxApp, session_id: str) -> list[str]:
    return sorted(p.name for p in (app.root / "data" / "workdirs").glob(f"{session_id}-cand*"))


def running_sleepers(pids: Path) -> list[int]:
    wait_until(lambda: len(recorded(pids)) == len(PAIR), timeout=30, what="the sleepers")
    found = recorded(pids)
    assert all(alive(pid) for pid in found)
    return found


def comparing(app: RepoboxApp, fake: FakeAnthropic, pids: Path) -> tuple[str, list[int]]:
    """A session whose comparison is running, and the pids of its candidates' commands."""
    app.start()
    session_id = app.new_session()
    pids.mkdir()
    sleepers(fake, pids, 300)
    sent = app.cli("prompt", session_id, "compare sonnet,haiku take a while")
    assert sent.returncode == 0, sent.stderr
    return session_id, running_sleepers(pids)


def test_sigkill_of_the_worker_mid_comparison_kills_every_candidate_and_fails_once(
    app: RepoboxApp, fake: FakeAnthropic, tmp_path: Path
) -> None:
    session_id, candidates = comparing(app, fake, tmp_path / "pids")
    horse = app.horse()
    assert horse is not None
    owner = next(w for w in app.workers() if horse in children(w))
    os.kill(owner, signal.SIGKILL)

    wait_until(lambda: not any(alive(p) for p in candidates), timeout=10, what="candidates gone")
    wait_until(lambda: comparisons(app, session_id) == ["failed"], timeout=30, what="failed")
    errors = [e["text"] for e in app.events(session_id) if e["kind"] == "error"]
    assert errors == [LOST_RUN]  # once, naming the cause; never run again by itself
    wait_until(lambda: app.session_state(session_id) == "ready", what="the session settled")

    refused = app.cli("pick", session_id, "1")
    assert refused.returncode == 1 and "was failed; there is nothing to pick" in refused.stderr
    assert len(forks(app, session_id)) == 2  # the dead comparison's, until the next one
    # What is left of each model's script (the file, then the summary) serves the next one.
    again = app.cli(
        "compare", session_id, "--models", "sonnet,haiku", "once", "more", "--watch", timeout=120
    )
    assert again.returncode == 0, again.stderr + again.stdout
    assert "Compared 2 candidates (sonnet, haiku)" in again.stdout
    assert comparisons(app, session_id) == ["failed", "done"]
    picked = app.cli("pick", session_id, "2", timeout=60)
    assert picked.returncode == 0, picked.stderr
    assert forks(app, session_id) == []


def test_sigterm_mid_comparison_hands_it_back_and_it_runs_once_after_the_restart(
    app: RepoboxApp, fake: FakeAnthropic, tmp_path: Path
) -> None:
    session_id, candidates = comparing(app, fake, tmp_path / "pids")

    assert app.terminate() == 0
    assert not any(alive(p) for p in candidates)
    app.start()
    wait_until(lambda: comparisons(app, session_id) == ["done"], timeout=60, what="the rerun")
    events = app.events(session_id)
    assert any("no need to send it again" in str(e["text"]) for e in events)
    ends = [e for e in events if e["kind"] == "result" and "comparison" in dict(e["data"])]
    assert len(ends) == 1
    assert "Compared 2 candidates (sonnet, haiku)" in str(ends[0]["text"])
    assert forks(app, session_id) == [f"{session_id}-candidate-1", f"{session_id}-candidate-2"]
