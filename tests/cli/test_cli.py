"""The CLI surface against a real worker process: the whole flow, and every bad input."""

from __future__ import annotations

import getpass
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from redis import Redis

from bot.core.config import Settings
from tests.conftest import ROOT, MakeRepo, WorkerProcess, env_for, git

CliResult = subprocess.CompletedProcess[str]


@pytest.fixture
def cli(settings: Settings, redis: Redis) -> Callable[..., CliResult]:
    """`./dev session …` as a subprocess, on a Redis flushed for this test (`redis`)."""

    def run(*args: str, timeout: float = 60, stdin: str | None = None) -> CliResult:
        return subprocess.run(
            [sys.executable, str(ROOT / "app.py"), "session", *args],
            input=stdin,
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


def test_whole_flow_new_two_prompts_ship(
    cli: Callable[..., CliResult], start_worker: Callable[..., WorkerProcess], make_repo: MakeRepo
) -> None:
    origin = make_repo(files={"README.md": "# Demo\n", "src/app.py": "print('hi')\n"})
    start_worker()

    new = cli("new", str(origin), "write notes.txt: first line", "--watch")
    assert new.returncode == 0, new.stderr
    session_id = session_id_from(new.stdout)
    assert "ready: repobox/" in new.stdout and "from main" in new.stdout
    assert "result" in new.stdout and "1 file changed (+1 −0)" in new.stdout

    second = cli("prompt", session_id, "append notes.txt: second line", "--watch")
    assert second.returncode == 0, second.stderr
    shipped = cli("ship", session_id)
    assert shipped.returncode == 0, shipped.stderr
    assert "Pushed `repobox/" in shipped.stdout

    branch = f"repobox/{session_id}-write-notes-txt-first-line"
    assert git("show", f"{branch}:notes.txt", cwd=origin) == "first line\nsecond line\n"
    subjects = git("log", "--format=%s", f"main..{branch}", cwd=origin).splitlines()
    # a command agent writes no summary: the prompt's first line, never its output
    assert subjects == ["Append notes.txt: second line", "Write notes.txt: first line"]

    status = cli("status", session_id)
    assert status.returncode == 0
    assert f"session {session_id}  pushed" in status.stdout
    assert "[done] append notes.txt: second line" in status.stdout

    listing = cli("list")
    assert session_id in listing.stdout and "pushed" in listing.stdout
    diff = cli("diff", session_id)
    assert "+first line" in diff.stdout and "+second line" in diff.stdout


def test_a_prompt_longer_than_one_argument_comes_whole_from_stdin(
    cli: Callable[..., CliResult], start_worker: Callable[..., WorkerProcess], make_repo: MakeRepo
) -> None:
    origin = make_repo(files={"README.md": "# Demo\n"})
    start_worker()
    new = cli("new", str(origin))
    assert new.returncode == 0, new.stderr
    session_id = session_id_from(new.stdout)
    words = "y" * 200_000  # over Linux's 128 KiB for one argument
    sent = cli("prompt", session_id, "-", "--watch", stdin=f"write big.txt: {words}")
    assert sent.returncode == 0, sent.stderr
    assert "1 file changed (+1 −0)" in sent.stdout
    empty = cli("prompt", session_id, "-", stdin="  \n")
    assert empty.returncode == 1 and "The prompt read from stdin is empty." in empty.stderr
    shipped = cli("ship", session_id)
    assert shipped.returncode == 0, shipped.stderr
    branch = git("branch", "--format=%(refname:short)", "--list", "repobox/*", cwd=origin)
    assert git("show", f"{branch.strip()}:big.txt", cwd=origin) == words + "\n"


@pytest.mark.timeout(360)  # about twenty `./dev session` processes, each starting Python afresh
def test_bad_inputs_get_one_clear_line_and_nonzero_exit(
    cli: Callable[..., CliResult],
    start_worker: Callable[..., WorkerProcess],
    make_repo: MakeRepo,
    tmp_path: Path,
) -> None:
    origin = make_repo()
    start_worker()
    plain_dir = tmp_path / "not-a-repo"
    plain_dir.mkdir()

    cases = {
        ("new", str(plain_dir)): (  # git's own reason, and no session left behind
            f"error: I could not read the git repository `{plain_dir}`: '{plain_dir}' does not "
            "appear to be a git repository. Check the path or URL: it must name a git "
            "repository."
        ),
        ("new", str(tmp_path / "missing")): f"error: `{tmp_path / 'missing'}` does not exist.",
        ("new", str(origin), "--base", "nope"): "error: The repository has no branch `nope`.",
        ("new", "~nosuchuser/x"): (  # issue 9: expanduser's RuntimeError was a crash
            "error: `~nosuchuser/x`: there is no such user's home directory here."
        ),
        ("new", "--", "--upload-pack=touch${IFS}marker;#://x"): (
            "error: `--upload-pack=touch${IFS}marker;#://x` is not a repository I can use. "
            "Use `group/project`, `github:owner/repo`, or an `https://` or `ssh://` clone URL."
        ),
        ("new", str(origin), "--base=--orphan"): (
            "error: `--orphan` is not a valid branch name. Branch names cannot start with `-` "
            "or contain spaces, `..`, `~`, `^` or `:`."
        ),
        ("status", "deadbeef"): "error: There is no session `deadbeef`.",
        ("prompt", "deadbeef", "hi"): "error: There is no session `deadbeef`.",
    }
    with ThreadPoolExecutor(4) as pool:  # independent refusals: Python's start-up overlaps
        results = list(pool.map(lambda args: cli(*args), cases))
    for (args, expected), result in zip(cases.items(), results, strict=True):
        assert result.returncode == 1, (args, result.stdout)
        assert result.stderr.strip() == expected, args
    assert cli("list", "--all").stdout.strip() == "no sessions"  # refused: none was made

    created = cli("new", str(origin))
    session_id = session_id_from(created.stdout)
    empty = cli("prompt", session_id, "   ")
    assert empty.returncode == 1
    assert empty.stderr.strip() == "error: That prompt is empty. Tell me what to change."

    assert cli("archive", session_id).returncode == 0
    archived = cli("prompt", session_id, "more")
    assert archived.returncode == 1
    assert archived.stderr.strip() == (
        f"error: Session `{session_id}` is archived and takes no more prompts. "
        "Start a new one with `new <repo>`."
    )
    again = cli("archive", session_id)
    assert again.stderr.strip() == f"error: Session `{session_id}` is already archived."

    usage = cli("prompt")
    assert usage.returncode == 2 and "usage:" in usage.stderr


def test_cli_without_a_running_repobox_says_how_to_start_one(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "REPOBOX_DATA_DIR": str(tmp_path / "empty"),
        "HOME": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "session", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: Repobox is not running for data dir {tmp_path / 'empty'}. "
        "Start it with `./dev run`, or set REDIS_URL."
    )


def test_watch_replays_history_and_follows_a_run_to_its_end(
    cli: Callable[..., CliResult], start_worker: Callable[..., WorkerProcess], make_repo: MakeRepo
) -> None:
    origin = make_repo()
    start_worker()
    created = cli("new", str(origin), "write a.txt: one", "--watch")
    session_id = session_id_from(created.stdout)
    assert cli("prompt", session_id, "sleep 1\nwrite b.txt: two").returncode == 0

    watched = cli("watch", session_id)
    assert watched.returncode == 0
    results = [line for line in watched.stdout.splitlines() if " result " in line]
    assert len(results) == 2  # the first run from history, and the second followed live
    assert watched.stdout.rstrip().splitlines()[-1].split()[1:] == ["state", "ready"]

    replayed = cli("watch", session_id)  # nothing running now: the whole history, then exit
    assert replayed.returncode == 0
    assert replayed.stdout == watched.stdout


def test_whoami_and_chat_commands_typed_as_a_prompt_mean_what_they_mean_in_chat(
    cli: Callable[..., CliResult], start_worker: Callable[..., WorkerProcess], make_repo: MakeRepo
) -> None:
    me = getpass.getuser()
    whoami = cli("whoami")
    assert whoami.returncode == 0
    assert whoami.stdout.strip() == f"{me} ({me}); commits carry {me} <{me}@users.noreply.repobox>"
    start_worker()
    session_id = session_id_from(cli("new", str(make_repo())).stdout)
    status = cli("prompt", session_id, "status")  # as in a chat thread: the command, not a prompt
    assert status.returncode == 0 and status.stdout.startswith(f"session {session_id}  ready")


def test_log_prints_the_live_page_link(
    cli: Callable[..., CliResult], start_worker: Callable[..., WorkerProcess], make_repo: MakeRepo
) -> None:
    start_worker()
    session_id = session_id_from(cli("new", str(make_repo())).stdout)
    log = cli("log", session_id)
    assert log.returncode == 0 and f"/sessions/{session_id}?expires=" in log.stdout
