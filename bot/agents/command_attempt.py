"""One start of the `command` agent's CLI: its process, its lines as events, its outcome.

A run is one attempt, or two when Claude Code cannot resume the session's conversation:
the first attempt's events are held back until Claude Code's `init` line shows that the
resume worked, so a failed resume leaves no trace but the note that explains it.
"""

from __future__ import annotations

import shlex
from collections import deque
from collections.abc import Iterator
from typing import Protocol

from bot.agents import claude_code
from bot.agents.base import RunRequest
from bot.agents.claude_mcp import mcp_config
from bot.agents.claude_stream import ClaudeStream
from bot.agents.command_context import (
    prompt_with_context,
    remove_prompt_file,
    write_context_file,
    write_prompt_file,
)
from bot.agents.command_line import command_argv, program_of
from bot.agents.egress_steps import egress_warnings
from bot.agents.mcp_launch import run_servers
from bot.core.config import Settings
from bot.core.errors import AgentError
from bot.processes.control import RunControl
from bot.processes.streamed import LineTooLong, StreamedProcess, shown
from bot.security.environment import agent_environment
from bot.security.sandbox import Sandbox
from bot.sessions.events import EventKind, ProgressEvent

TAIL_LINES = 20
SUMMARY_FROM = "summary_from"  # in a RESULT's data: "output" when no agent wrote a summary


class AgentCommand(Protocol):
    """What an attempt needs of the `command` agent (`CommandAgent` is one)."""

    settings: Settings
    command: str

    def passed_env(self) -> frozenset[str]: ...


class Attempt:
    def __init__(
        self,
        agent: AgentCommand,
        request: RunRequest,
        sandbox: Sandbox | None,
        *,
        resume: str | None = None,
        with_history: bool = False,
    ) -> None:
        self.agent, self.request, self.sandbox = agent, request, sandbox
        self.resume, self.with_history = resume, with_history
        self.stream = ClaudeStream()  # any command may speak stream-json (wrappers do)
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.result: ProgressEvent | None = None
        self.error: str | None = None
        self.returncode: int | None = None
        self.stopped = False
        self.mcp_problems: list[str] = []  # MCP settings asked for and not offered

    @property
    def resume_failed(self) -> bool:
        """Resuming was asked for, and the CLI failed before its conversation began."""
        started = self.stream.started
        failed = self.returncode != 0 or self.error is not None
        return bool(self.resume) and not started and failed and not self.stopped

    def why(self) -> str:
        said = self.error or next((line for line in reversed(self.tail) if line.strip()), "")
        return shown(said.strip(), 200) or f"exit code {self.returncode}"

    def _launch(self) -> tuple[list[str], dict[str, str], str]:
        """The command line, its environment and its stdin (the prompt, never an argument
        or a variable: either would cap it at 128 KiB)."""
        settings, request = self.agent.settings, self.request
        prompt = prompt_with_context(request, with_history=self.with_history)
        preset = claude_code.is_preset(self.agent.command)
        argv = command_argv(
            self.agent.command,
            settings=settings,
            sandboxed=self.sandbox is not None,
            resume=self.resume,
        )
        extra = {"REPOBOX_SESSION": request.session.id}
        prompt_file = write_prompt_file(request)  # in .git: read-only for the agent
        if prompt_file is not None:
            extra["REPOBOX_PROMPT_FILE"] = str(prompt_file)
        context_file = write_context_file(request)
        if context_file is not None:
            extra["REPOBOX_CONTEXT_FILE"] = str(context_file)
        state = None
        if preset and self.sandbox is not None:
            state = claude_code.config_dir(settings, request.session.id)
            state.mkdir(parents=True, exist_ok=True)
        if preset:
            extra.update(
                claude_code.preset_env(sandboxed=self.sandbox is not None, config_dir=state)
            )
        if preset:
            servers, refused = run_servers(settings, request.mcp_servers)
            more, values, problems = mcp_config(settings, servers, request.workdir)
            self.mcp_problems = [*refused, *problems]
            argv += more
            extra.update(values)
        if self.sandbox is not None:
            argv = self.sandbox.wrap(argv, request.workdir, writable=[state] if state else [])
        env = agent_environment(settings, keep=self.agent.passed_env(), extra=extra)
        return argv, env, prompt

    def events(self, control: RunControl) -> Iterator[ProgressEvent]:
        """The CLI's lines as events; the result and any error are kept for `outcome`."""
        try:
            yield from self._events(control)
        finally:
            remove_prompt_file(self.request)

    def _events(self, control: RunControl) -> Iterator[ProgressEvent]:
        argv, env, prompt = self._launch()
        program = program_of(self.agent.command)
        try:
            process = StreamedProcess(argv, self.request.workdir, env, stdin_text=prompt)
        except OSError as error:
            raise AgentError(
                f"Could not start the agent command `{program}`: {error.strerror or error}"
            ) from None
        held: list[ProgressEvent] = []
        started = ProgressEvent(
            EventKind.STEP,
            f"started `{shlex.join([program])}`" + (" in the sandbox" if self.sandbox else ""),
            data={"pid": process.pgid, "sandboxed": self.sandbox is not None},
        )
        held.append(started)
        held += [ProgressEvent(EventKind.WARNING, f"⚠️ {p}") for p in self.mcp_problems]
        if not self.resume:
            yield from held
            held.clear()
        try:
            for stream, line in process.lines(control):
                for event in [*self._parse(stream, line), *egress_warnings(self.sandbox)]:
                    held.append(event)
                    if not self.resume or self.stream.started:
                        yield from held
                        held.clear()
        except LineTooLong as error:
            raise AgentError(
                f"The agent command printed a line too long to read ({error}); it was stopped."
            ) from None
        held += egress_warnings(self.sandbox)
        self.returncode = process.returncode
        self.stopped = control.should_stop()
        if not self.resume_failed:
            yield from held

    def _parse(self, stream: str, line: str) -> list[ProgressEvent]:
        parsed = self.stream.parse(line) if stream == "stdout" else None
        if parsed is None:
            self.tail.append(line)
            return [ProgressEvent(EventKind.OUTPUT, shown(line), data={"stream": stream})]
        kept = []
        for event in parsed:
            if event.kind is EventKind.RESULT:
                self.result = event
            elif event.kind is EventKind.ERROR:
                self.error = event.text
            else:
                kept.append(event)
        return kept

    def outcome(self, control: RunControl) -> Iterator[ProgressEvent]:
        """The run's RESULT event, or `AgentError` with what went wrong."""
        if self.stopped or control.should_stop():
            return
        if self.error is not None:
            raise AgentError(f"The agent reported an error: {self.error}")
        if self.returncode != 0:
            last = next((line for line in reversed(self.tail) if line.strip()), "")
            detail = f": {shown(last, 300)}" if last else ""
            raise AgentError(f"The agent command exited with code {self.returncode}{detail}")
        # Without a result line (stream-json), the last lines printed stand in for a summary
        # in the reply; they are marked, so the commit subject does not read a random one.
        yield self.result or ProgressEvent(
            EventKind.RESULT, _summary_from(self.tail), data={SUMMARY_FROM: "output"}
        )


def _summary_from(tail: deque[str]) -> str:
    lines = [line for line in tail if line.strip()]
    return "\n".join(shown(line) for line in lines[-3:]) if lines else "The agent finished."
