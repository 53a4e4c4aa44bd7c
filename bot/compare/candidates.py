"""What a comparison's candidates are: a model of the built-in agent, an agent preset, or the
demo agent (`demo`: no model; each candidate gets its own variant, so their results differ).

A candidate name is checked where the command is parsed, so `compare sonet,opus …` is
answered at once with the names that work, never found out by a failing run minutes later.
A candidate runs with the session's settings and budgets, with only the agent and the model
swapped (`settings_for`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.core.config import Settings
from bot.core.errors import UserError
from bot.core.models import ALIASES, DEMO, PRESETS, known, sdk_models


@dataclass(frozen=True)
class Candidate:
    """One side of a comparison, as people named it (`label`) and as it runs."""

    label: str  # "sonnet", "claude-opus-4-7", "claude-code", "demo"
    model: str | None  # the built-in agent's model; None for a preset or the demo
    preset: str | None = None  # an external agent preset

    @property
    def agent(self) -> str:
        if self.label == DEMO:
            return DEMO
        return "command" if self.preset else "anthropic"


def resolve(name: str) -> Candidate:
    """The candidate `name` stands for; a `UserError` listing what works otherwise."""
    word = name.strip().lower()
    if word in ALIASES:
        return Candidate(word, ALIASES[word])
    if word in PRESETS:
        return Candidate(word, None, word)
    if word == DEMO:
        return Candidate(word, None)
    if word in sdk_models():
        return Candidate(word, word)
    raise UserError(
        f"`{name}` is not a model or agent I can compare.",
        hint=f"Use {names_hint()}.",
    )


def names_hint() -> str:
    aliases = ", ".join(f"`{a}`" for a in ALIASES)
    presets = ", ".join(f"`{p}`" for p in sorted(PRESETS))
    return (
        f"{aliases}, a full model id such as `{ALIASES['sonnet']}`, {presets}, "
        f"or `{DEMO}` (no account needed)"
    )


def parse_list(word: str) -> tuple[str, ...] | None:
    """`sonnet,opus` as candidate names; None when `word` is no list (the prompt begins).

    A word with a comma is meant as a list, so an unknown name in it is an error rather
    than the first word of a prompt."""
    parts = [p for p in word.split(",")]
    if len(parts) == 1:
        return (parts[0].lower(),) if known(parts[0]) else None
    if any(not p.strip() for p in parts):
        raise UserError(
            f"`{word}` has an empty candidate.", hint="Separate names with commas: `sonnet,opus`."
        )
    for part in parts:
        resolve(part)
    return tuple(p.strip().lower() for p in parts)


def settings_for(settings: Settings, candidate: Candidate) -> Settings:
    """The session's settings with this candidate's agent and model (budgets unchanged)."""
    if candidate.agent == DEMO:
        return replace(settings, agent=DEMO)
    if candidate.preset is not None:
        return replace(settings, agent="command", agent_command=candidate.preset)
    return replace(settings, agent="anthropic", model=candidate.model or settings.model)


def check_count(names: tuple[str, ...], limit: int) -> None:
    """At least two candidates (a comparison of one is a prompt), at most `limit`."""
    if len(names) < 2:
        raise UserError(
            "A comparison needs at least two candidates.",
            hint=f"For example `compare sonnet,opus <prompt>`; use {names_hint()}.",
        )
    if len(names) > limit:
        raise UserError(
            f"That is {len(names)} candidates; this Repobox compares at most {limit} at once.",
            hint="REPOBOX_COMPARE_MAX sets the limit.",
        )
