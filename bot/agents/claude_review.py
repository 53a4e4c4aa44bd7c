"""The Claude Code preset as a reviewer: Claude Code headless, read-only, findings as JSON.

Why a run of its own and not the preset's prompt run: a review must not change the
checkout, and what the pull request contains must not change how it is reviewed. So:

- only `Read`, `Grep` and `Glob` are offered (`--tools`), allowed without asking, and
  everything that edits or runs is denied (`--disallowedTools`) under `dontAsk`, which
  refuses whatever is not allowed;
- `--bare` skips what the checkout could bring along: its CLAUDE.md (the rules come from
  the base branch, in the appended system prompt), hooks, plugins; `--strict-mcp-config`
  with no servers ignores its `.mcp.json`; `REPOBOX_CLAUDE_ARGS` is not used, since it may
  allow tools (only its `--model` is kept);
- the findings come back as structured output (`--json-schema`: Claude Code offers a
  `StructuredOutput` tool and validates the call), read from the `result` line's
  `structured_output` and checked again here like `report_finding`'s input. Anything
  unreadable stops the review with a clear error: nothing is posted from it.

The task (title, description, diff) comes on stdin; the rules in a file under `.git`.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.agents import claude_code
from bot.agents.anthropic import Tally
from bot.agents.claude_stream import ClaudeStream
from bot.agents.file_tools import ToolFailure
from bot.agents.findings import FINDING_TOOL, Finding, check_finding
from bot.agents.review_agent import MAX_FINDINGS, ReviewOutcome, ReviewRequest
from bot.core.config import Settings
from bot.core.errors import AgentError
from bot.processes.control import RunControl
from bot.processes.streamed import LineTooLong, StreamedProcess, shown
from bot.security.egress import confined, run_hosts
from bot.security.environment import agent_environment
from bot.security.sandbox import Sandbox
from bot.sessions.events import EventKind, ProgressEvent

READ_ONLY_TOOLS = "Read,Grep,Glob"
DENIED_TOOLS = "Bash,Edit,Write,MultiEdit,NotebookEdit,WebFetch,WebSearch,Task"
PERMISSION_MODE = "dontAsk"
UNREADABLE = "Claude Code's findings could not be read ({why}), so no review was posted."

_ITEM = {**FINDING_TOOL["input_schema"], "additionalProperties": False}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "description": "Two or three sentences on the change"},
        "findings": {"type": "array", "maxItems": MAX_FINDINGS, "items": _ITEM},
    },
    "required": ["summary", "findings"],
    "additionalProperties": False,
}

HOW = """\
In this run you have no `report_finding` or `read_diff` tool. When you are done, call the
StructuredOutput tool once with `summary` (two or three sentences on the change as a whole)
and `findings`: every problem, each with the fields report_finding takes (path, line,
optional start_line, severity, message, optional replacement)."""


class _Output(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    summary: str = Field(max_length=20_000)
    findings: list[dict[str, object]] = Field(max_length=MAX_FINDINGS)


def model_of(settings: Settings) -> str | None:
    """`--model` from REPOBOX_CLAUDE_ARGS, the one flag of it a review keeps."""
    words = shlex.split(settings.claude_args)
    for i, word in enumerate(words):
        if word == "--model" and i + 1 < len(words):
            return words[i + 1]
        if word.startswith("--model="):
            return word.split("=", 1)[1]
    return None


def review_argv(settings: Settings, rules_file: Path) -> list[str]:
    """The command line; the task is not in it (it comes on stdin)."""
    argv = [
        claude_code.PROGRAM, *claude_code.HEADLESS, "--bare",
        "--permission-mode", PERMISSION_MODE,
        "--tools", READ_ONLY_TOOLS, "--allowedTools", READ_ONLY_TOOLS,
        "--disallowedTools", DENIED_TOOLS,
        "--strict-mcp-config", "--no-session-persistence",
        "--append-system-prompt-file", str(rules_file),
        "--json-schema", json.dumps(SCHEMA),
    ]  # fmt: skip
    model = model_of(settings)
    return [*argv, "--model", model] if model else argv


def findings_of(structured: object) -> tuple[list[Finding], str]:
    """The structured output as findings and a summary, or `AgentError` saying why not."""
    try:
        output = _Output.model_validate(structured)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "output"
        raise AgentError(UNREADABLE.format(why=f"`{where}`: {first['msg']}")) from None
    findings = []
    for number, raw in enumerate(output.findings, start=1):
        try:
            findings.append(check_finding(raw, None))
        except ToolFailure as failure:
            raise AgentError(UNREADABLE.format(why=f"finding {number}: {failure}")) from None
    return findings, output.summary.strip()


class ClaudeReviewer:
    """Same contract as `ReviewAgent.review`: progress as events, the findings returned."""

    name = "claude-code-review"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def review(
        self, request: ReviewRequest, control: RunControl
    ) -> Generator[ProgressEvent, None, ReviewOutcome]:
        keep = self.settings.agent_pass_env
        passed = agent_environment(self.settings, keep=keep or claude_code.PASSED_ENV)
        hosts = run_hosts(
            self.settings, external_agent=True, model_url=passed.get("ANTHROPIC_BASE_URL")
        )
        with confined(self.settings, hosts) as sandbox:
            return (yield from self._run(request, control, sandbox))

    def _run(
        self, request: ReviewRequest, control: RunControl, sandbox: Sandbox | None
    ) -> Generator[ProgressEvent, None, ReviewOutcome]:
        rules_file, task = _write_inputs(request)
        argv = review_argv(self.settings, rules_file)
        if sandbox is not None:
            argv = sandbox.wrap(argv, request.workdir)
        keep = self.settings.agent_pass_env or claude_code.PASSED_ENV
        extra = claude_code.preset_env(sandboxed=sandbox is not None, config_dir=None)
        env = agent_environment(self.settings, keep=keep, extra=extra)
        try:
            process = StreamedProcess(argv, request.workdir, env, stdin_text=task)
        except OSError as error:
            raise AgentError(f"Could not start `claude`: {error.strerror or error}") from None
        where = " in the sandbox" if sandbox is not None else ""
        yield ProgressEvent(EventKind.STEP, f"started `claude` (read-only review){where}")
        read = yield from _read(process, control)
        if control.should_stop():
            raise AgentError("The review was stopped before it finished.")
        if read.error is not None:
            raise AgentError(f"Claude Code reported an error: {read.error}")
        if process.returncode != 0 or read.result is None:
            last = next((t for t in reversed(read.tail) if t.strip()), "")
            raise AgentError(
                f"Claude Code exited with code {process.returncode}"
                + (f": {shown(last, 300)}" if last else "")
            )
        findings, summary = findings_of(read.result.get("structured_output"))
        return ReviewOutcome(findings, summary, _tally(self.settings, read.figures))


@dataclass
class _Read:
    result: dict[str, Any] | None = None  # the `result` line, as it came
    figures: dict[str, Any] = field(default_factory=dict)  # its tokens and cost, as read
    error: str | None = None
    tail: list[str] = field(default_factory=list)  # the last lines that were not JSON


def _read(process: StreamedProcess, control: RunControl) -> Generator[ProgressEvent, None, _Read]:
    """Claude Code's lines as progress (as for a prompt's run); the result kept aside."""
    stream, read = ClaudeStream(), _Read()
    try:
        for channel, line in process.lines(control):
            parsed = stream.parse(line) if channel == "stdout" else None
            if parsed is None:
                read.tail = [*read.tail[-4:], line]
                continue
            record = json.loads(line)
            if record.get("type") == "result":
                read.result = record
            for event in parsed:
                if event.kind is EventKind.ERROR:
                    read.error = event.text
                elif event.kind is EventKind.RESULT:
                    read.figures = dict(event.data)
                else:
                    yield event
    except LineTooLong as too_long:
        raise AgentError(f"Claude Code printed a line too long to read ({too_long}).") from None
    return read


def _write_inputs(request: ReviewRequest) -> tuple[Path, str]:
    """The rules file (under `.git`, never committed, read-only in the sandbox) and the
    task; the diffs of outlined files are files there too, opened with Read."""
    folder = request.workdir / ".git" / "repobox"
    folder.mkdir(parents=True, exist_ok=True)
    rules_file = folder / "review-rules.md"
    rules_file.write_text(f"{request.rules}\n\n{HOW}\n", encoding="utf-8")
    task = request.task
    if request.diffs:
        listed = []
        for number, (path, text) in enumerate(request.diffs.items(), start=1):
            diff_file = folder / f"diff-{number}.diff"
            diff_file.write_text(text, encoding="utf-8")
            listed.append(f"- {path}: {diff_file}")
        task += "\n\nread_diff is not available here; each file's diff is in:\n" + "\n".join(listed)
    return rules_file, task


def _tally(settings: Settings, data: dict[str, Any]) -> Tally:
    models = data.get("models") or {}
    tally = Tally(next(iter(models), None) or model_of(settings) or "claude-code")
    tally.turns = int(data.get("turns", 0))
    tally.input_tokens = int(data.get("input_tokens", 0))
    tally.output_tokens = int(data.get("output_tokens", 0))
    tally.cache_read_tokens = int(data.get("cache_read_tokens", 0))
    tally.cache_write_tokens = int(data.get("cache_write_tokens", 0))
    tally.cost_usd = float(data.get("cost_usd", 0.0))
    return tally
