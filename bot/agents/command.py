"""The `command` agent: an external CLI agent run in the workdir, its output streamed.

`REPOBOX_AGENT_COMMAND` is a command line; `{prompt}` in it is replaced by the prompt,
otherwise the prompt is appended as the last argument. When the prompt came from an issue
or merge request, a quoted context preamble precedes it there; the person's own words are
in `REPOBOX_PROMPT`, and the context as JSON in the file `REPOBOX_CONTEXT_FILE` names.
The preset `claude-code` expands to Claude Code's headless stream-json mode, whose lines
are turned into readable steps.
"""

from __future__ import annotations

import shlex
import shutil
from collections import deque
from collections.abc import Iterator
from pathlib import Path

from bot.agents import claude_code
from bot.agents.base import RunControl, RunRequest
from bot.agents.command_context import prompt_with_context, write_context_file
from bot.agents.process import StreamedProcess
from bot.config import Settings
from bot.errors import AgentError
from bot.progress import EventKind, ProgressEvent
from bot.security.environment import agent_environment
from bot.security.sandbox import Sandbox, sandbox_for

PRESETS = {"claude-code": claude_code.PRESET_ARGV, "claude": claude_code.PRESET_ARGV}
TAIL_LINES = 20


def command_argv(command: str, prompt: str) -> list[str]:
    template = PRESETS.get(command.strip()) or shlex.split(command)
    if not template:
        raise AgentError("REPOBOX_AGENT_COMMAND is empty.")
    if any("{prompt}" in part for part in template):
        return [part.replace("{prompt}", prompt) for part in template]
    return [*template, prompt]


class CommandAgent:
    name = "command"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.command = settings.agent_command or ""

    def _passed_env(self) -> frozenset[str]:
        if self.settings.agent_pass_env is not None:
            return self.settings.agent_pass_env
        is_claude = self.command.strip() in PRESETS or "stream-json" in self.command
        return frozenset({"ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"}) if is_claude else frozenset()

    def run(self, request: RunRequest, control: RunControl) -> Iterator[ProgressEvent]:
        command = command_argv(self.command, prompt_with_context(request))
        shown = command[0]
        sandbox = sandbox_for(self.settings)
        argv = command
        if sandbox is not None:
            _check_visible(sandbox, shown, request)
            argv = sandbox.wrap(command, request.workdir)
        extra = {"REPOBOX_PROMPT": request.prompt, "REPOBOX_SESSION": request.session.id}
        context_file = write_context_file(request)  # in .git: read-only for the agent
        if context_file is not None:
            extra["REPOBOX_CONTEXT_FILE"] = str(context_file)
        env = agent_environment(self.settings, keep=self._passed_env(), extra=extra)
        try:
            process = StreamedProcess(argv, request.workdir, env)
        except OSError as error:
            raise AgentError(
                f"Could not start the agent command `{shown}`: {error.strerror}"
            ) from None
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        result: ProgressEvent | None = None
        yield ProgressEvent(
            EventKind.STEP,
            f"started `{shlex.join([shown])}`" + (" in the sandbox" if sandbox else ""),
            data={"pid": process.pgid, "sandboxed": sandbox is not None},
        )
        for stream, line in process.lines(control):
            parsed = claude_code.parse_line(line) if stream == "stdout" else None
            if parsed is None:
                tail.append(line)
                yield ProgressEvent(EventKind.OUTPUT, line, data={"stream": stream})
                continue
            for event in parsed:
                if event.kind is EventKind.RESULT:
                    result = event
                elif event.kind is EventKind.ERROR:
                    raise AgentError(f"The agent reported an error: {event.text}")
                else:
                    yield event
        if control.should_stop():
            return
        if process.returncode != 0:
            last = next((line for line in reversed(tail) if line.strip()), "")
            detail = f": {last[:300]}" if last else ""
            raise AgentError(f"The agent command exited with code {process.returncode}{detail}")
        yield result or ProgressEvent(EventKind.RESULT, _summary_from(tail))


def _check_visible(sandbox: Sandbox, program: str, request: RunRequest) -> None:
    """Say clearly when the agent CLI is installed where the sandbox hides it (say ~/.local)."""
    found = shutil.which(program)
    hidden = sandbox.hidden_place(Path(found), request.workdir) if found else None
    if hidden is not None:
        raise AgentError(
            f"The agent command `{program}` is installed under {hidden}, which the sandbox "
            "hides; install it system-wide (e.g. /usr/local/bin) or set REPOBOX_SANDBOX=off."
        )


def _summary_from(tail: deque[str]) -> str:
    lines = [line for line in tail if line.strip()]
    return "\n".join(lines[-3:]) if lines else "The agent finished."
