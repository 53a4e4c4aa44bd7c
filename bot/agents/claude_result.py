"""The end of a Claude Code run: its `result` line as refusals, usage, and the summary.

Refused tool calls (`permission_denials`) become notes that say why (outside the sandbox:
`acceptEdits`); the turns, the durations and the tokens and cost of each model
(`modelUsage`) become one line; then the RESULT, whose data the surfaces show (tokens,
cost), or the ERROR, with a hint when the API refused the key.
"""

from __future__ import annotations

from typing import Any

from bot.agents.claude_tools import describe_tool, short
from bot.sessions.events import EventKind, ProgressEvent

Record = dict[str, Any]
AUTH_HINTS = {
    401: "the API key was refused: check ANTHROPIC_API_KEY",
    403: "the API key may not use this model or organisation",
}
ACCEPT_EDITS_HINT = (
    "outside the sandbox Claude Code runs with acceptEdits, which refuses commands that "
    "are not read-only; run Repobox with bubblewrap, or allow the tool in REPOBOX_CLAUDE_ARGS"
)


def event(kind: EventKind, text: str, **data: Any) -> ProgressEvent:
    return ProgressEvent(kind, text, data=data)


def seconds(ms: Any) -> str:
    return f"{float(ms or 0) / 1000:.1f} s"


def auth_hint(status: Any) -> str | None:
    return AUTH_HINTS.get(status) if isinstance(status, int) else None


def result_events(record: Record, permission_mode: str) -> list[ProgressEvent]:
    """Refused tool calls, the usage line, then the RESULT (or the ERROR) of a run."""
    denials = [d for d in record.get("permission_denials") or [] if isinstance(d, dict)]
    events = [_denied(d, permission_mode) for d in denials]
    models = _models(record.get("modelUsage") or {})
    events.append(event(EventKind.INFO, _usage_line(record, models)))
    if record.get("is_error") or record.get("subtype") not in (None, "success"):
        events.append(event(EventKind.ERROR, _failure(record)))
        return events
    usage = record.get("usage") or {}
    data: dict[str, Any] = {
        "input_tokens": int(usage.get("input_tokens") or 0),
        "output_tokens": int(usage.get("output_tokens") or 0),
        "cache_read_tokens": int(usage.get("cache_read_input_tokens") or 0),
        "cache_write_tokens": int(usage.get("cache_creation_input_tokens") or 0),
        "cost_usd": float(record.get("total_cost_usd") or 0.0),
        "turns": int(record.get("num_turns") or 0),
    }
    if "duration_ms" in record:
        data["agent_duration_s"] = round(float(record.get("duration_ms") or 0) / 1000, 2)
        data["api_duration_s"] = round(float(record.get("duration_api_ms") or 0) / 1000, 2)
    if models:
        data["models"] = models
    if denials:
        data["permission_denials"] = len(denials)
    text = str(record.get("result") or "").strip()
    events.append(ProgressEvent(EventKind.RESULT, text, data=data))
    return events


def _denied(denial: Record, permission_mode: str) -> ProgressEvent:
    args = denial.get("tool_input")
    what = describe_tool(
        str(denial.get("tool_name", "tool")), args if isinstance(args, dict) else {}
    )
    hint = f" ({ACCEPT_EDITS_HINT})" if permission_mode == "acceptEdits" else ""
    return event(EventKind.WARNING, f"Claude Code was not allowed: {what}{hint}")


def _usage_line(record: Record, models: dict[str, dict[str, Any]]) -> str:
    turns = int(record.get("num_turns") or 0)
    head = (
        f"{turns} turn{'s' if turns != 1 else ''} in {seconds(record.get('duration_ms'))} "
        f"(API {seconds(record.get('duration_api_ms'))})"
    )
    per_model = [
        f"{name}: {m['input_tokens']:,} in, {m['output_tokens']:,} out, "
        f"{m['cache_read_tokens']:,} cache reads, ${m['cost_usd']:.4f}"
        for name, m in models.items()
    ]
    return "; ".join([head, *per_model])


def _models(usage: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`modelUsage` (camelCase, per model) in Repobox's own names."""
    found = {}
    for name, figures in usage.items():
        if not isinstance(figures, dict):
            continue
        found[str(name)] = {
            "input_tokens": int(figures.get("inputTokens") or 0),
            "output_tokens": int(figures.get("outputTokens") or 0),
            "cache_read_tokens": int(figures.get("cacheReadInputTokens") or 0),
            "cache_write_tokens": int(figures.get("cacheCreationInputTokens") or 0),
            "cost_usd": round(float(figures.get("costUSD") or 0.0), 6),
        }
    return found


def _failure(record: Record) -> str:
    errors = [str(e) for e in record.get("errors") or [] if e]
    text = str(record.get("result") or "").strip() or "; ".join(errors)
    text = short(text or str(record.get("subtype") or "error").replace("_", " "), 500)
    hint = auth_hint(record.get("api_error_status"))
    return f"{text} (hint: {hint})" if hint else text
