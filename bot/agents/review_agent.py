"""The built-in agent as a reviewer: read-only tools plus `report_finding`, on the same
streamed tool-use loop, budgets and prices as a prompt's run.

Why its own tool set: a review must not change the checkout, and a pull request from a
fork is untrusted input, so `write_file`, `edit_file` and `run` are not offered at all (a
call to one is answered with an error, never run). The findings come back as values; the
job decides where each one is posted.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path

from anthropic.types import MessageParam, TextBlockParam, ToolParam, ToolResultBlockParam

from bot.agents.anthropic import CACHE, AnthropicAgent, Tally
from bot.agents.file_tools import ToolFailure
from bot.agents.findings import DIFF_TOOL, FINDING_TOOL, Finding, check_finding
from bot.agents.tool_inputs import tool_params
from bot.agents.tools import Toolbox, ToolCall, attempt, step_event
from bot.core.config import Settings
from bot.core.errors import AgentError
from bot.processes.control import RunControl
from bot.sessions.events import EventKind, ProgressEvent

READ_ONLY = ("list_files", "read_file", "search")
MAX_FINDINGS = 50


@dataclass(frozen=True)
class ReviewRequest:
    workdir: Path
    rules: str  # the reviewer's fixed instructions and the repository's review rules
    task: str  # the change: the diff (or its outline) and what to focus on
    diffs: dict[str, str] = field(default_factory=dict)  # per file, for `read_diff`


@dataclass
class ReviewOutcome:
    findings: list[Finding] = field(default_factory=list)
    summary: str = ""
    tally: Tally | None = None


def review_tools(with_diff: bool) -> list[ToolParam]:
    tools: list[ToolParam] = [dict(t) for t in tool_params() if t["name"] in READ_ONLY]  # type: ignore[misc]
    for tool in tools:
        tool.pop("cache_control", None)
    tools += [DIFF_TOOL] if with_diff else []
    last: ToolParam = dict(FINDING_TOOL)  # type: ignore[assignment]
    last["cache_control"] = CACHE
    return [*tools, last]


class ReviewAgent(AnthropicAgent):
    name = "anthropic-review"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)

    def review(
        self, request: ReviewRequest, control: RunControl
    ) -> Generator[ProgressEvent, None, ReviewOutcome]:
        """Run the review loop; progress comes out as events, the findings are returned."""
        toolbox = Toolbox(self.settings, request.workdir, control, None)
        system: list[TextBlockParam] = [
            {"type": "text", "text": request.rules, "cache_control": CACHE}
        ]
        tools = review_tools(bool(request.diffs))
        messages: list[MessageParam] = [
            {"role": "user", "content": [{"type": "text", "text": request.task}]}
        ]
        outcome = ReviewOutcome(tally=Tally(self.settings.model))
        tally = outcome.tally
        assert tally is not None
        with self._client() as client:
            while not control.should_stop():
                self._check_budgets(tally)
                turn = yield from self._turn(client, system, tools, messages, control)
                if turn is None:
                    break
                tally.add(turn)
                messages.append({"role": "assistant", "content": turn.content})
                if turn.stop_reason == "pause_turn":
                    continue
                if turn.stop_reason == "refusal":
                    raise AgentError("The model declined to review this change.")
                if turn.stop_reason != "tool_use" or not turn.calls:
                    outcome.summary = turn.text
                    break
                results = yield from self._answer(toolbox, request, turn.calls, outcome.findings)
                messages.append({"role": "user", "content": results})
        return outcome

    def _answer(
        self,
        toolbox: Toolbox,
        request: ReviewRequest,
        calls: list[ToolCall],
        findings: list[Finding],
    ) -> Generator[ProgressEvent, None, list[ToolResultBlockParam]]:
        results: list[ToolResultBlockParam] = []
        for call in calls:
            local = _LOCAL.get(call.name)
            if call.name in READ_ONLY:
                outcome = yield from toolbox.call(call)
                yield step_event(outcome)
                content, is_error = outcome.content, outcome.is_error
            elif local is not None:
                try:
                    content, step = local(call, request, findings)
                    is_error = False
                except ToolFailure as failure:
                    content, step, is_error = str(failure), f"{attempt(call)} ✗", True
                yield ProgressEvent(EventKind.STEP, step, data={"tool": call.name})
            else:
                content, is_error = (
                    f"`{call.name}` is not available in a review: the checkout is read-only.",
                    True,
                )
            results.append(
                {
                    "type": "tool_result",
                    "tool_use_id": call.id,
                    "content": content or "(empty)",
                    "is_error": is_error,
                }
            )
        return results


def _report(call: ToolCall, request: ReviewRequest, findings: list[Finding]) -> tuple[str, str]:
    if len(findings) >= MAX_FINDINGS:
        raise ToolFailure(f"At most {MAX_FINDINGS} findings per review; keep the important ones.")
    finding = check_finding(call.input, call.problem)
    findings.append(finding)
    where = f"{finding.path}:{finding.line}"
    return f"Noted ({len(findings)} so far).", f"{finding.severity.value} at {where}"


def _diff(call: ToolCall, request: ReviewRequest, findings: list[Finding]) -> tuple[str, str]:
    path = call.input.get("path")
    if not isinstance(path, str) or path not in request.diffs:
        raise ToolFailure("read_diff needs `path`, one of the changed files listed.")
    return request.diffs[path], f"read the diff of {path}"


_LOCAL: dict[str, Callable[[ToolCall, ReviewRequest, list[Finding]], tuple[str, str]]] = {
    "report_finding": _report,
    "read_diff": _diff,
}
