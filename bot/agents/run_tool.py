"""The built-in agent's `run` tool: one shell command in the workdir, confined and bounded.

The command runs under the process guardian (`bot.processes.streamed`: a timeout, a cancel
or the death of the job kills everything it started), inside the sandbox when there is
one, with an environment from which every secret Repobox holds has been removed, and
under a time limit. Its output is streamed to
the thread as it comes and handed to the model capped, keeping the head (what started)
and the tail (how it ended), which is where test runners print their verdict.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from pathlib import Path

from bot.agents.egress_steps import egress_warnings
from bot.agents.file_tools import Done, ToolFailure
from bot.agents.text import short
from bot.core.config import Settings
from bot.processes.control import CommandControl, RunControl
from bot.processes.output import CappedOutput
from bot.processes.streamed import LineTooLong, StreamedProcess, shown
from bot.security.environment import agent_environment
from bot.security.sandbox import Sandbox
from bot.sessions.events import EventKind, ProgressEvent

DEFAULT_TIMEOUT = 120.0
MAX_TIMEOUT = 1_800.0
STREAMED_LINES = 200


def run_command(
    settings: Settings,
    workdir: Path,
    control: RunControl,
    sandbox: Sandbox | None,
    command: str,
    timeout: float | None = None,
) -> Generator[ProgressEvent, None, Done]:
    """Run `command` with `bash -c`; yield its output lines, then a warning per host the
    allow-list refused it; return its exit and output."""
    done = yield from _run(settings, workdir, control, sandbox, command, timeout)
    yield from egress_warnings(sandbox)
    return done


def _run(
    settings: Settings,
    workdir: Path,
    control: RunControl,
    sandbox: Sandbox | None,
    command: str,
    timeout: float | None,
) -> Generator[ProgressEvent, None, Done]:
    if not command.strip():
        raise ToolFailure("`command` is empty.")
    limit = min(max(1.0, timeout or DEFAULT_TIMEOUT), MAX_TIMEOUT)
    argv = ["bash", "-c", command]
    if sandbox is not None:
        argv = sandbox.wrap(argv, workdir)
    env = agent_environment(settings, extra={"CI": "1", "TERM": "dumb", "PAGER": "cat"})
    label = _label(command)
    started = time.monotonic()
    try:
        process = StreamedProcess(argv, workdir, env)
    except OSError as error:
        raise ToolFailure(f"Could not start the command: {error.strerror}.") from None
    own = CommandControl(control, limit)
    output = CappedOutput()
    try:
        for streamed, (stream, whole) in enumerate(process.lines(own), start=1):
            line = shown(whole)
            output.add(line)
            if streamed <= STREAMED_LINES:
                yield ProgressEvent(EventKind.OUTPUT, line, data={"stream": stream})
            elif streamed == STREAMED_LINES + 1:
                yield ProgressEvent(EventKind.OUTPUT, "… (more output; the model sees its tail)")
    except LineTooLong as error:
        return Done(
            f"Killed: {error}.\n{output.text()}", f"ran {label} → killed ({error})", failed=True
        )
    seconds = time.monotonic() - started
    text = output.text() or "(no output)"
    if control.should_stop():
        return Done(f"Stopped: the run was cancelled.\n{text}", f"ran {label} → stopped")
    if own.expired:
        return Done(
            f"Timed out after {limit:.0f} s and was killed.\n{text}",
            f"ran {label} → timed out after {limit:.0f} s",
            failed=True,
        )
    code = process.returncode
    step = f"ran {label} → exit {code} ({seconds:.1f} s)"
    return Done(f"exit code {code}\n{text}", step, failed=code != 0)


def _label(command: str) -> str:
    """The command as a person would want to see it in a step: one line, not too long."""
    lines = command.strip().splitlines()
    return short(lines[0] if lines else "") + (" …" if len(lines) > 1 else "")
