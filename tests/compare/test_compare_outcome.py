"""A comparison's verdicts and how its candidates fold into the prompt's view."""

from __future__ import annotations

from bot.compare.outcome import CandidateOutcome, Comparison
from bot.progress.view import PromptView
from bot.sessions.events import EventKind, ProgressEvent
from bot.sessions.prompts import PromptState
from bot.sessions.results import FileLine, RunResult

PASSED = {"checks": {"passed": True, "commit": "c", "results": [], "setup": None}}
FAILED = {
    "checks": {
        "passed": False,
        "commit": "c",
        "results": [
            {"name": "tests", "status": "failed", "required": True, "duration": 1.0, "tail": []}
        ],
        "setup": None,
    }
}


def outcome(
    number: int, cost: float, seconds: float, lines: int, **extra: object
) -> CandidateOutcome:
    result = RunResult(
        files=(FileLine("a.py", lines, 0),), diffstat="1 file", duration_s=seconds,
        commit=f"c{number}", cost_usd=cost, extra=dict(extra),
    )  # fmt: skip
    return CandidateOutcome(number, f"m{number}", PromptState.DONE, result)


def test_marks_go_to_candidates_one_could_pick_and_never_to_a_tie() -> None:
    compared = Comparison(
        (
            outcome(1, 0.01, 5, 1, **FAILED),  # cheapest, fastest, smallest: but it fails
            outcome(2, 0.05, 30, 9, **PASSED),
            outcome(3, 0.02, 30, 9, **PASSED),
            CandidateOutcome(4, "m4", PromptState.FAILED, summary="API down"),
            CandidateOutcome(5, "m5", PromptState.CANCELLED),
        ),
        "base",
    ).with_verdicts()
    assert [c.verdict for c in compared.candidates] == [
        "❌ checks fail",
        "✅ checks pass",
        "✅ checks pass · cheapest",  # the same time and size as 2: no mark for either
        "❌ failed",
        "⏹️ cancelled",
    ]
    again = Comparison.from_dict(compared.to_dict())
    assert again == compared


def test_candidate_events_fold_into_columns_and_only_the_comparison_ends_the_prompt() -> None:
    view = PromptView("p1")
    view.take(
        ProgressEvent(EventKind.STARTED, "comparing", "p1", {"candidates": ["a", "b"]}, id="1-0")
    )
    assert [(c.number, c.label, c.state) for c in view.candidates] == [
        (1, "a", PromptState.QUEUED),
        (2, "b", PromptState.QUEUED),
    ]
    tag = {"candidate": 2, "label": "b"}
    view.take(ProgressEvent(EventKind.STARTED, "b: working", "p1", tag, id="2-0"))
    view.take(ProgressEvent(EventKind.STEP, "✏️ edit a.py", "p1", tag, id="3-0"))
    view.take(
        ProgressEvent(
            EventKind.STEP,
            "⏳ check",
            "p1",
            {**tag, "check": "tests", "status": "running"},
            id="4-0",
        )
    )
    view.take(ProgressEvent(EventKind.RESULT, "done", "p1", {**tag, "cost_usd": 0.5}, id="5-0"))
    assert view.state is PromptState.RUNNING  # a candidate's end is not the prompt's
    second = view.candidates[1]
    assert (second.state, second.step, second.checks) == (
        PromptState.DONE,
        "⏳ check",
        {"tests": "running"},
    )
    assert second.result is not None and second.result.cost_usd == 0.5
    compared = Comparison((outcome(2, 0.5, 1, 1),), "base").with_verdicts()
    data = RunResult(extra={"comparison": compared.to_dict()}).to_dict()
    view.take(ProgressEvent(EventKind.RESULT, "Compared", "p1", data, id="6-0"))
    assert view.final and view.comparison == compared
    assert PromptView.from_dict(view.to_dict()).candidates == view.candidates
