"""The built-in agent's six tools: their schemas, input checks and dispatch.

The names and parameters are fixed in DESIGN.md. The model's input is checked here
before any tool runs, so a missing or mistyped argument, unparseable JSON or an unknown
tool becomes an error result the model can correct, never a crash of the run.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anthropic.types import ToolParam

from bot.agents.file_tools import Done, FileTools, ToolFailure
from bot.agents.run_tool import run_command
from bot.core.config import Settings
from bot.processes.control import RunControl
from bot.security.paths import Confinement
from bot.security.sandbox import Sandbox
from bot.sessions.events import EventKind, ProgressEvent

# name -> parameter -> (JSON type, required, description)
Spec = dict[str, tuple[type, bool, str]]
SPECS: dict[str, tuple[str, Spec]] = {
    "list_files": (
        "List files in the repository (recursively; files ignored by .gitignore are left out).",
        {
            "path": (str, False, "Directory or file relative to the repository root (default: .)"),
            "pattern": (str, False, "Glob on the relative path or file name, e.g. *.py"),
        },
    ),
    "read_file": (
        "Read a text file, with line numbers. Long files come in pages of up to 2000 lines.",
        {
            "path": (str, True, "File path relative to the repository root"),
            "offset": (int, False, "First line to read, 1-based (default 1)"),
            "limit": (int, False, "Number of lines to read (default and maximum 2000)"),
        },
    ),
    "write_file": (
        "Create a file or replace its whole content. Prefer edit_file for changes to a file.",
        {
            "path": (str, True, "File path relative to the repository root"),
            "content": (str, True, "The complete new content of the file"),
        },
    ),
    "edit_file": (
        "Replace one exact occurrence of `old` with `new` in a file. `old` must match the "
        "file exactly (whitespace included) and occur exactly once.",
        {
            "path": (str, True, "File path relative to the repository root"),
            "old": (str, True, "The exact text to replace; unique in the file"),
            "new": (str, True, "The replacement text"),
        },
    ),
    "search": (
        "Search file contents with a Python regular expression; answers path:line: text.",
        {
            "pattern": (str, True, "Regular expression"),
            "path": (str, False, "Directory or file to search in (default: the whole repo)"),
        },
    ),
    "run": (
        "Run a shell command (bash -c) in the repository root and get its exit code and "
        "output (long output keeps its head and tail). No secrets are in its environment.",
        {
            "command": (str, True, "The command line, e.g. `pytest -q`"),
            "timeout": (int, False, "Seconds before the command is killed (default 120)"),
        },
    ),
}

_JSON_TYPES = {str: "string", int: "integer"}
_A_TYPE = {str: "a string", int: "an integer"}


def tool_params() -> list[ToolParam]:
    """The tools as the Messages API takes them; the last one carries the cache mark."""
    tools: list[ToolParam] = []
    for name, (description, spec) in SPECS.items():
        properties = {
            arg: {"type": _JSON_TYPES[kind], "description": text}
            for arg, (kind, _required, text) in spec.items()
        }
        required = [arg for arg, (_kind, needed, _text) in spec.items() if needed]
        tools.append(
            {
                "name": name,
                "description": description,
                "input_schema": {"type": "object", "properties": properties, "required": required},
            }
        )
    tools[-1]["cache_control"] = {"type": "ephemeral"}
    return tools


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    input: dict[str, Any]
    problem: str | None = None  # why the input could not be parsed, if it could not


@dataclass
class ToolOutcome:
    content: str
    is_error: bool
    step: str
    data: dict[str, Any] = field(default_factory=dict)


def check_input(call: ToolCall) -> dict[str, Any]:
    """The call's arguments, checked against its spec, or `ToolFailure` saying what is wrong."""
    if call.name not in SPECS:
        raise ToolFailure(f"There is no tool `{call.name}`; the tools are {', '.join(SPECS)}.")
    if call.problem:
        raise ToolFailure(f"The input for {call.name} was not valid JSON ({call.problem}).")
    spec = SPECS[call.name][1]
    unknown = sorted(set(call.input) - set(spec))
    if unknown:
        raise ToolFailure(f"{call.name} has no parameter {', '.join(unknown)}.")
    args: dict[str, Any] = {}
    for arg, (kind, required, _text) in spec.items():
        value = call.input.get(arg)
        if value is None:
            if required:
                raise ToolFailure(f"{call.name} needs `{arg}` ({_JSON_TYPES[kind]}).")
            continue
        if kind is int and isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ToolFailure(f"`{arg}` of {call.name} must be {_A_TYPE[kind]}.")
        args[arg] = value
    return args


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
        self, settings: Settings, workdir: Path, control: RunControl, sandbox: Sandbox | None
    ) -> None:
        self.settings = settings
        self.workdir = workdir
        self.control = control
        self.sandbox = sandbox
        self.files = FileTools(Confinement(workdir, settings.secret_file_patterns))

    def call(self, call: ToolCall) -> Generator[ProgressEvent, None, ToolOutcome]:
        """Run one call; progress comes out as events, the result for the model is returned."""
        try:
            args = check_input(call)
            if call.name == "run":
                done = yield from run_command(
                    self.settings, self.workdir, self.control, self.sandbox, **args
                )
            else:
                done = self._file_tool(call.name, args)
        except ToolFailure as failure:
            message = str(failure)
            step = f"{attempt(call)} ✗ {message.splitlines()[0]}"
            return ToolOutcome(message, True, step, {"tool": call.name, "error": True})
        return ToolOutcome(done.content, False, done.step, {"tool": call.name})

    def _file_tool(self, name: str, args: dict[str, Any]) -> Done:
        method = getattr(self.files, name)
        result: Done = method(**args)
        return result


def step_event(outcome: ToolOutcome) -> ProgressEvent:
    return ProgressEvent(EventKind.STEP, outcome.step, data=outcome.data)
