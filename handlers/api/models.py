"""The API's types: what each operation reads and answers, as pydantic models.

The handlers validate requests with these and build their answers from them, and the
OpenAPI description (`handlers.api.openapi`) is generated from the very same models, so the
two cannot drift apart. Request models forbid unknown fields: a typo is a 422, not ignored.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.sessions.events import EventKind
from bot.sessions.listing import MOST, PAGE_SIZE
from bot.sessions.prompts import Action, Prompt, PromptState
from bot.sessions.session import SessionState

PROMPT_LIMIT = 20_000  # characters of one prompt


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StartSession(_In):
    """Start a session on a repository, optionally with its first prompt."""

    repo: str = Field(
        min_length=1,
        max_length=500,
        description="`group/project` on the configured host, `github:owner/repo`, or a clone URL.",
    )
    base: str | None = Field(default=None, max_length=250, description="The base branch.")
    prompt: str | None = Field(default=None, max_length=PROMPT_LIMIT)
    model: str | None = Field(
        default=None,
        max_length=100,
        description="The model or agent the session's runs use (`sonnet`, `opus`, `haiku`, "
        "`claude-code`, …), within REPOBOX_MODELS_ALLOWED; none: the deployment's default.",
    )


class PromptIn(_In):
    prompt: str = Field(min_length=1, max_length=PROMPT_LIMIT)


class CompareIn(_In):
    prompt: str = Field(min_length=1, max_length=PROMPT_LIMIT)
    candidates: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="Models or presets (`sonnet`, `opus`, `claude-code`); none: the default list.",
    )


class PickIn(_In):
    number: int = Field(ge=1, le=99, description="The candidate to adopt, from 1.")


class ShipQuery(_In):
    anyway: bool = Field(default=False, description="Ship even when required checks fail.")


class ListQuery(_In):
    state: SessionState | None = None
    repo: str | None = Field(default=None, max_length=300, description="`provider:project`.")
    scope: Literal["mine", "everyone"] = Field(
        default="mine", description="`everyone`: admins only."
    )
    limit: int = Field(default=PAGE_SIZE, ge=1, le=MOST)
    after: str | None = Field(default=None, max_length=120, description="`next_cursor`.")


class EventsQuery(_In):
    until: Literal["idle"] | None = Field(
        default=None,
        description="`idle`: end the stream once no prompt is running or waiting.",
    )


class Author(BaseModel):
    name: str


class PromptOut(BaseModel):
    """One prompt (or ship, undo, compare, pick) and, once it ended, its result."""

    id: str
    seq: int
    action: Action
    text: str
    state: PromptState
    author: Author
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    summary: str | None = None
    error: str | None = None
    result: dict[str, Any] | None = Field(
        default=None, description="Summary, files, checks, cost, the merge request: as stored."
    )

    @classmethod
    def of(cls, prompt: Prompt) -> PromptOut:
        return cls(
            id=prompt.id,
            seq=prompt.seq,
            action=prompt.action,
            text=prompt.text,
            state=prompt.state,
            author=Author(name=prompt.author.name),
            created_at=prompt.created_at,
            started_at=prompt.started_at,
            finished_at=prompt.finished_at,
            summary=prompt.summary,
            error=prompt.error,
            result=prompt.result.to_dict() if prompt.result is not None else None,
        )


class MergeRequest(BaseModel):
    url: str
    number: int | None = None


class Thread(BaseModel):
    """One thread the session answers in: where it started, or the MR/PR it shipped."""

    surface: str = Field(description="slack, github, gitlab, web, api or cli.")
    label: str = Field(
        description="As people read it: `Slack thread`, `GitHub PR #12`, `GitLab !3`."
    )
    url: str | None = Field(description="Its link, when one is known.")
    home: bool = Field(description="Where the session started.")


class Places(BaseModel):
    """Where the session can be followed."""

    api: str
    events: str
    dashboard: str
    live: str = Field(description="The signed, expiring read-only live page.")
    threads: list[Thread] = Field(
        default_factory=list,
        description="Every thread it answers in: its own first, then the MR/PR it shipped.",
    )


class SessionOut(BaseModel):
    id: str
    repo: str
    provider: str
    project: str
    base_branch: str | None
    work_branch: str
    state: SessionState
    title: str
    started_by: Author
    created_at: float
    updated_at: float
    merge_request: MergeRequest | None
    error: str | None = None
    running: int | None = Field(description="The running prompt's number, if any.")
    waiting: list[int] = Field(description="The waiting prompts' numbers, in order.")
    prompts: list[PromptOut]
    places: Places


class SessionRow(BaseModel):
    id: str
    provider: str
    project: str
    title: str
    state: str
    surface: str = Field(description="Where it was started: slack, gitlab, github, web, api, cli.")
    started_by: str
    last_activity: int
    merge_request_url: str | None
    places: list[Thread] = Field(
        default_factory=list, description="Its threads: its own first, then the MR/PR it shipped."
    )


class SessionList(BaseModel):
    items: list[SessionRow]
    next_cursor: str | None = Field(description="Pass as `after` for the next page.")
    repositories: list[str] = Field(description="`provider:project` of the listed repositories.")


class Started(BaseModel):
    session: SessionOut
    prompt: PromptOut | None


class Accepted(BaseModel):
    """The request joined the session's queue; follow its progress on the events stream."""

    message: str
    prompt: PromptOut
    position: int = Field(description="Its place in the queue: 1 runs next.")


class CancelOut(BaseModel):
    message: str
    cancelled: int | None = Field(description="The running prompt's number, if one was running.")
    dropped: list[int]


class Done(BaseModel):
    message: str


class ProgressEvent(BaseModel):
    """What one `progress` event's data holds (`bot.sessions.events.ProgressEvent`)."""

    id: str | None = Field(description="The stream id: send it back as `Last-Event-ID`.")
    kind: EventKind
    text: str
    prompt: str | None = Field(description="The prompt's id, if the event belongs to one.")
    data: dict[str, Any]
    at: float


class StreamEnd(BaseModel):
    """The `end` event's data (`until=idle`): the last event's id."""

    last: str


class Diff(BaseModel):
    stat: dict[str, Any] | None = Field(description="Files, insertions, deletions, summary.")
    patch: str


class ReviewIn(_In):
    """Review a pull request or merge request: one review with inline comments, posted there."""

    url: str = Field(
        min_length=1,
        max_length=500,
        description="The pull request's or merge request's address on the configured GitHub "
        "or GitLab.",
    )
    focus: str | None = Field(
        default=None, max_length=2000, description="What to look at most (free text)."
    )


class ReviewQueued(BaseModel):
    """The review is queued; it is posted on the merge request, never answered here."""

    message: str
    provider: Literal["github", "gitlab"]
    project: str
    number: int
