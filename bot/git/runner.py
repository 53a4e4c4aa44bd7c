"""Run git with env-only configuration: tokens never land in .git/config, argv or logs."""

from __future__ import annotations

import base64
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bot.errors import GitError
from bot.security.redaction import Redactor

DEFAULT_TIMEOUT = 600.0


@dataclass(frozen=True)
class Credentials:
    """HTTP basic credentials for a git host (GitLab: oauth2 + token; GitHub: x-access-token)."""

    username: str
    password: str

    def env(self) -> dict[str, str]:
        """Git (≥ 2.31) reads config from the environment, so the header is never on disk."""
        basic = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return {
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "http.extraHeader",
            "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
        }

    def secrets(self) -> list[str]:
        basic = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return [self.password, basic]


def base_env() -> dict[str, str]:
    """A quiet, non-interactive git: no prompts, no system or user config surprises."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "true",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Repobox",
            "GIT_AUTHOR_EMAIL": "repobox@users.noreply.localhost",
            "GIT_COMMITTER_NAME": "Repobox",
            "GIT_COMMITTER_EMAIL": "repobox@users.noreply.localhost",
            "LC_ALL": "C",
        }
    )
    return env


def git(
    *args: str,
    cwd: Path | str | None = None,
    credentials: Credentials | None = None,
    env: dict[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    check: bool = True,
    input: str | None = None,
) -> str:
    """Run `git args…` and return stdout; raise `GitError` with a redacted message on failure."""
    full_env = base_env()
    if env:
        full_env.update(env)
    secrets: list[str] = []
    if credentials is not None:
        full_env.update(credentials.env())
        secrets = credentials.secrets()
    redact = Redactor(secrets)
    try:
        done = subprocess.run(  # noqa: PLW1510 - the return code is checked below
            ["git", *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} took longer than {timeout:.0f}s and was stopped") from None
    if check and done.returncode != 0:
        detail = redact((done.stderr or done.stdout).strip())
        raise GitError(f"git {args[0]} failed: {detail}")
    return done.stdout
