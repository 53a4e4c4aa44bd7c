"""Run git with env-only configuration: tokens never land in .git/config, argv or logs.

Git starts from an allow-listed environment (never our own, which holds every token), with
`GIT_PROTOCOL_FROM_USER=0` and `protocol.allow=never`: a call may use only the protocol of
the one remote it names (`remote=`), so a URL can never reach `ext::` or `fd::`, and a
local path works only where a local path was the point. Values from outside go after
`--end-of-options` or `--` at each call site.
"""

from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot.core.errors import GitError
from bot.core.redaction import Redactor
from bot.git import reasons
from bot.security.environment import NETWORK, process_environment

DEFAULT_TIMEOUT = 600.0
PROTOCOLS = frozenset({"file", "http", "https", "ssh"})  # what a remote may ever use
NEEDS = {"http": NETWORK, "https": NETWORK, "ssh": ("SSH_AUTH_SOCK",)}


class GitFailure(GitError):
    """A git command that ran and failed: the whole (redacted) output in the message, and
    the line of it that says why in `reason` (`bot.git.reasons`)."""

    def __init__(self, command: str, detail: str) -> None:
        super().__init__(f"git {command} failed: {detail}")
        self.reason = reasons.reason(detail) or f"git {command} failed with no message"


@dataclass(frozen=True)
class Credentials:
    """HTTP basic credentials for a git host (GitLab: oauth2 + token; GitHub: x-access-token)."""

    username: str
    password: str

    def config(self, remote: str) -> list[tuple[str, str]]:
        """An auth header for `remote`'s host only (git ≥ 2.31 reads it from the environment,
        so it is never on disk); nothing for a remote that is not http(s)."""
        parts = urlsplit(remote)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return []
        basic = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        origin = f"{parts.scheme.lower()}://{parts.netloc.rsplit('@', 1)[-1]}/"
        return [(f"http.{origin}.extraHeader", f"Authorization: Basic {basic}")]

    def secrets(self) -> list[str]:
        basic = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return [self.password, basic]


def protocol_of(remote: str) -> str:
    """The transport git would use for `remote`: a URL's scheme, `ssh` for scp-style
    `user@host:path`, `file` for a path; `<name>::…` names a remote helper."""
    if "::" in remote.split("/", 1)[0]:
        return remote.split("::", 1)[0].lower()
    if "://" in remote:
        return remote.split("://", 1)[0].lower()
    head = remote.split("/", 1)[0]
    return "ssh" if ":" in head and not head.startswith(".") else "file"


def git_config(remote: str | None, credentials: Credentials | None) -> list[tuple[str, str]]:
    """Config for one call: no transport but `remote`'s, and its host's credentials."""
    entries = [("protocol.allow", "never")]
    if remote is not None:
        protocol = protocol_of(remote)
        if protocol not in PROTOCOLS:
            raise GitError(f"git may not use the `{protocol}` transport")
        entries.append((f"protocol.{protocol}.allow", "always"))
        if credentials is not None:
            entries += credentials.config(remote)
    return entries


def base_env(remote: str | None = None) -> dict[str, str]:
    """A quiet, non-interactive git on an allow-listed environment; what reaching `remote`
    needs (a proxy, the ssh agent) is added for that call only."""
    protocol = protocol_of(remote) if remote is not None else None
    env = process_environment(also=NEEDS.get(protocol or "", ()))
    env.update(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "true",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_PROTOCOL_FROM_USER": "0",
            "GIT_AUTHOR_NAME": "Repobox",
            "GIT_AUTHOR_EMAIL": "repobox@users.noreply.localhost",
            "GIT_COMMITTER_NAME": "Repobox",
            "GIT_COMMITTER_EMAIL": "repobox@users.noreply.localhost",
            "LC_ALL": "C",
        }
    )
    return env


def config_env(entries: list[tuple[str, str]]) -> dict[str, str]:
    env = {"GIT_CONFIG_COUNT": str(len(entries))}
    for index, (key, value) in enumerate(entries):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def git(
    *args: str,
    cwd: Path | str | None = None,
    credentials: Credentials | None = None,
    remote: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    check: bool = True,
    input: str | None = None,
) -> str:
    """Run `git args…` and return stdout; raise `GitError` with a redacted message on failure.

    `remote` is the URL or path this call fetches from or pushes to (None: no transport at
    all); `credentials` are sent to that remote's host only."""
    full_env = base_env(remote)
    if env:
        full_env.update(env)
    full_env.update(config_env(git_config(remote, credentials)))
    redact = Redactor(credentials.secrets() if credentials is not None else [])
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
        raise GitFailure(args[0], redact((done.stderr or done.stdout).strip()))
    return done.stdout
