"""The model a session runs on: chosen with `new … --model <name>` or `use <name>`, from the
names `compare` takes (bot.core.models), within what the operator allows
(`REPOBOX_MODELS_ALLOWED`).

The choice is checked where the command is answered, so a refusal names the allowed choices
at once; the run reads it from the session (`run_settings`) and swaps only the agent and the
model, as a comparison's candidate does (`bot.compare.candidates.settings_for`).
"""

from __future__ import annotations

from bot.compare.candidates import resolve, settings_for
from bot.core.config import Settings
from bot.core.errors import UserError
from bot.core.models import ALIASES, PRESETS
from bot.sessions.session import Session


def allowed(settings: Settings, name: str) -> str:
    """`name` as stored (lower case), or a `UserError` naming the choices the operator allows."""
    word = name.strip().lower()
    resolve(word)  # an unknown name says which ones work
    permitted = settings.models_allowed
    if permitted and not (_spellings(word) & set().union(*map(_spellings, permitted))):
        raise UserError(
            f"`{word}` is not among the models this Repobox allows.",
            hint=f"Choose one of {', '.join(f'`{m}`' for m in sorted(permitted))} "
            "(REPOBOX_MODELS_ALLOWED).",
        )
    return word


def _spellings(name: str) -> set[str]:
    """Every name of the same choice: `opus` and its full id; `claude` and `claude-code`."""
    word = name.lower()
    if word in PRESETS:
        return set(PRESETS)
    full = ALIASES.get(word, word)
    return {word, full} | {alias for alias, model in ALIASES.items() if model == full}


def run_settings(settings: Settings, session: Session) -> Settings:
    """The settings a run of `session` uses: the deployment's, with the session's choice."""
    if session.model is None:
        return settings
    return settings_for(settings, resolve(session.model))


def label(settings: Settings, session: Session) -> str:
    """The model or agent as the card and `status` name it."""
    if session.model is not None:
        return session.model
    if settings.agent == "anthropic":
        named = [alias for alias, model in ALIASES.items() if model == settings.model]
        return named[0] if named else settings.model
    if settings.agent == "command":
        command = settings.agent_command or ""
        return command if command in PRESETS else "a command agent"
    return settings.agent
