"""What the GitLab and GitHub surfaces need from their host beyond the `Provider` interface.

Issues and merge requests are both "conversations" (GitHub pull requests count as merge
requests here); comments are "remarks". `ReplyTarget` says where Repobox writes: the
conversation itself, a GitLab discussion, or a GitHub review thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol, TypedDict

from bot.forges.provider import Provider

Kind = Literal["issue", "merge_request"]
KINDS: tuple[Kind, ...] = ("issue", "merge_request")


def kind_of(value: object) -> Kind:
    if value == "issue":
        return "issue"
    if value == "merge_request":
        return "merge_request"
    raise ValueError(f"not an issue or merge request kind: {value!r}")


# Reading back what `to_dict` wrote (JSON in a job's arguments or in Redis): each value is
# checked for the type it must have, not trusted.
def whole(value: object) -> int:
    """A whole number as JSON holds one (or its digits as text)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"not a whole number: {value!r}")
    return int(value)


def text_or_none(value: object) -> str | None:
    """A text, with `""` and `null` both meaning "none"."""
    return str(value) if value else None


def mapping(value: object) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ValueError(f"not an object: {type(value).__name__}")
    return value


class ForgeUserDict(TypedDict):
    id: str
    username: str
    name: str
    email: str | None
    bot: bool


class ReplyTargetDict(TypedDict):
    project: str
    kind: Kind
    number: int
    discussion_id: str | None
    review_comment_id: int | None


@dataclass(frozen=True)
class ForgeUser:
    id: str  # the host's numeric id, as text
    username: str  # what a mention uses
    name: str = ""
    email: str | None = None
    bot: bool = False

    def to_dict(self) -> ForgeUserDict:
        return {
            "id": self.id,
            "username": self.username,
            "name": self.name,
            "email": self.email,
            "bot": self.bot,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ForgeUser:
        return cls(
            id=str(data["id"]),
            username=str(data["username"]),
            name=str(data.get("name") or data["username"]),
            email=text_or_none(data.get("email")),
            bot=bool(data.get("bot", False)),
        )


@dataclass(frozen=True)
class ReplyTarget:
    """Where replies go: a conversation, a GitLab discussion or a GitHub review thread."""

    project: str
    kind: Kind
    number: int
    discussion_id: str | None = None  # GitLab: reply inside this discussion
    review_comment_id: int | None = None  # GitHub: the review thread's first comment

    def to_dict(self) -> ReplyTargetDict:
        return {
            "project": self.project,
            "kind": self.kind,
            "number": self.number,
            "discussion_id": self.discussion_id,
            "review_comment_id": self.review_comment_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ReplyTarget:
        review = data.get("review_comment_id")
        return cls(
            project=str(data["project"]),
            kind=kind_of(data["kind"]),
            number=whole(data["number"]),
            discussion_id=text_or_none(data.get("discussion_id")),
            review_comment_id=whole(review) if review is not None else None,
        )


@dataclass(frozen=True)
class Conversation:
    """An issue or merge request as it stands now."""

    kind: Kind
    number: int
    title: str
    body: str
    url: str
    source_branch: str | None = None  # merge requests only
    target_branch: str | None = None
    from_fork: bool = False
    author: str | None = None


@dataclass(frozen=True)
class Remark:
    """One comment, oldest first in lists; `system` marks the host's own event notes."""

    id: int
    author: ForgeUser
    body: str
    system: bool = False


class Forge(Provider, Protocol):
    """A git host with conversations: GitLab or GitHub."""

    def identity(self) -> ForgeUser:
        """The token's own user (cached), so its comments are never taken as commands."""
        ...

    def is_bot(self, user: ForgeUser) -> bool: ...

    def may_drive(self, project: str, user: ForgeUser) -> bool:
        """Developer access or more (GitLab), write permission or more (GitHub)."""
        ...

    def conversation(self, project: str, kind: Kind, number: int) -> Conversation: ...

    def remarks(self, project: str, kind: Kind, number: int) -> list[Remark]:
        """The conversation's comments, oldest first (GitHub: not the review comments)."""
        ...

    def thread_remarks(self, target: ReplyTarget) -> list[Remark]:
        """The comments of one discussion or review thread, oldest first."""
        ...

    def post(self, target: ReplyTarget, body: str) -> int:
        """Write a new comment; returns its id."""
        ...

    def edit(self, target: ReplyTarget, comment_id: int, body: str) -> None:
        """Change a comment Repobox wrote at `target` (edits do not notify anyone)."""
        ...

    def react(self, target: ReplyTarget, comment_id: int, emoji: str) -> None:
        """Put `emoji` ("eyes") on a comment; giving it twice is not an error."""
        ...
