"""A run's processes die with their owner: cancel, a finished command, or the owner killed.

Real processes throughout: a command that starts a `setsid` child (as Claude Code does for
each Bash command) and a double-forked daemon in its own session, in and out of bubblewrap.
The owner is a separate Python process (tests/agents/process_owner.py) standing in for
RQ's work horse, so the test can SIGKILL it.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.config import Settings
from bot.processes.control import RunControl
from bot.processes.streamed import MAX_LINE, LineTooLong, StreamedProcess
from bot.security.sandbox import Sandbox, probe
from tests.conftest import ROOT, wait_until
from tests.process_marks import marked

OWNER = ROOT / "tests" / "agents" / "process_owner.py"
_tags = itertools.count(90_001)

needs_bwrap = pytest.mark.skipif(
    not probe().usable, reason=f"bubblewrap is not usable here: {probe().detail}"
)
WHERE = [
    pytest.param(False, id="bare"),
    pytest.param(True, id="sandbox", marks=needs_bwrap),
]


def tree_command(tag: int) -> str:
    """A `setsid` child, a double-forked daemon in its own session, a plain child; then wait."""
    return (
        f"setsid sleep {tag}1 & "
        f"( setsid sleep {tag}2 & ) ; "
        f"sleep {tag}3 & "
        f"echo started; sleep {tag}4"
    )


@pytest.fixture
def tag() -> Iterator[int]:
    value = next(_tags) * 10_000_000 + os.getpid()  # unique across test runs on the machine
    yield value
    for pid in marked(value):  # never leave a failed test's processes behind
        os.kill(pid, signal.SIGKILL)


def argv_for(command: str, workdir: Path, settings: Settings, sandboxed: bool) -> list[str]:
    argv = ["bash", "-c", command]
    if not sandboxed:
        return argv
    assert probe().path is not None
    return Sandbox(settings, probe().path or "bwrap").wrap(argv, workdir)


@pytest.mark.parametrize("sandboxed", WHERE)
def test_cancel_ends_every_descendant_even_in_their_own_sessions(
    settings: Settings, tmp_path: Path, tag: int, sandboxed: bool
) -> None:
    argv = argv_for(tree_command(tag), tmp_path, settings, sandboxed)
    process = StreamedProcess(argv, tmp_path, dict(os.environ))
    control = RunControl(60)
    seen = []
    for _, line in process.lines(control):
        seen.append(line)
        if line == "started":
            wait_until(lambda: len(marked(tag)) == 4, what="all four sleeps to start")
            control.cancel()
    assert seen == ["started"]
    assert process.returncode is not None
    assert marked(tag) == []


@pytest.mark.parametrize("sandboxed", WHERE)
def test_owner_killed_with_sigkill_takes_the_whole_tree_with_it(
    settings: Settings, tmp_path: Path, tag: int, sandboxed: bool
) -> None:
    argv = argv_for(tree_command(tag), tmp_path, settings, sandboxed)
    owner = subprocess.Popen(
        [sys.executable, str(OWNER), str(tmp_path), json.dumps(argv)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None
        guardian = int(owner.stdout.readline().split()[1])
        assert owner.stdout.readline().strip() == "stdout: started"
        wait_until(lambda: len(marked(tag)) == 4, what="all four sleeps to start")
        owner.kill()  # SIGKILL: no finally, no atexit
        owner.wait()
        wait_until(lambda: not marked(tag), timeout=10, what="the tree to die with its owner")
        wait_until(lambda: not Path(f"/proc/{guardian}").exists(), what="the guardian to exit")
    finally:
        owner.kill()
        owner.wait()


def test_a_finished_command_leaves_nothing_running_and_does_not_wait_for_daemons(
    tmp_path: Path, tag: int
) -> None:
    command = f"( setsid sleep {tag}1 & ) ; setsid sleep {tag}2 & echo done; exit 7"
    process = StreamedProcess(["bash", "-c", command], tmp_path, dict(os.environ))
    lines = [line for _, line in process.lines(RunControl(60))]
    assert lines == ["done"]
    assert process.returncode == 7
    assert marked(tag) == []


def test_a_missing_program_is_still_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        StreamedProcess(["no-such-program-repobox"], tmp_path, dict(os.environ))


def test_lines_are_whole_however_long_up_to_the_safety_cap(tmp_path: Path) -> None:
    script = "import sys; sys.stdout.write('a' * 300_000 + '\\nshort\\n' + 'b' * 20_000)"
    process = StreamedProcess([sys.executable, "-c", script], tmp_path, dict(os.environ))
    assert [line for _, line in process.lines(RunControl(60))] == [
        "a" * 300_000,
        "short",
        "b" * 20_000,
    ]
    flood = f"import sys; sys.stdout.write('x' * ({MAX_LINE} + 65536)); sys.stdout.flush()"
    endless = StreamedProcess(
        ["bash", "-c", f'{sys.executable} -c "{flood}"; sleep 60'], tmp_path, dict(os.environ)
    )
    with pytest.raises(LineTooLong, match="a line on stdout grew past 16 MB"):
        list(endless.lines(RunControl(60)))
    assert endless.returncode is not None  # killed, not left running
