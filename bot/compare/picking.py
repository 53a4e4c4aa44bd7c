"""Whether `pick <n>` can be queued: decided from the session's history, before any job runs.

A pick is queued like a prompt (it runs after the comparison, if that is still running), so
it is refused here only for what cannot change by then: no comparison, a number it does not
have, a comparison that ended without candidates, or one already picked from.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.compare.outcome import Comparison
from bot.core.errors import Conflict, UserError
from bot.sessions.prompts import Action, Prompt, PromptState

OPEN = frozenset({PromptState.QUEUED, PromptState.RUNNING, PromptState.DONE})


def latest_comparison(history: Sequence[Prompt]) -> Prompt | None:
    return next((p for p in reversed(history) if p.action is Action.COMPARE), None)


def check_pickable(history: Sequence[Prompt], number: int) -> Prompt:
    """The comparison `pick number` adopts from; a `UserError` saying why not otherwise."""
    compared = latest_comparison(history)
    if compared is None:
        raise Conflict(
            "There is no comparison to pick from in this session.",
            hint="Run one with `compare sonnet,opus <prompt>`.",
        )
    if number > len(compared.candidates):
        raise UserError(
            f"The last comparison has {len(compared.candidates)} candidates; "
            f"there is no candidate {number}.",
            hint=f"Pick one of 1 to {len(compared.candidates)}.",
        )
    if compared.state not in OPEN:
        raise Conflict(
            f"The last comparison was {compared.state.value}; there is nothing to pick.",
            hint="Run it again with `compare`.",
        )
    later = history[history.index(compared) + 1 :]
    for item in later:
        if item.action is Action.PICK and item.state in OPEN:
            raise Conflict(
                f"Candidate {item.pick} of the last comparison is already picked, and the "
                "others are discarded once it runs.",
                hint="`undo` takes the picked change back; `compare` runs a new comparison.",
            )
    comparison = Comparison.of(compared.result)
    if comparison is not None:
        chosen = comparison.candidate(number)
        if chosen is not None and chosen.commit is None:
            raise Conflict(f"Candidate {number} ({chosen.label}) changed nothing to adopt.")
    return compared
