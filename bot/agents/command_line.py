"""A command line with the prompt in it, as an argument that can never be an option."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from bot.agents import claude_code
from bot.core.config import Settings
from bot.core.errors import AgentError


def expand(template: Sequence[str], prompt: str) -> list[str]:
    """Put the prompt into a command line as an argument that can never be an option."""
    if not any("{prompt}" in part for part in template):
        return [*template, "--", prompt]
    argv: list[str] = []
    for index, part in enumerate(template):
        before = template[:index]
        if part == "{prompt}" and "--" not in before and not (before and before[-1][:1] == "-"):
            argv.append("--")
        argv.append(part.replace("{prompt}", prompt))
    return argv


def command_argv(
    command: str,
    prompt: str,
    *,
    settings: Settings | None = None,
    sandboxed: bool = False,
    resume: str | None = None,
) -> list[str]:
    if claude_code.is_preset(command):
        template = claude_code.preset_argv(
            settings or Settings(), sandboxed=sandboxed, resume=resume
        )
    else:
        template = shlex.split(command)
    if not template:
        raise AgentError("REPOBOX_AGENT_COMMAND is empty.")
    return expand(template, prompt)


def program_of(command: str) -> str:
    """The program a command line starts (what must be on PATH and visible in the sandbox)."""
    if claude_code.is_preset(command):
        return claude_code.PROGRAM
    parts = shlex.split(command)
    return parts[0] if parts else ""
