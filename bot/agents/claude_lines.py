"""Claude Code's stream-json lines as pydantic models of the fields Repobox reads.

The lines are another program's output, and it grows with every release, so each model
names only what is read (following Claude Code 2.1's `SDKMessage` types) and ignores the
rest. A field of another type than the one named here reads as absent: one odd field
never costs the line (a run's result, say) and never crashes the run.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

Record = dict[str, object]  # one JSON object as `json.loads` gave it


def _absent_if_wrong(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    try:
        return handler(value)
    except ValidationError:
        return None


def _dicts_only(value: object) -> object:
    """Leave out the entries that are not objects, as a reader skipping noise would."""
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if isinstance(v, dict)}
    return value


_ABSENT = WrapValidator(_absent_if_wrong)
Text = Annotated[str | None, _ABSENT]
Count = Annotated[int | None, _ABSENT]
Number = Annotated[float | None, _ABSENT]
Flag = Annotated[bool | None, _ABSENT]
Json = Annotated[Record | None, _ABSENT]


class Shape(BaseModel):
    model_config = ConfigDict(frozen=True)


class Line(Shape):
    """What every line may carry."""

    type: str
    subtype: Text = None
    session_id: Text = None
    parent_tool_use_id: Text = None  # set on a sub-agent's own lines


class Init(Line):
    """`system/init`: the conversation began (or resumed)."""

    model: Text = None
    permission_mode: Text = Field(None, alias="permissionMode")
    claude_code_version: Text = None


class ApiRetry(Line):
    """`system/api_retry`: the API failed and Claude Code waits before trying again."""

    error_status: Count = None
    error: Text = None
    attempt: Count = None
    max_retries: Count = None
    retry_delay_ms: Number = None


class TaskUsage(Shape):
    tool_uses: Count = None
    total_tokens: Count = None
    duration_ms: Number = None


class Task(Line):
    """`system/task_started`, `task_progress`, `task_updated`, `task_notification`."""

    task_id: Text = None
    tool_use_id: Text = None  # the Agent call that started it, for a sub-agent
    description: Text = None
    task_type: Text = None
    last_tool_name: Text = None
    summary: Text = None
    status: Text = None
    usage: Annotated[TaskUsage | None, _ABSENT] = None
    patch: Json = None


class PermissionDenied(Line):
    tool_name: Text = None
    message: Text = None
    decision_reason: Text = None


class CompactBoundary(Line):
    compact_metadata: Json = None


class Block(Shape):
    """A message's content block: the fields of the kinds shown (text, tool calls,
    thinking, tool results)."""

    type: Text = None
    text: Text = None
    id: Text = None
    name: Text = None
    input: Json = None
    thinking: Text = None
    content: object = None  # a tool result: a string or a list of blocks
    is_error: Flag = None


class Message(Shape):
    model: Text = None
    content: object = None  # a string or a list of blocks (`blocks` reads it)


class Said(Line):
    """`assistant` and `user` lines: a message (prose, tool calls, tool results)."""

    message: Annotated[Message | None, _ABSENT] = None
    error: object = None  # set when the CLI made the message up (an API error)


class ResultUsage(Shape):
    input_tokens: Count = None
    output_tokens: Count = None
    cache_read_input_tokens: Count = None
    cache_creation_input_tokens: Count = None


class ModelUsage(Shape):
    """One model's figures in `modelUsage` (camelCase there)."""

    input_tokens: Count = Field(None, alias="inputTokens")
    output_tokens: Count = Field(None, alias="outputTokens")
    cache_read_tokens: Count = Field(None, alias="cacheReadInputTokens")
    cache_write_tokens: Count = Field(None, alias="cacheCreationInputTokens")
    cost_usd: Number = Field(None, alias="costUSD")


class Denial(Shape):
    tool_name: Text = None
    tool_input: Json = None


class Result(Line):
    """`result`: the run's end, its summary or error and what it used."""

    is_error: Flag = None
    result: Text = None
    errors: Annotated[list[object] | None, _ABSENT] = None
    api_error_status: Count = None
    num_turns: Count = None
    total_cost_usd: Number = None
    duration_ms: Number = None
    duration_api_ms: Number = None
    usage: Annotated[ResultUsage | None, _ABSENT] = None
    per_model: Annotated[dict[str, ModelUsage] | None, BeforeValidator(_dicts_only), _ABSENT] = (
        Field(None, alias="modelUsage")
    )
    permission_denials: Annotated[list[Denial] | None, BeforeValidator(_dicts_only), _ABSENT] = None


def blocks(content: object) -> list[tuple[Record, Block]]:
    """The object blocks of a message's content, each as it came and as read."""
    found = content if isinstance(content, list) else []
    return [(raw, Block.model_validate(raw)) for raw in found if isinstance(raw, dict)]
