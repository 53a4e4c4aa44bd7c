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
from typing import Any

from bot.agents.claude_result import auth_hint, event, result_events, seconds
from bot.agents.claude_tools import arguments, describe_tool, short
from bot.sessions.events import EventKind, ProgressEvent

Record = dict[str, Any]
QUIET_KEYS = {"type", "subtype", "uuid", "session_id", "parent_tool_use_id"}


def _output(text: str, stderr: bool = False, **data: Any) -> ProgressEvent:
    return event(EventKind.OUTPUT, text, stream="stderr" if stderr else "stdout", **data)


def _content_text(content: Any) -> str:
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
    def _nest(self, parent: Any, text: str) -> str:
        if not parent:
            return text
        return f"↳ {short(self.agents.get(str(parent), 'sub-agent'), 50)}: {text}"

    def _unknown(self, record: Record) -> list[ProgressEvent]:
        kind = "/".join(str(record[k]) for k in ("type", "subtype") if record.get(k))
        flat: dict[str, Any] = {}
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
        subtype = record.get("subtype")
        if subtype == "init":
            return [self._init(record)]
        if subtype == "api_retry":
            return [self._retry(record)]
        if subtype == "task_started":
            return [self._task_started(record)]
        if subtype == "task_progress":
            return [self._task_progress(record)]
        if subtype == "task_updated":
            name = self.tasks.get(str(record.get("task_id")), "task")
            patch = record.get("patch") or {}
            change = patch.get("status") or arguments(patch) or "updated"
            return [_output(f"↳ {short(name, 50)}: {change}")]
        if subtype == "task_notification":
            return [self._task_done(record)]
        if subtype == "permission_denied":
            what = describe_tool(str(record.get("tool_name", "tool")), {})
            reason = record.get("message") or record.get("decision_reason") or "denied"
            return [_output(f"not allowed: {what} ({short(reason, 200)})", stderr=True)]
        if subtype == "compact_boundary":
            meta = record.get("compact_metadata") or {}
            return [
                event(EventKind.INFO, f"Claude Code compacted the conversation ({arguments(meta)})")
            ]
        return self._unknown(record)

    def _init(self, record: Record) -> ProgressEvent:
        self.started = True
        self.conversation = record.get("session_id") or self.conversation
        self.permission_mode = str(record.get("permissionMode") or "")
        version = record.get("claude_code_version")
        details = [str(record.get("model") or "model")]
        if self.permission_mode:
            details.append(f"permissions: {self.permission_mode}")
        name = f"Claude Code {version}" if version else "Claude Code"
        return event(
            EventKind.INFO,
            f"{name} started ({', '.join(details)})",
            conversation=self.conversation,
        )

    def _retry(self, record: Record) -> ProgressEvent:
        status = record.get("error_status")
        error = record.get("error") or "error"
        attempt, most = record.get("attempt", "?"), record.get("max_retries", "?")
        text = (
            f"API error {status or ''} ({error}); retry {attempt} of {most} in "
            f"{seconds(record.get('retry_delay_ms'))}"
        ).replace("error  (", "error (")
        hint = auth_hint(status)
        return event(EventKind.INFO, f"{text}. Hint: {hint}" if hint else text, retry=attempt)

    def _task_started(self, record: Record) -> ProgressEvent:
        description = str(record.get("description") or record.get("task_type") or "task")
        self.tasks[str(record.get("task_id"))] = description
        owner = str(record.get("tool_use_id") or "")
        if owner in self.agents:
            return _output(f"↳ {short(self.agents[owner], 50)}: started")
        return event(EventKind.STEP, f"started a background task: {short(description)}")

    def _task_progress(self, record: Record) -> ProgressEvent:
        usage = record.get("usage") or {}
        name = self.agents.get(
            str(record.get("tool_use_id")), self.tasks.get(str(record.get("task_id")), "task")
        )
        doing = short(record.get("description") or record.get("last_tool_name") or "working", 80)
        uses = int(usage.get("tool_uses") or 0)
        return _output(
            f"↳ {short(name, 50)}: {doing} ({uses} tool use{'s' if uses != 1 else ''} so far)"
        )

    def _task_done(self, record: Record) -> ProgressEvent:
        usage = record.get("usage") or {}
        name = self.tasks.get(str(record.get("task_id")), str(record.get("summary") or "task"))
        uses = int(usage.get("tool_uses") or 0)
        figures = [
            f"{uses} tool use{'s' if uses != 1 else ''}",
            f"{int(usage.get('total_tokens') or 0):,} tokens",
            seconds(usage.get("duration_ms")),
        ]
        status = record.get("status") or "finished"
        return event(EventKind.STEP, f"↳ {short(name, 50)}: {status} ({', '.join(figures)})")

    # -- messages -----------------------------------------------------------------------
    def _assistant(self, record: Record) -> list[ProgressEvent]:
        parent = record.get("parent_tool_use_id")
        message = record.get("message") or {}
        synthetic = bool(record.get("error")) or message.get("model") == "<synthetic>"
        events: list[ProgressEvent] = []
        for block in message.get("content") or []:
            kind = block.get("type") if isinstance(block, dict) else None
            if kind == "text" and str(block.get("text", "")).strip():
                text = self._nest(parent, str(block["text"]).strip())
                events.append(
                    _output(text, stderr=True) if synthetic else event(EventKind.TEXT, text)
                )
            elif kind in ("tool_use", "server_tool_use"):
                events.append(self._tool_use(block, parent))
            elif kind in ("thinking", "redacted_thinking"):
                thought = _first_line(str(block.get("thinking") or "…"), 160)
                events.append(_output(self._nest(parent, f"thinking: {thought}")))
            elif isinstance(block, dict) and kind != "text":
                events.append(
                    _output(self._nest(parent, f"Claude Code {kind}: {arguments(block)}"))
                )
        return events

    def _tool_use(self, block: Record, parent: Any) -> ProgressEvent:
        name, args = str(block.get("name", "tool")), block.get("input") or {}
        if name in ("Agent", "Task"):
            self.agents[str(block.get("id"))] = str(args.get("description") or "sub-agent")
        text = self._nest(parent, describe_tool(name, args if isinstance(args, dict) else {}))
        return event(EventKind.STEP, text, tool=name, **({"parent": parent} if parent else {}))

    def _user(self, record: Record) -> list[ProgressEvent]:
        """Tool results, and words put to Claude (a sub-agent's brief, a replayed prompt)."""
        parent = record.get("parent_tool_use_id")
        content = (record.get("message") or {}).get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        events = []
        for block in blocks if isinstance(blocks, list) else []:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "tool_result":
                text = _content_text(block.get("content"))
                if block.get("is_error"):
                    events.append(_output(self._nest(parent, short(text, 300)), stderr=True))
                else:
                    events.append(_output(self._nest(parent, f"→ {_first_line(text)}")))
            elif kind == "text" and str(block.get("text", "")).strip():
                said = _first_line(str(block["text"]))
                events.append(_output(self._nest(parent, f"asked: {said}")))
            else:
                events.append(_output(self._nest(parent, f"Claude Code user/{kind}")))
        return events

    # -- the end ------------------------------------------------------------------------
    def _result(self, record: Record) -> list[ProgressEvent]:
        self.conversation = record.get("session_id") or self.conversation
        return result_events(record, self.permission_mode)


def parse_line(line: str) -> list[ProgressEvent] | None:
    """One line on its own (no nesting across lines): for tests and one-off use."""
    return ClaudeStream().parse(line)
