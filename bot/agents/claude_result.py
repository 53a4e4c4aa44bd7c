"""The end of a Claude Code run: its `result` line as refusals, usage, and the summary.

Refused tool calls (`permission_denials`) become notes that say why (outside the sandbox:
`acceptEdits`); the turns, the durations and the tokens and cost of each model
(`modelUsage`) become one line; then the RESULT, whose data the surfaces show (tokens,
cost), or the ERROR, with a hint when the API refused the key.
"""

from __future__ import annotations

from bot.agents.base import Figures, Tokens
from bot.agents.claude_lines import Denial, ModelUsage, Result, ResultUsage
from bot.agents.claude_tools import describe_tool
from bot.agents.text import short
from bot.sessions.events import EventKind, ProgressEvent

AUTH_HINTS = {
    401: "the API key was refused: check ANTHROPIC_API_KEY",
    403: "the API key may not use this model or organisation",
}
ACCEPT_EDITS_HINT = (
    "outside the sandbox Claude Code runs with acceptEdits, which refuses commands that "
    "are not read-only; run Repobox with bubblewrap, or allow the tool in REPOBOX_CLAUDE_ARGS"
)


def event(kind: EventKind, text: str, **data: object) -> ProgressEvent:
    return ProgressEvent(kind, text, data=data)


def seconds(ms: float | None) -> str:
    return f"{(ms or 0) / 1000:.1f} s"


def auth_hint(status: int | None) -> str | None:
    return AUTH_HINTS.get(status) if status is not None else None


def result_events(result: Result, permission_mode: str) -> list[ProgressEvent]:
    """Refused tool calls, the usage line, then the RESULT (or the ERROR) of a run."""
    denials = result.permission_denials or []
    events = [_denied(d, permission_mode) for d in denials]
    models = _models(result.per_model or {})
    events.append(event(EventKind.INFO, _usage_line(result, models)))
    if result.is_error or result.subtype not in (None, "success"):
        events.append(event(EventKind.ERROR, _failure(result)))
        return events
    usage = result.usage or ResultUsage()
    data: Figures = {
        "input_tokens": usage.input_tokens or 0,
        "output_tokens": usage.output_tokens or 0,
        "cache_read_tokens": usage.cache_read_input_tokens or 0,
        "cache_write_tokens": usage.cache_creation_input_tokens or 0,
        "cost_usd": result.total_cost_usd or 0.0,
        "turns": result.num_turns or 0,
    }
    if "duration_ms" in result.model_fields_set:
        data["agent_duration_s"] = round((result.duration_ms or 0) / 1000, 2)
        data["api_duration_s"] = round((result.duration_api_ms or 0) / 1000, 2)
    if models:
        data["models"] = models
    if denials:
        data["permission_denials"] = len(denials)
    text = (result.result or "").strip()
    events.append(ProgressEvent(EventKind.RESULT, text, data=dict(data)))
    return events


def _denied(denial: Denial, permission_mode: str) -> ProgressEvent:
    what = describe_tool(denial.tool_name or "tool", denial.tool_input or {})
    hint = f" ({ACCEPT_EDITS_HINT})" if permission_mode == "acceptEdits" else ""
    return event(EventKind.WARNING, f"Claude Code was not allowed: {what}{hint}")


def _usage_line(result: Result, models: dict[str, Tokens]) -> str:
    turns = result.num_turns or 0
    head = (
        f"{turns} turn{'s' if turns != 1 else ''} in {seconds(result.duration_ms)} "
        f"(API {seconds(result.duration_api_ms)})"
    )
    per_model = [
        f"{name}: {m['input_tokens']:,} in, {m['output_tokens']:,} out, "
        f"{m['cache_read_tokens']:,} cache reads, ${m['cost_usd']:.4f}"
        for name, m in models.items()
    ]
    return "; ".join([head, *per_model])


def _models(usage: dict[str, ModelUsage]) -> dict[str, Tokens]:
    """`modelUsage` (camelCase, per model) in Repobox's own names."""
    return {
        name: {
            "input_tokens": figures.input_tokens or 0,
            "output_tokens": figures.output_tokens or 0,
            "cache_read_tokens": figures.cache_read_tokens or 0,
            "cache_write_tokens": figures.cache_write_tokens or 0,
            "cost_usd": round(figures.cost_usd or 0.0, 6),
        }
        for name, figures in usage.items()
    }


def _failure(result: Result) -> str:
    errors = [str(e) for e in result.errors or [] if e]
    text = (result.result or "").strip() or "; ".join(errors)
    text = short(text or (result.subtype or "error").replace("_", " "), 500)
    hint = auth_hint(result.api_error_status)
    return f"{text} (hint: {hint})" if hint else text
