"""Claude Code's headless stream (`claude -p --output-format stream-json --verbose`) as steps.

Each JSON line becomes a readable progress event: tool calls as steps, prose as text, and
the final `result` line as the run's summary with its cost and tokens.
"""

from __future__ import annotations

import json
from typing import Any

from bot.progress import EventKind, ProgressEvent

PRESET_ARGV = [
    "claude",
    "-p",
    "--output-format",
    "stream-json",
    "--verbose",
    "--permission-mode",
    "acceptEdits",
    "{prompt}",
]


def _short(value: Any, limit: int = 80) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_tool(name: str, args: dict[str, Any]) -> str:
    """A tool call as a person would say it: `read src/app.py`, `ran pytest -q`."""
    path = args.get("file_path") or args.get("path") or args.get("notebook_path")
    match name:
        case "Read":
            return f"read {path}"
        case "Edit" | "MultiEdit" | "NotebookEdit":
            return f"edited {path}"
        case "Write":
            return f"wrote {path}"
        case "Bash":
            return f"ran `{_short(args.get('command', ''))}`"
        case "Grep":
            return f"searched for `{_short(args.get('pattern', ''))}`"
        case "Glob" | "LS":
            return f"listed {_short(args.get('pattern') or path or '.')}"
        case "TodoWrite":
            return "updated the plan"
        case "WebFetch" | "WebSearch":
            return f"looked up {_short(args.get('url') or args.get('query') or '')}"
        case "Task":
            return f"delegated: {_short(args.get('description', ''))}"
        case _:
            return f"used {name}"


def parse_line(line: str) -> list[ProgressEvent] | None:
    """Events for one stream-json line, or None if the line is not Claude Code JSON."""
    stripped = line.strip()
    if not stripped.startswith("{"):
        return None
    try:
        record = json.loads(stripped)
    except json.JSONDecodeError:
        return None
    if not isinstance(record, dict) or "type" not in record:
        return None
    kind = record["type"]
    if kind == "assistant":
        return _assistant(record.get("message") or {})
    if kind == "user":
        return _tool_errors(record.get("message") or {})
    if kind == "result":
        return [_result(record)]
    if kind == "system" and record.get("subtype") == "init":
        return [
            ProgressEvent(EventKind.INFO, f"Claude Code started ({record.get('model', 'model')})")
        ]
    return []


def _assistant(message: dict[str, Any]) -> list[ProgressEvent]:
    events: list[ProgressEvent] = []
    for block in message.get("content") or []:
        if block.get("type") == "text" and block.get("text", "").strip():
            events.append(ProgressEvent(EventKind.TEXT, block["text"].strip()))
        elif block.get("type") == "tool_use":
            args = block.get("input") or {}
            name = str(block.get("name", "tool"))
            events.append(
                ProgressEvent(EventKind.STEP, describe_tool(name, args), data={"tool": name})
            )
    return events


def _tool_errors(message: dict[str, Any]) -> list[ProgressEvent]:
    events = []
    for block in message.get("content") or []:
        if isinstance(block, dict) and block.get("type") == "tool_result" and block.get("is_error"):
            content = block.get("content")
            text = content if isinstance(content, str) else json.dumps(content)
            events.append(
                ProgressEvent(EventKind.OUTPUT, _short(text, 300), data={"stream": "stderr"})
            )
    return events


def _result(record: dict[str, Any]) -> ProgressEvent:
    usage = record.get("usage") or {}
    if record.get("is_error") or record.get("subtype") not in (None, "success"):
        return ProgressEvent(
            EventKind.ERROR, _short(record.get("result") or record.get("subtype"), 500)
        )
    return ProgressEvent(
        EventKind.RESULT,
        str(record.get("result") or "").strip(),
        data={
            "input_tokens": int(usage.get("input_tokens") or 0),
            "output_tokens": int(usage.get("output_tokens") or 0),
            "cache_read_tokens": int(usage.get("cache_read_input_tokens") or 0),
            "cache_write_tokens": int(usage.get("cache_creation_input_tokens") or 0),
            "cost_usd": float(record.get("total_cost_usd") or 0.0),
            "turns": int(record.get("num_turns") or 0),
        },
    )
