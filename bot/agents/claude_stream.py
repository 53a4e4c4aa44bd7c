"""Claude Code's stream-json lines as progress events people can read.

Everything the CLI says is rendered; nothing reaches a thread as raw JSON:

- `system/init`: "Claude Code 2.1.197 started (model, permissions: mode)"; its
  `session_id` is the conversation a later prompt resumes (`data.conversation`);
- `system/api_retry`: the error, the attempt and the wait, with a hint on 401/403;
- `system/task_*`: sub-agents and background tasks, nested under the step that
  started them (`↳ description: …`), as are the sub-agent's own calls and prose, found
  through `parent_tool_use_id`;
- `assistant`: prose as text, tool calls as steps (`bot.agents.claude_tools`);
- `user`: tool results as output lines (the first line; errors in full, up to 300
  characters);
- `result`: permission denials, usage per model and the durations, then the run's
  summary (or its error);
- anything else (a new event type or subtype, `rate_limit_event`): one readable
  line, `Claude Code <type>/<subtype>: key=value, …`. Only `stream_event`, the partial
  messages `--include-partial-messages` adds, is skipped: the whole message follows.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from bot.agents.claude_lines import (
    ApiRetry,
    Block,
    CompactBoundary,
    Init,
    Message,
    PermissionDenied,
    Record,
    Result,
    Said,
    Task,
    TaskUsage,
    blocks,
)
from bot.agents.claude_result import auth_hint, event, result_events, seconds
from bot.agents.claude_tools import arguments, describe_tool
from bot.agents.text import short
from bot.sessions.events import EventKind, ProgressEvent

QUIET_KEYS = {"type", "subtype", "uuid", "session_id", "parent_tool_use_id"}


def _output(text: str, stderr: bool = False, **data: object) -> ProgressEvent:
    return event(EventKind.OUTPUT, text, stream="stderr" if stderr else "stdout", **data)


def _content_text(content: object) -> str:
    """A tool result's or message's content (a string or a list of blocks) as text."""
    if isinstance(content, str):
        return content
    parts = []
    for block in content if isinstance(content, list) else []:
        if isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        elif isinstance(block, dict):
            parts.append(f"[{block.get('type', 'block')}]")
    return "\n".join(parts)


def _first_line(text: str, limit: int = 200) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "(no output)"
    more = f" (+{len(lines) - 1} lines)" if len(lines) > 1 else ""
    return short(lines[0], limit) + more


def _tool_uses(usage: TaskUsage | None) -> str:
    uses = usage.tool_uses or 0 if usage is not None else 0
    return f"{uses} tool use{'s' if uses != 1 else ''}"


class ClaudeStream:
    """Parses one run's lines; remembers sub-agents and tasks so their events nest."""

    def __init__(self) -> None:
        self.agents: dict[str, str] = {}  # Agent tool_use id -> its description
        self.tasks: dict[str, str] = {}  # task id -> description
        self.conversation: str | None = None
        self.permission_mode = ""
        self.started = False  # an `init` line came: the conversation (or its resume) began

    def parse(self, line: str) -> list[ProgressEvent] | None:
        """Events for one line, or None when it is not a Claude Code JSON line."""
        stripped = line.strip()
        if not stripped.startswith("{"):
            return None
        try:
            record = json.loads(stripped)
        except json.JSONDecodeError:
            return None
        if not isinstance(record, dict) or not isinstance(record.get("type"), str):
            return None
        handlers: dict[str, Callable[[Record], list[ProgressEvent]]] = {
            "system": self._system,
            "assistant": self._assistant,
            "user": self._user,
            "result": self._result,
            "stream_event": lambda record: [],
        }
        return handlers.get(record["type"], self._unknown)(record)

    # -- helpers ------------------------------------------------------------------------
    def _nest(self, parent: object, text: str) -> str:
        if not parent:
            return text
        return f"↳ {short(self.agents.get(str(parent), 'sub-agent'), 50)}: {text}"

    def _unknown(self, record: Record) -> list[ProgressEvent]:
        kind = "/".join(str(record[k]) for k in ("type", "subtype") if record.get(k))
        flat: Record = {}
        for key, value in record.items():
            if key in QUIET_KEYS:
                continue
            if isinstance(value, dict):
                flat.update(value)  # one level down: `rate_limit_info.status` → `status`
            else:
                flat[key] = value
        detail = arguments(flat)
        text = f"Claude Code {kind}: {detail}" if detail else f"Claude Code {kind}"
        return [_output(self._nest(record.get("parent_tool_use_id"), text))]

    # -- system -------------------------------------------------------------------------
    def _system(self, record: Record) -> list[ProgressEvent]:
        handlers: dict[str, Callable[[Record], ProgressEvent]] = {
            "init": self._init,
            "api_retry": self._retry,
            "task_started": self._task_started,
            "task_progress": self._task_progress,
            "task_updated": self._task_updated,
            "task_notification": self._task_done,
            "permission_denied": self._denied,
            "compact_boundary": self._compacted,
        }
        subtype = record.get("subtype")
        handler = handlers.get(subtype) if isinstance(subtype, str) else None
        return [handler(record)] if handler is not None else self._unknown(record)

    def _init(self, record: Record) -> ProgressEvent:
        line = Init.model_validate(record)
        self.started = True
        self.conversation = line.session_id or self.conversation
        self.permission_mode = line.permission_mode or ""
        version = line.claude_code_version
        details = [line.model or "model"]
        if self.permission_mode:
            details.append(f"permissions: {self.permission_mode}")
        name = f"Claude Code {version}" if version else "Claude Code"
        return event(
            EventKind.INFO,
            f"{name} started ({', '.join(details)})",
            conversation=self.conversation,
        )

    def _retry(self, record: Record) -> ProgressEvent:
        line = ApiRetry.model_validate(record)
        status = line.error_status
        attempt = "?" if line.attempt is None else line.attempt
        most = "?" if line.max_retries is None else line.max_retries
        text = (
            f"API error {status or ''} ({line.error or 'error'}); retry {attempt} of {most} in "
            f"{seconds(line.retry_delay_ms)}"
        ).replace("error  (", "error (")
        hint = auth_hint(status)
        return event(EventKind.INFO, f"{text}. Hint: {hint}" if hint else text, retry=attempt)

    def _task_started(self, record: Record) -> ProgressEvent:
        task = Task.model_validate(record)
        description = task.description or task.task_type or "task"
        self.tasks[str(task.task_id)] = description
        owner = task.tool_use_id or ""
        if owner in self.agents:
            return _output(f"↳ {short(self.agents[owner], 50)}: started")
        return event(EventKind.STEP, f"started a background task: {short(description)}")

    def _task_progress(self, record: Record) -> ProgressEvent:
        task = Task.model_validate(record)
        name = self.agents.get(str(task.tool_use_id), self.tasks.get(str(task.task_id), "task"))
        doing = short(task.description or task.last_tool_name or "working", 80)
        return _output(f"↳ {short(name, 50)}: {doing} ({_tool_uses(task.usage)} so far)")

    def _task_updated(self, record: Record) -> ProgressEvent:
        task = Task.model_validate(record)
        name = self.tasks.get(str(task.task_id), "task")
        patch = task.patch or {}
        change = patch.get("status") or arguments(patch) or "updated"
        return _output(f"↳ {short(name, 50)}: {change}")

    def _task_done(self, record: Record) -> ProgressEvent:
        task = Task.model_validate(record)
        usage = task.usage or TaskUsage()
        name = self.tasks.get(str(task.task_id), task.summary or "task")
        figures = [
            _tool_uses(usage),
            f"{usage.total_tokens or 0:,} tokens",
            seconds(usage.duration_ms),
        ]
        status = task.status or "finished"
        return event(EventKind.STEP, f"↳ {short(name, 50)}: {status} ({', '.join(figures)})")

    def _denied(self, record: Record) -> ProgressEvent:
        denied = PermissionDenied.model_validate(record)
        what = describe_tool(denied.tool_name or "tool", {})
        reason = denied.message or denied.decision_reason or "denied"
        return _output(f"not allowed: {what} ({short(reason, 200)})", stderr=True)

    def _compacted(self, record: Record) -> ProgressEvent:
        meta = CompactBoundary.model_validate(record).compact_metadata or {}
        return event(EventKind.INFO, f"Claude Code compacted the conversation ({arguments(meta)})")

    # -- messages -----------------------------------------------------------------------
    def _assistant(self, record: Record) -> list[ProgressEvent]:
        said = Said.model_validate(record)
        parent, message = said.parent_tool_use_id, said.message or Message()
        synthetic = bool(said.error) or message.model == "<synthetic>"
        events: list[ProgressEvent] = []
        for raw, block in blocks(message.content):
            kind = block.type
            if kind == "text" and (block.text or "").strip():
                text = self._nest(parent, (block.text or "").strip())
                events.append(
                    _output(text, stderr=True) if synthetic else event(EventKind.TEXT, text)
                )
            elif kind in ("tool_use", "server_tool_use"):
                events.append(self._tool_use(block, parent))
            elif kind in ("thinking", "redacted_thinking"):
                thought = _first_line(block.thinking or "…", 160)
                events.append(_output(self._nest(parent, f"thinking: {thought}")))
            elif kind != "text":
                events.append(_output(self._nest(parent, f"Claude Code {kind}: {arguments(raw)}")))
        return events

    def _tool_use(self, block: Block, parent: str | None) -> ProgressEvent:
        name, args = block.name or "tool", block.input or {}
        if name in ("Agent", "Task"):
            self.agents[str(block.id)] = str(args.get("description") or "sub-agent")
        text = self._nest(parent, describe_tool(name, args))
        return event(EventKind.STEP, text, tool=name, **({"parent": parent} if parent else {}))

    def _user(self, record: Record) -> list[ProgressEvent]:
        """Tool results, and words put to Claude (a sub-agent's brief, a replayed prompt)."""
        said = Said.model_validate(record)
        parent = said.parent_tool_use_id
        content = (said.message or Message()).content
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        events = []
        for _raw, block in blocks(content):
            if block.type == "tool_result":
                text = _content_text(block.content)
                if block.is_error:  # `error`: the step it answers failed (an error card)
                    text = self._nest(parent, short(text, 300))
                    events.append(_output(text, stderr=True, error=True))
                else:
                    events.append(_output(self._nest(parent, f"→ {_first_line(text)}")))
            elif block.type == "text" and (block.text or "").strip():
                said_text = _first_line(block.text or "")
                events.append(_output(self._nest(parent, f"asked: {said_text}")))
            else:
                events.append(_output(self._nest(parent, f"Claude Code user/{block.type}")))
        return events

    # -- the end ------------------------------------------------------------------------
    def _result(self, record: Record) -> list[ProgressEvent]:
        result = Result.model_validate(record)
        self.conversation = result.session_id or self.conversation
        return result_events(result, self.permission_mode)


def parse_line(line: str) -> list[ProgressEvent] | None:
    """One line on its own (no nesting across lines): for tests and one-off use."""
    return ClaudeStream().parse(line)
