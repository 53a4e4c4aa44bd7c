"""What `.repobox.yml` may say, as pydantic models, and what each field expects in words.

Strict: YAML's `yes` is not `true`, `"10"` is not 10, and an unknown key is a mistake,
not something to skip (a misspelt `required:` must not quietly make a check optional).
A list that is not a list, or too long, is one mistake about the whole list; a short
text stands for a list of one where a list of commands or globs is expected.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, cast

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from bot.checks.config import (
    DEFAULT_TIMEOUT,
    MAX_AUTOFIX,
    MAX_CHECKS,
    MAX_HOSTS,
    MAX_SETUP,
    MAX_TIMEOUT,
    Check,
    ChecksConfig,
    Triggers,
)
from bot.core.mcp_servers import McpServer, parse_servers

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.:/-]{0,39}")
MAX_CI_FIX = 5  # fix prompts one session may get from failed CI
HOST = re.compile(r"\.?[A-Za-z0-9]([A-Za-z0-9-]{0,62}\.)*[A-Za-z0-9-]{1,63}")

# What each field expects, as the problem line says it; `[]` stands for any list index.
EXPECTED = {
    "": "a mapping with setup, checks, autofix, network and mcp",
    "setup": f"a list of up to {MAX_SETUP} shell commands",
    "setup[]": "a shell command",
    "checks": f"a list of up to {MAX_CHECKS} checks",
    "checks[]": "a mapping with name and run",
    "checks[].name": "a short name (letters, digits, spaces, `_.:/-`; at most 40 characters)",
    "checks[].run": "a shell command",
    "checks[].timeout": f"seconds between 1 and {MAX_TIMEOUT:.0f}",
    "checks[].required": "true or false",
    "checks[].paths": 'a list of globs such as ["**/*.py"]',
    "autofix": f"a whole number from 0 to {MAX_AUTOFIX}",
    "review": "a mapping with auto, instructions, request_changes and allow_without_write",
    "review.auto": "a list of opened, ready and pushed",
    "review.auto[]": "opened, ready or pushed",
    "review.instructions": "a path in the repository, such as docs/REVIEW.md",
    "review.request_changes": "blocker or never",
    "review.allow_without_write": "true or false",
    "triggers": "a mapping with assigned and label",
    "ci_fix": f"off, or a mapping with attempts (0 to {MAX_CI_FIX})",
    "ci_fix.attempts": f"a whole number from 0 to {MAX_CI_FIX}",
    "triggers.assigned": "true or false",
    "triggers.label": "a label's name (letters, digits, spaces, `_.:/-`; at most 40 characters)",
    "network": "a mapping with hosts",
    "network.hosts": f"a list of up to {MAX_HOSTS} host names",
    "network.hosts[]": "a host name such as pypi.org, or .example.org for its subdomains",
    "mcp": "a mapping of server names to {command, args, env_from} or {url, headers_from}",
}
UNIQUE_NAME = "a name used once"


def _command(value: str) -> str:
    if not value.strip():
        raise ValueError("blank")
    return value


def _name(value: str) -> str:
    if not NAME.fullmatch(value):
        raise ValueError("not a short name")
    return value


def _listed(limit: int | None, *, text_is_one: bool) -> Callable[[object], object]:
    """A list (at most `limit` long) as a tuple, nothing as an empty one, and where
    `text_is_one`, a text as a list of one; anything else fails the whole field."""

    def read(value: object) -> object:
        if value is None:
            return ()
        if text_is_one and isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or (limit is not None and len(value) > limit):
            raise ValueError("not a list, or too long")
        return tuple(value)

    return read


def _globs(value: object) -> object:
    """Globs fail as a whole: one line for the field, not one per glob."""
    items = _listed(None, text_is_one=True)(value)
    if not isinstance(items, tuple) or not all(isinstance(p, str) and p for p in items):
        raise ValueError("not a list of globs")
    return items


def _host(value: str) -> str:
    if len(value) > 253 or not HOST.fullmatch(value):
        raise ValueError("not a host name")
    return value.lower()


def _mcp(value: object) -> object:
    return parse_servers(value, "mcp")


Command = Annotated[str, AfterValidator(_command)]
STRICT = ConfigDict(strict=True, extra="forbid", frozen=True)


class CheckEntry(BaseModel):
    """One item of `checks:`."""

    model_config = STRICT

    name: Annotated[str, AfterValidator(_name)]
    run: Command
    timeout: Annotated[float, Field(ge=1, le=MAX_TIMEOUT)] = DEFAULT_TIMEOUT
    required: bool = True
    paths: Annotated[tuple[str, ...], BeforeValidator(_globs)] = ()  # empty: whatever changed

    def check(self) -> Check:
        return Check(self.name, self.run, self.timeout, self.required, self.paths)


def _path(value: str) -> str:
    parts = value.split("/")
    if not value or value.startswith("/") or len(value) > 255 or ".." in parts:
        raise ValueError("not a path in the repository")
    return value


AutoReview = Literal["opened", "ready", "pushed"]


class ReviewEntry(BaseModel):
    """`review:`: when reviews run by themselves and how they are posted (docs/review.md)."""

    model_config = STRICT

    auto: Annotated[tuple[AutoReview, ...], BeforeValidator(_listed(3, text_is_one=True))] = ()
    instructions: Annotated[str, AfterValidator(_path)] | None = None
    request_changes: Literal["blocker", "never"] = "never"
    allow_without_write: bool = False


class TriggersEntry(BaseModel):
    """`triggers:`: which issue events start a session (docs/triggers.md)."""

    model_config = STRICT

    assigned: bool = True
    label: Annotated[str, AfterValidator(_name)] | None = None

    def triggers(self) -> Triggers:
        return Triggers(self.assigned, self.label)


def _ci_fix(value: object) -> object:
    """`ci_fix: off` (YAML reads a bare off as false) is no attempts; `on`/true the default."""
    if value is False or value == "off":
        return {"attempts": 0}
    if value is True or value == "on":
        return {}
    return value


class CiFixEntry(BaseModel):
    """`ci_fix:`: how many fix prompts a failed CI run on a Repobox branch may start
    (docs/triggers.md)."""

    model_config = STRICT

    attempts: Annotated[int, Field(ge=0, le=MAX_CI_FIX)] = 2


class NetworkEntry(BaseModel):
    """`network:`: hosts the setup and the agent's commands may reach, within what the
    operator lets repositories add (REPOBOX_EGRESS_ALLOWED)."""

    model_config = STRICT

    hosts: Annotated[
        tuple[Annotated[str, AfterValidator(_host)], ...],
        BeforeValidator(_listed(MAX_HOSTS, text_is_one=True)),
    ] = ()


class RepoboxFile(BaseModel):
    """The whole file."""

    model_config = STRICT

    setup: Annotated[
        tuple[Command, ...], BeforeValidator(_listed(MAX_SETUP, text_is_one=True))
    ] = ()
    checks: Annotated[
        tuple[CheckEntry, ...], BeforeValidator(_listed(MAX_CHECKS, text_is_one=False))
    ] = ()
    autofix: Annotated[int, Field(ge=0, le=MAX_AUTOFIX)] = 0
    review: ReviewEntry = ReviewEntry()
    triggers: TriggersEntry = TriggersEntry()
    network: NetworkEntry = NetworkEntry()
    mcp: Annotated[tuple[Any, ...], BeforeValidator(_mcp)] = ()
    ci_fix: Annotated[CiFixEntry, BeforeValidator(_ci_fix)] = CiFixEntry()

    def config(self, source: str) -> ChecksConfig:
        checks = tuple(entry.check() for entry in self.checks)
        return ChecksConfig(
            self.setup,
            checks,
            self.autofix,
            source,
            triggers=self.triggers.triggers(),
            hosts=self.network.hosts,
            mcp=cast(tuple[McpServer, ...], self.mcp),
            ci_fix=self.ci_fix.attempts,
        )


TOP_KEYS = tuple(RepoboxFile.model_fields)  # setup, checks, autofix, review, … ci_fix
NETWORK_KEYS = tuple(NetworkEntry.model_fields)  # hosts
CHECK_KEYS = tuple(CheckEntry.model_fields)  # name, run, timeout, required, paths
REVIEW_KEYS = tuple(ReviewEntry.model_fields)  # auto, instructions, request_changes, ...
