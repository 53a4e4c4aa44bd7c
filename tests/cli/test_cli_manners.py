"""The terminal's manners: refused starts leave nothing, errors carry their cause, a closed
pipe and Ctrl-C end quietly, and a failed prompt says why in `status`."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from redis import Redis

from bot.core.config import Settings
from tests.conftest import ROOT, MakeRepo, WorkerProcess, env_for

CliResult = subprocess.CompletedProcess[str]


@pytest.fixture
def cli(settings: Settings, redis: Redis) -> Callable[..., CliResult]:
    """`./dev session …` as a subprocess, on a Redis flushed for this test (`redis`)."""

    def run(*args: str, timeout: float = 90) -> CliResult:
        return subprocess.run(
            [sys.executable, str(ROOT / "app.py"), "session", *args],
            env=env_for(settings),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )

    return run


def session_id_from(output: str) -> str:
    first = next(line for line in output.splitlines() if line.startswith("session "))
    return first.split()[1].rstrip(":")


def test_a_refused_start_leaves_no_session_and_says_gits_reason(
    cli: Callable[..., CliResult], start_worker: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    start_worker()
    refused = {
        "/etc": "'/etc' does not appear to be a git repository",
        str(tmp_path / "gone.git"): "does not exist",
        "https://nonexistent.invalid/a/b.git": "Could not resolve host: nonexistent.invalid",
    }
    for repo, reason in refused.items():
        done = cli("new", repo, "write a.txt: one")
        assert done.returncode == 1, (repo, done.stdout)
        assert done.stderr.startswith("error: ") and reason in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    assert cli("list").stdout.strip() == "no sessions"
    assert cli("list", "--all").stdout.strip() == "no sessions"


def test_status_names_the_repository_kind_and_why_a_prompt_failed(
    cli: Callable[..., CliResult], start_worker: Callable[..., WorkerProcess], make_repo: MakeRepo
) -> None:
    start_worker()
    created = cli("new", str(make_repo()), "fail 3", "--watch")
    session_id = session_id_from(created.stdout)
    status = cli("status", session_id)
    assert status.returncode == 0
    assert "(local path)" in status.stdout
    lines = status.stdout.splitlines()
    failed = next(i for i, line in enumerate(lines) if "[failed] fail 3" in line)
    assert lines[failed + 1].strip().startswith("why: ") and len(lines[failed + 1]) > 12


def test_an_unknown_option_is_named_and_the_prompt_is_optional(
    cli: Callable[..., CliResult],
) -> None:
    done = cli("new", "--upload-pack=x")
    assert done.returncode == 2
    assert "unknown option `--upload-pack=x`" in done.stderr
    assert "required" not in done.stderr
    bare = cli("new")
    assert bare.returncode == 2
    assert bare.stderr.strip().endswith(
        "the following arguments are required: repo (the prompt is optional)"
    )
    assert "./dev session new" in bare.stderr  # the usage names the command as typed


def test_a_reader_that_goes_away_ends_the_listing_quietly(settings: Settings) -> None:
    """`./dev session list | head -3`: the pipe closes before the listing is written."""
    listing = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "session", "list"],
        env=env_for(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert listing.stdout is not None and listing.stderr is not None
    listing.stdout.close()  # as `head` does once it has its lines
    errors = listing.stderr.read().decode()
    assert listing.wait(timeout=60) == 141
    assert errors == ""


def test_ctrl_c_in_watch_says_the_run_goes_on(
    cli: Callable[..., CliResult],
    start_worker: Callable[..., WorkerProcess],
    make_repo: MakeRepo,
    settings: Settings,
) -> None:
    start_worker()
    session_id = session_id_from(cli("new", str(make_repo())).stdout)
    assert cli("prompt", session_id, "sleep 20").returncode == 0
    watch = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "session", "watch", session_id],
        env=env_for(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert watch.stdout is not None and watch.stderr is not None
    for line in watch.stdout:  # wait until it is following the run
        if "sleep" in line or "running" in line:
            break
    watch.send_signal(signal.SIGINT)
    assert watch.wait(timeout=60) == 130
    said = watch.stderr.read()
    assert said.strip() == (
        f"stopped watching; the run goes on — `./dev session watch {session_id}` to follow it again"
    )
    assert cli("cancel", session_id).returncode == 0
