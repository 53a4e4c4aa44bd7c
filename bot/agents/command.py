"""The `command` agent: an external CLI agent run in the workdir, its output streamed.

`REPOBOX_AGENT_COMMAND` is a command line, run as it is: the prompt is never in it. The
agent reads the prompt on stdin (a file in memory, so any length, and `/dev/stdin` reads
it again from the start). When the prompt came from an issue or merge request, a quoted
context preamble precedes it there; the person's own words alone are in the file
`REPOBOX_PROMPT_FILE` names, and the context as JSON in the file `REPOBOX_CONTEXT_FILE`
names (both in the workdir's `.git/repobox/`, read-only in the sandbox, never committed).

The preset `claude-code` (see `bot.agents.claude_code`) runs Claude Code headless, turns
its stream-json lines into steps (`bot.agents.claude_stream`) and continues the session's
conversation with `--resume`; when that fails (its transcript is gone), the run starts a
new conversation with the session's earlier prompts in its preamble, and says so.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

from bot.agents import claude_code
from bot.agents.base import RunRequest
from bot.agents.command_attempt import Attempt
from bot.agents.command_line import command_argv, placeholder_problem, program_of
from bot.agents.mcp_launch import mcp_hosts, run_servers
from bot.core.config import Settings
from bot.core.errors import AgentError, ConfigError
from bot.processes.control import RunControl
from bot.security.egress import confined, run_hosts
from bot.security.environment import agent_environment
from bot.security.sandbox import Sandbox, sandbox_for
from bot.sessions.events import EventKind, ProgressEvent

__all__ = ["CommandAgent", "check_agent_command", "command_argv"]


class CommandAgent:
    name = "command"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.command = settings.agent_command or ""

    def passed_env(self) -> frozenset[str]:
        if self.settings.agent_pass_env is not None:
            return self.settings.agent_pass_env
        return claude_code.PASSED_ENV if claude_code.is_claude(self.command) else frozenset()

    def run(self, request: RunRequest, control: RunControl) -> Iterator[ProgressEvent]:
        passed = agent_environment(self.settings, keep=self.passed_env())
        preset = claude_code.is_preset(self.command)
        servers = run_servers(self.settings, request.mcp_servers)[0] if preset else []
        hosts = run_hosts(
            self.settings,
            external_agent=True,
            model_url=passed.get("ANTHROPIC_BASE_URL"),
            extra=[*request.egress_hosts, *mcp_hosts(servers)],  # the MCP URLs' hosts
        )
        with confined(self.settings, hosts) as sandbox:
            yield from self._run(request, control, sandbox)

    def _run(
        self, request: RunRequest, control: RunControl, sandbox: Sandbox | None
    ) -> Iterator[ProgressEvent]:
        if sandbox is not None:
            _check_visible(sandbox, program_of(self.command), request.workdir)
        preset = claude_code.is_preset(self.command)
        conversation = request.session.agent_conversation if preset else None
        if conversation:
            resumed = Attempt(self, request, sandbox, resume=conversation)
            yield from resumed.events(control)
            if not resumed.resume_failed:
                yield from resumed.outcome(control)
                return
            yield ProgressEvent(
                EventKind.INFO,
                f"Could not resume this session's Claude Code conversation ({resumed.why()}); "
                "started a new one with the session's earlier prompts as context.",
            )
        fresh = Attempt(self, request, sandbox, with_history=preset and bool(request.history))
        yield from fresh.events(control)
        yield from fresh.outcome(control)


def _check_visible(sandbox: Sandbox, program: str, workdir: Path) -> None:
    """Say clearly when the agent CLI is installed where the sandbox hides it (say ~/.local)."""
    found = shutil.which(program)
    hidden = sandbox.hidden_place(Path(found), workdir) if found else None
    if hidden is not None:
        raise AgentError(
            f"The agent command `{program}` is installed under {hidden}, which the sandbox "
            "hides; install it system-wide (e.g. /usr/local/bin) or set REPOBOX_SANDBOX=off."
        )


def check_agent_command(settings: Settings) -> None:
    """Start-up check for `REPOBOX_AGENT=command`: the CLI exists and the sandbox shows it.

    Raises `ConfigError` with the message a run would otherwise fail with, so nobody
    waits on a run that cannot start.
    """
    if settings.agent != "command" or not settings.agent_command:
        return
    if (problem := placeholder_problem(settings.agent_command)) is not None:
        raise ConfigError(problem)
    program = program_of(settings.agent_command)
    if shutil.which(program) is None:
        hint = " (npm install -g @anthropic-ai/claude-code)" if program == "claude" else ""
        raise ConfigError(f"The agent command `{program}` was not found on PATH{hint}.")
    try:
        sandbox = sandbox_for(settings)
        if sandbox is not None:
            _check_visible(sandbox, program, settings.data_dir / "workdirs")
    except AgentError as error:
        raise ConfigError(str(error)) from None
