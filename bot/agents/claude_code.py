"""The `claude-code` preset: Claude Code run headless, how it is started and what it may do.

`claude -p --output-format stream-json --verbose --permission-mode MODE [REPOBOX_CLAUDE_ARGS]
[--resume ID]`, with the prompt on stdin: `-p` with no prompt argument reads its prompt from
stdin, which holds any length (an argument is capped at 128 KiB), and a prompt such as
`--version` or `- add a bullet` is the prompt, never an option.

Permissions: inside bubblewrap the sandbox is the boundary (the workdir is all it can
write, secrets are out of its environment), so Claude Code runs with `bypassPermissions`
and can build and run tests. Claude Code refuses that mode as root unless told it runs in
a sandbox; the supported way is `IS_SANDBOX=1` in its environment, which Repobox sets only
inside bubblewrap. Without the sandbox it keeps `acceptEdits`: it may edit files in the
workdir, but Bash commands that are not read-only (running tests, `python3 -c …`, `npm
install`) are refused, and the refusals are shown after the run.

Conversation: each session's runs continue one Claude Code conversation (`--resume` with
the `session_id` of the first run's `init` line, kept on the session). Claude Code keeps
its transcripts in its config directory; inside the sandbox the home directory is a
throw-away tmpfs, so there `CLAUDE_CONFIG_DIR` points at a per-session directory under the
data dir, mounted read-write into the sandbox.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from bot.core.config import Settings
from bot.core.models import PRESETS

PROGRAM = "claude"
HEADLESS = ("-p", "--output-format", "stream-json", "--verbose")
SANDBOXED_MODE = "bypassPermissions"
BARE_MODE = "acceptEdits"
PASSED_ENV = frozenset({"ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"})


def is_preset(command: str) -> bool:
    return command.strip() in PRESETS


def is_claude(command: str) -> bool:
    """The preset, or a command line of its own that speaks stream-json."""
    return is_preset(command) or "stream-json" in command


def preset_argv(settings: Settings, *, sandboxed: bool, resume: str | None) -> list[str]:
    """The command line; the prompt is not in it (it comes on stdin)."""
    mode = SANDBOXED_MODE if sandboxed else BARE_MODE
    argv = [PROGRAM, *HEADLESS, "--permission-mode", mode, *shlex.split(settings.claude_args)]
    if resume:
        argv += ["--resume", resume]
    return argv


def preset_env(*, sandboxed: bool, config_dir: Path | None) -> dict[str, str]:
    # A server's agent sends only what the run needs: no telemetry, error reports or update
    # checks (which the sandbox's allow-list would refuse, as warnings in every run).
    env = {"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
    if sandboxed:
        env["IS_SANDBOX"] = "1"
    if config_dir is not None:
        env["CLAUDE_CONFIG_DIR"] = str(config_dir)
    return env


def config_dir(settings: Settings, session_id: str) -> Path:
    """Where a sandboxed run keeps Claude Code's state (its conversation transcripts)."""
    return settings.data_dir / "claude-code" / session_id
