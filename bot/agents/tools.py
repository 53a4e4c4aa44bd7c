"""The built-in agent's tools bound to one run: a call in, its outcome and step out.

The inputs are checked first (`bot.agents.tool_inputs`), so a missing or mistyped
argument, unparseable JSON or an unknown tool becomes an error result the model can
correct, never a crash of the run.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict, assert_never

from bot.agents.file_tools import Done, FileTools, ToolFailure
from bot.agents.mcp_hub import PREFIX, McpHub
from bot.agents.run_tool import run_command
from bot.agents.tool_inputs import (
    EditFile,
    FileInput,
    ListFiles,
    ReadFile,
    Run,
    Search,
    WriteFile,
    check_input,
)
from bot.core.config import Settings
from bot.processes.control import RunControl
from bot.security.paths import Confinement
from bot.security.sandbox import Sandbox
from bot.sessions.events import EventKind, ProgressEvent


class StepData(TypedDict, total=False):
    """What a tool's STEP event carries besides its text."""

    tool: str
    error: bool


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    input: dict[str, object]  # as the model sent it: untrusted until checked
    problem: str | None = None  # why the input could not be parsed, if it could not


@dataclass
class ToolOutcome:
    content: str
    is_error: bool
    step: str
    data: StepData


def attempt(call: ToolCall) -> str:
    """A call that failed, as a person would say it: `read .env`, `ran make`."""
    args = call.input
    target = args.get("path") or "."
    match call.name:
        case "list_files":
            return f"list {target}"
        case "read_file" | "write_file" | "edit_file":
            return f"{call.name.removesuffix('_file')} {target}"
        case "search":
            return f"search for `{str(args.get('pattern', ''))[:60]}`"
        case "run":
            return f"run `{' '.join(str(args.get('command', '')).split())[:80]}`"
        case _:
            return f"use {call.name}"


class Toolbox:
    """The tools bound to one run: its workdir, settings, control and sandbox."""

    def __init__(
        self,
        settings: Settings,
        workdir: Path,
        control: RunControl,
        sandbox: Sandbox | None,
        mcp: McpHub | None = None,
    ) -> None:
        self.settings = settings
        self.mcp = mcp
        self.workdir = workdir
        self.control = control
        self.sandbox = sandbox
        self.files = FileTools(Confinement(workdir, settings.secret_file_patterns))

    def call(self, call: ToolCall) -> Generator[ProgressEvent, None, ToolOutcome]:
        """Run one call; progress comes out as events, the result for the model is returned."""
        if self.mcp is not None and self.mcp.handles(call.name):
            return self._mcp_call(call)
        try:
            args = check_input(call.name, call.input, call.problem)
            if isinstance(args, Run):
                done = yield from run_command(
                    self.settings,
                    self.workdir,
                    self.control,
                    self.sandbox,
                    args.command,
                    args.timeout,
                )
            else:
                done = self._file_tool(args)
        except ToolFailure as failure:
            message = str(failure)
            step = f"{attempt(call)} ✗ {message.splitlines()[0]}"
            return ToolOutcome(message, True, step, {"tool": call.name, "error": True})
        data: StepData = {"tool": call.name, **({"error": True} if done.failed else {})}
        return ToolOutcome(done.content, False, done.step, data)

    def _mcp_call(self, call: ToolCall) -> ToolOutcome:
        """An MCP server's tool: the step names the server and the tool."""
        assert self.mcp is not None
        content, is_error = self.mcp.call(call.name, call.input)
        server, _, tool = call.name.removeprefix(PREFIX).partition("__")
        step = f"used `{tool}` of MCP server `{server}`" + (" ✗" if is_error else "")
        data: StepData = {"tool": call.name, **({"error": True} if is_error else {})}
        return ToolOutcome(content, is_error, step, data)

    def _file_tool(self, args: FileInput) -> Done:
        files = self.files
        match args:
            case ListFiles():
                return files.list_files(args.path, args.pattern)
            case ReadFile():
                return files.read_file(args.path, args.offset, args.limit)
            case WriteFile():
                return files.write_file(args.path, args.content)
            case EditFile():
                return files.edit_file(args.path, args.old, args.new)
            case Search():
                return files.search(args.pattern, args.path)
            case _:
                assert_never(args)


def step_event(outcome: ToolOutcome) -> ProgressEvent:
    return ProgressEvent(EventKind.STEP, outcome.step, data=dict(outcome.data))
