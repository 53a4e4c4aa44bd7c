"""`.repobox.yml`'s result: the checks a repository declares, as the runner uses them.

The file is read from the session's base branch by `bot.checks.reading`, validated against
`bot.checks.schema`, and its mistakes are worded by `bot.checks.problems`; this module
holds the values they produce, the limits, and the error people see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NotRequired, TypedDict

from bot.core.errors import UserError
from bot.core.mcp_servers import McpServer

FILENAME = ".repobox.yml"
MAX_BYTES = 64 * 1024
MAX_CHECKS = 20
MAX_SETUP = 20
MAX_AUTOFIX = 5
DEFAULT_TIMEOUT = 600.0
MAX_TIMEOUT = 3600.0
SETUP_TIMEOUT = 1800.0
MAX_HOSTS = 20


class CheckDict(TypedDict):
    name: str
    run: str
    timeout: NotRequired[float]
    required: NotRequired[bool]
    paths: NotRequired[list[str]]


class ChecksConfigDict(TypedDict):
    setup: NotRequired[list[str]]
    checks: NotRequired[list[CheckDict]]
    autofix: NotRequired[int]
    source: NotRequired[str]
    hosts: NotRequired[list[str]]


@dataclass(frozen=True)
class Check:
    name: str
    run: str
    timeout: float = DEFAULT_TIMEOUT
    required: bool = True
    paths: tuple[str, ...] = ()  # globs; empty means "whatever changed"

    def to_dict(self) -> CheckDict:
        return {
            "name": self.name,
            "run": self.run,
            "timeout": self.timeout,
            "required": self.required,
            "paths": list(self.paths),
        }

    @classmethod
    def from_dict(cls, data: CheckDict) -> Check:
        return cls(
            name=str(data["name"]),
            run=str(data["run"]),
            timeout=float(data.get("timeout", DEFAULT_TIMEOUT)),
            required=bool(data.get("required", True)),
            paths=tuple(str(p) for p in data.get("paths", ())),
        )


@dataclass(frozen=True)
class Triggers:
    """`triggers:`: whether an issue assigned to the bot starts a session, and which label
    does (None: the deployment's REPOBOX_TRIGGER_LABEL)."""

    assigned: bool = True
    label: str | None = None


@dataclass(frozen=True)
class ChecksConfig:
    setup: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()
    autofix: int = 0
    source: str = ""  # "main@1a2b3c4d5e" or "" when the repository has no file
    triggers: Triggers = Triggers()  # read where an issue event arrives; runs never store it
    hosts: tuple[str, ...] = ()  # `network: hosts:`, asked for; the operator's list decides
    mcp: tuple[McpServer, ...] = ()  # `mcp:`, the repository's MCP servers (not stored)
    ci_fix: int = 2  # `ci_fix: attempts:`: fix prompts after failed CI per session; 0 = off

    @property
    def found(self) -> bool:
        return bool(self.source)

    def to_dict(self) -> ChecksConfigDict:
        return {
            "setup": list(self.setup),
            "checks": [c.to_dict() for c in self.checks],
            "autofix": self.autofix,
            "source": self.source,
            "hosts": list(self.hosts),
        }

    @classmethod
    def from_dict(cls, data: ChecksConfigDict) -> ChecksConfig:
        return cls(
            setup=tuple(str(s) for s in data.get("setup", ())),
            checks=tuple(Check.from_dict(c) for c in data.get("checks", ())),
            autofix=int(data.get("autofix", 0)),
            source=str(data.get("source", "")),
            hosts=tuple(str(h) for h in data.get("hosts", ())),
        )


class ConfigInvalid(UserError):
    """`.repobox.yml` cannot be used; `problems` are the lines to show, one per mistake."""

    def __init__(self, where: str, problems: list[str]) -> None:
        listed = "\n".join(f"• {p}" for p in problems)
        super().__init__(
            f"`{FILENAME}` on {where} is not valid, so no checks ran:\n{listed}",
            hint=f"Fix `{FILENAME}` on the base branch; see Repobox's docs/repobox-yml.md.",
        )
        self.problems = problems
