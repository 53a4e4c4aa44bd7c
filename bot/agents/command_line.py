"""An agent's command line, which never holds the prompt: the prompt comes on stdin.

A prompt can be as long as `bot.commands.admission.PROMPT_LIMIT` allows, far past what
Linux lets one argument or environment variable hold (128 KiB), and what a person typed
must never be read as an option. So the command line is the agent's own, and the prompt
reaches it on stdin (and in the file `REPOBOX_PROMPT_FILE` names). `{prompt}`, which once
put the prompt into the command line, is refused with a message that says what to do.
"""

from __future__ import annotations

import shlex

from bot.agents import claude_code
from bot.core.config import Settings
from bot.core.errors import AgentError

PLACEHOLDER = "{prompt}"
NO_PLACEHOLDER = (
    "REPOBOX_AGENT_COMMAND contains `{prompt}`, but the prompt no longer goes on the "
    "command line (a long prompt does not fit there): remove `{prompt}`; the agent reads "
    "the prompt on stdin, or from the file $REPOBOX_PROMPT_FILE names."
)


def placeholder_problem(command: str) -> str | None:
    """Why this command line cannot run, when it still asks for the prompt in an argument."""
    if claude_code.is_preset(command):
        return None
    return NO_PLACEHOLDER if PLACEHOLDER in command else None


def command_argv(
    command: str,
    *,
    settings: Settings | None = None,
    sandboxed: bool = False,
    resume: str | None = None,
) -> list[str]:
    """The agent's command line: the preset's, or `command` read as a shell would."""
    if claude_code.is_preset(command):
        return claude_code.preset_argv(settings or Settings(), sandboxed=sandboxed, resume=resume)
    if (problem := placeholder_problem(command)) is not None:
        raise AgentError(problem)
    argv = shlex.split(command)
    if not argv:
        raise AgentError("REPOBOX_AGENT_COMMAND is empty.")
    return argv


def program_of(command: str) -> str:
    """The program a command line starts (what must be on PATH and visible in the sandbox)."""
    if claude_code.is_preset(command):
        return claude_code.PROGRAM
    parts = shlex.split(command)
    return parts[0] if parts else ""
