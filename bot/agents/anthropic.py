"""The built-in agent: a streamed tool-use loop on Anthropic's Messages API.

Each turn streams one response; its prose goes to the thread, its tool calls run one by
one (each a readable step), and their results go back in the next request, until the
model ends its turn with a summary or a budget stops it. The run's turns, tokens and
wall-clock time are bounded (`REPOBOX_MAX_TURNS`, `REPOBOX_MAX_TOKENS`,
`REPOBOX_RUN_TIMEOUT`); cancel closes the stream mid-response. Tools, the fixed rules and
the session context are prompt-cache breakpoints, and so is the newest message, so each
turn pays full price only for what is new since the last one.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import cast

import anthropic
from anthropic.types import (
    CacheControlEphemeralParam,
    ContentBlockParam,
    MessageParam,
    TextBlockParam,
    ToolParam,
    ToolResultBlockParam,
)

from bot.agents.api_errors import agent_error, is_transient_stream_error
from bot.agents.attachment_blocks import first_message
from bot.agents.base import Figures, RunRequest
from bot.agents.context import system_blocks
from bot.agents.mcp_hub import McpHub
from bot.agents.mcp_launch import launches, mcp_hosts, run_servers
from bot.agents.pricing import turn_cost
from bot.agents.tool_inputs import tool_params
from bot.agents.tools import Toolbox, ToolCall, step_event
from bot.agents.turns import Stopped, StreamCut, Turn, read_turn
from bot.core.config import Settings
from bot.core.errors import AgentError
from bot.core.models import TRY_DEMO, WHERE_CHOSEN
from bot.core.retry import MODEL_STREAM_RETRIES, Failure, Sleep, model_stream
from bot.processes.control import RunControl
from bot.security.egress import confined, run_hosts
from bot.security.paths import Confinement
from bot.security.sandbox import Sandbox
from bot.sessions.events import EventKind, ProgressEvent

MAX_OUTPUT_TOKENS = 32_000  # per response; the run's own budget is settings.max_tokens
API_RETRIES = 4  # the SDK's retries of 429, 529, 5xx and dropped connections, with backoff
CACHE: CacheControlEphemeralParam = {"type": "ephemeral"}


@dataclass
class Tally:
    """What the run has used so far, priced per turn (some prices depend on prompt size)."""

    model: str
    turns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    priced: bool = True

    def add(self, turn: Turn) -> None:
        usage = turn.usage
        self.turns += 1
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.cache_read_tokens += usage.cache_read_input_tokens or 0
        self.cache_write_tokens += usage.cache_creation_input_tokens or 0
        cost = turn_cost(self.model, usage)
        self.priced = self.priced and cost is not None
        self.cost_usd += cost or 0.0

    @property
    def tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
        )

    def spent(self) -> str:
        cost = f", ${self.cost_usd:.2f}" if self.priced else ""
        return f"{self.turns} turns, {self.tokens:,} tokens{cost}"

    def data(self) -> Figures:
        return {
            "model": self.model,
            "turns": self.turns,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "cost_usd": round(self.cost_usd, 6),
            "cost_known": self.priced,
        }


class AnthropicAgent:
    name = "anthropic"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def run(self, request: RunRequest, control: RunControl) -> Iterator[ProgressEvent]:
        servers, refused = run_servers(self.settings, request.mcp_servers)
        hosts = run_hosts(self.settings, extra=[*request.egress_hosts, *mcp_hosts(servers)])
        with confined(self.settings, hosts) as sandbox:
            found, problems = launches(self.settings, servers, sandbox, request.workdir)
            with McpHub(found, [*refused, *problems]) as hub:
                yield from self._run(request, control, sandbox, hub)

    def _run(
        self, request: RunRequest, control: RunControl, sandbox: Sandbox | None, hub: McpHub
    ) -> Iterator[ProgressEvent]:
        settings = self.settings
        toolbox = Toolbox(settings, request.workdir, control, sandbox, hub)
        confinement = Confinement(request.workdir, settings.secret_file_patterns)
        system = system_blocks(request, confinement)
        tools = [*tool_params(), *hub.tool_params()]
        for problem in hub.problems:
            yield ProgressEvent(EventKind.WARNING, f"⚠️ {problem}")
        messages: list[MessageParam] = [
            {"role": "user", "content": first_message(request.prompt, request.attachments)}
        ]
        tally = Tally(settings.model)
        with self._client() as client:
            while not control.should_stop():
                self._check_budgets(tally)
                turn = yield from self._turn(client, system, tools, messages, control)
                if turn is None:
                    return
                tally.add(turn)
                messages.append({"role": "assistant", "content": turn.content})
                if turn.stop_reason == "pause_turn":
                    continue
                if turn.stop_reason == "refusal":
                    raise AgentError("The model declined this request; the run stopped.")
                if turn.stop_reason != "tool_use" or not turn.calls:
                    yield _result(turn, tally)
                    return
                results = yield from self._use_tools(toolbox, turn.calls, control)
                messages.append({"role": "user", "content": results})

    def _client(self) -> anthropic.Anthropic:
        key = self.settings.anthropic_api_key
        if not key:
            raise AgentError(
                "The built-in agent needs ANTHROPIC_API_KEY, or another agent "
                f"(REPOBOX_AGENT=command with REPOBOX_AGENT_COMMAND). {WHERE_CHOSEN} {TRY_DEMO}"
            )
        return anthropic.Anthropic(
            api_key=key, base_url=self.settings.anthropic_base_url, max_retries=API_RETRIES
        )

    def _check_budgets(self, tally: Tally) -> None:
        limit_turns, limit_tokens = self.settings.max_turns, self.settings.max_tokens
        if tally.turns >= limit_turns:
            raise AgentError(
                f"Stopped at the turn limit: {limit_turns} model turns "
                f"(REPOBOX_MAX_TURNS) used ({tally.spent()})."
            )
        if tally.tokens >= limit_tokens:
            raise AgentError(
                f"Stopped at the token budget: {tally.tokens:,} of {limit_tokens:,} tokens "
                f"(REPOBOX_MAX_TOKENS) used ({tally.spent()})."
            )

    def _turn(
        self,
        client: anthropic.Anthropic,
        system: list[TextBlockParam],
        tools: list[ToolParam],
        messages: list[MessageParam],
        control: RunControl,
    ) -> Generator[ProgressEvent, None, Turn | None]:
        """One streamed request, asked again when the stream breaks mid-response (the
        model-stream retry policy); None when the run was told to stop meanwhile."""
        policy = model_stream(lambda error: _stream_failure(error, control), _pause(control))
        try:
            for attempt in policy.attempts("read a response"):
                with attempt:
                    stream = client.messages.create(
                        model=self.settings.model,
                        max_tokens=MAX_OUTPUT_TOKENS,
                        system=system,
                        tools=tools,
                        messages=_with_cache_mark(messages),
                        stream=True,
                    )
                    return (yield from read_turn(stream, control))
        except Stopped:
            return None
        except StreamCut:
            raise AgentError(
                f"The Anthropic API kept cutting its response short ({MODEL_STREAM_RETRIES} "
                "retries); the run stopped."
            ) from None
        except anthropic.APIStatusError as error:
            if control.should_stop():
                return None
            retries = MODEL_STREAM_RETRIES if error.status_code == 200 else API_RETRIES
            raise agent_error(error, self.settings.model, retries) from None
        except anthropic.APIError as error:
            if control.should_stop():
                return None
            raise agent_error(error, self.settings.model, API_RETRIES) from None
        return None  # pragma: no cover - the attempts always return or raise

    def _use_tools(
        self, toolbox: Toolbox, calls: list[ToolCall], control: RunControl
    ) -> Generator[ProgressEvent, None, list[ToolResultBlockParam]]:
        """Run each call in order; every call gets a result, even after a stop."""
        results: list[ToolResultBlockParam] = []
        for call in calls:
            if control.should_stop():
                content, is_error = "Not run: the run was stopped.", True
            else:
                outcome = yield from toolbox.call(call)
                yield step_event(outcome)
                content, is_error = outcome.content, outcome.is_error
            results.append(
                {
                    "type": "tool_result",
                    "tool_use_id": call.id,
                    "content": content or "(empty)",
                    "is_error": is_error,
                }
            )
        return results


def _with_cache_mark(messages: list[MessageParam]) -> list[MessageParam]:
    """The conversation with a cache breakpoint on its newest block (copied, not mutated),
    so the next turn reads everything before it from the cache."""
    *earlier, last = messages
    blocks = [dict(b) for b in cast(list[ContentBlockParam], last["content"])]
    blocks[-1]["cache_control"] = CACHE
    return [*earlier, cast(MessageParam, {"role": last["role"], "content": blocks})]


def _result(turn: Turn, tally: Tally) -> ProgressEvent:
    summary = turn.text or "Done."
    if turn.stop_reason == "max_tokens":
        summary += "\n\n(The answer was cut off at the output limit.)"
    return ProgressEvent(EventKind.RESULT, summary, data=dict(tally.data()))


def _stream_failure(error: BaseException, control: RunControl) -> Failure | None:
    """A response cut short, or an `error` event in a 200 stream that says "try again"
    (unless the run is stopping): the SDK retried the request, it cannot retry those."""
    if isinstance(error, StreamCut):
        return Failure(None)
    if isinstance(error, anthropic.APIStatusError) and is_transient_stream_error(error):
        return None if control.should_stop() else Failure(error.status_code)
    return None


def _pause(control: RunControl) -> Sleep:
    """A wait between attempts that a stop cuts short."""

    def pause(seconds: float) -> None:
        control.cancel_event.wait(seconds)

    return pause
