"""Sessions: one repository, one work branch, one workdir, bound to one thread.

A session is a Redis hash with one JSON value per field, so a worker and the web process
can each change the fields they own without overwriting the other's. State changes go
through `SessionStore.transition` (bot.sessions.session_store), which checks the move
atomically in Redis.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum

from bot.sessions.merge_request import MergeRequestRef
from bot.sessions.thread_context import ThreadContext


class SessionState(StrEnum):
    INITIALIZING = "initializing"
    READY = "ready"
    RUNNING = "running"
    PUSHED = "pushed"
    ARCHIVED = "archived"
    FAILED = "failed"


ALLOWED_MOVES: dict[SessionState, frozenset[SessionState]] = {
    SessionState.INITIALIZING: frozenset({SessionState.READY, SessionState.FAILED}),
    SessionState.READY: frozenset({SessionState.RUNNING}),
    SessionState.RUNNING: frozenset({SessionState.READY, SessionState.PUSHED}),
    SessionState.PUSHED: frozenset({SessionState.RUNNING}),
    SessionState.FAILED: frozenset(),
    SessionState.ARCHIVED: frozenset(),
}
# Archiving is allowed from every state but itself; the run is cancelled first.
for _state, _moves in list(ALLOWED_MOVES.items()):
    if _state is not SessionState.ARCHIVED:
        ALLOWED_MOVES[_state] = _moves | {SessionState.ARCHIVED}

ACCEPTS_PROMPTS = frozenset(
    {SessionState.INITIALIZING, SessionState.READY, SessionState.RUNNING, SessionState.PUSHED}
)


@dataclass(frozen=True)
class Thread:
    """Where a session lives on its surface; `key` is unique within the surface."""

    surface: str
    key: str
    url: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Thread:
        return cls(surface=str(data["surface"]), key=str(data["key"]), url=_text(data.get("url")))


@dataclass(frozen=True)
class Person:
    """Who asked; `email` feeds the checkpoint's Co-authored-by trailer when known."""

    id: str
    name: str
    email: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Person:
        return cls(id=str(data["id"]), name=str(data["name"]), email=_text(data.get("email")))

    @property
    def co_author(self) -> str:
        email = self.email or f"{self.id}@users.noreply.repobox"
        return f"{self.name} <{email}>"


@dataclass
class Session:
    id: str
    repo: str
    provider: str
    project: str
    base_branch: str | None
    work_branch: str
    thread: Thread
    created_by: Person
    state: SessionState = SessionState.INITIALIZING
    title: str = ""
    base_commit: str | None = None
    workdir: str | None = None
    context: ThreadContext | None = None  # forge sessions: the issue/MR worked on
    merge_request: MergeRequestRef | None = None
    # Instruction files (AGENTS.md, …) read at set-up from the target branch, so a run cannot
    # rewrite its own instructions; None: not read yet.
    instructions: dict[str, str] | None = None
    pushed_commit: str | None = None
    clone_url: str | None = None
    host: str | None = None  # the machine whose workers hold the workdir
    agent_conversation: str | None = None  # Claude Code's session id, resumed by each run
    # The model or agent preset its runs use, as people named it (`new … --model opus`,
    # `use claude-code`); None: the deployment's own (REPOBOX_AGENT, REPOBOX_MODEL).
    model: str | None = None
    error: str | None = None
    # What started it without anyone typing: "label" or "assigned" on its issue (its MR/PR
    # opens as a draft; taking the label or assignment back before it ships cancels it).
    trigger: str | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    @staticmethod
    def new_id() -> str:
        return secrets.token_hex(4)

    @property
    def shipped(self) -> bool:
        return self.pushed_commit is not None

    @property
    def repo_kind(self) -> str:
        """Where the repository lives, as people read it: `gitlab`, `github`, `git remote`
        (a URL git fetches itself) or `local path`. `provider` names only what ships it, and
        a plain remote URL ships as `local` (a push, no merge request)."""
        if self.provider != "local":
            return self.provider
        return "local path" if self.project.startswith("/") else "git remote"

    def to_redis(self) -> dict[str, str]:
        """One JSON value per field (the hash layout in Redis)."""
        out: dict[str, str] = {}
        for f in fields(self):
            out[f.name] = field_json(getattr(self, f.name))
        return out

    @classmethod
    def from_redis(cls, raw: dict[str, str]) -> Session:
        data = {name: json.loads(value) for name, value in raw.items()}
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        data["thread"] = Thread.from_dict(data["thread"])
        data["created_by"] = Person.from_dict(data["created_by"])
        data["state"] = SessionState(data["state"])
        context = data.get("context") or {}
        if data.get("instructions") is None and isinstance(context.get("instructions"), dict):
            data["instructions"] = context["instructions"]  # stored inside `context` before
        data["context"] = ThreadContext.from_dict(context)
        data["merge_request"] = MergeRequestRef.from_dict(data.get("merge_request"))
        return cls(**data)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def field_json(value: object) -> str:
    """One field as stored: typed values by their `to_dict`, the rest as they are."""
    if isinstance(value, Thread | Person | ThreadContext | MergeRequestRef):
        value = value.to_dict()
    return json.dumps(value)
