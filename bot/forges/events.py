"""A comment that asks Repobox for something, as the webhook handler hands it to a job.

The handler fills it from the platform's payload in microseconds; the job does the slow
rest (permissions, reactions, context, the session). JSON only, validated on the way in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypedDict

from bot.core.dispatch import safe_id
from bot.forges.forge import (
    ForgeUser,
    ForgeUserDict,
    Kind,
    ReplyTarget,
    ReplyTargetDict,
    kind_of,
    mapping,
    whole,
)


class ReviewDict(TypedDict):
    path: str
    line: int | None
    diff_hunk: str


class CommentEventDict(TypedDict):
    provider: str
    project: str
    project_id: int
    kind: Kind
    number: int
    comment_id: int
    author: ForgeUserDict
    body: str
    url: str
    reply: ReplyTargetDict
    review: ReviewDict | None
    delivery: str
    whole_review: bool


@dataclass(frozen=True)
class Review:
    """Where on the diff a review comment sits (GitLab diff note, GitHub review comment)."""

    path: str
    line: int | None
    diff_hunk: str = ""

    def to_dict(self) -> ReviewDict:
        return {"path": self.path, "line": self.line, "diff_hunk": self.diff_hunk}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Review:
        line = data.get("line")
        return cls(
            str(data["path"]), whole(line) if line is not None else None, str(data["diff_hunk"])
        )


@dataclass(frozen=True)
class CommentEvent:
    provider: str  # "gitlab" or "github"
    project: str  # group/project or owner/repo
    project_id: int  # stable across renames: part of the thread key
    kind: Kind
    number: int  # the issue or merge request iid / number
    comment_id: int
    author: ForgeUser
    body: str  # as written (the job strips hidden markup before anyone reads it)
    url: str  # of the comment
    reply: ReplyTarget  # where answers go (the conversation, a discussion, a review thread)
    review: Review | None = None
    delivery: str = ""  # the platform's delivery id (logs)
    # A submitted GitHub review's summary, not a comment: its id is a review id (not
    # comparable with comment ids) and there is no comment to react to.
    whole_review: bool = False

    def __post_init__(self) -> None:
        if self.provider not in ("gitlab", "github"):
            raise ValueError(f"unknown provider {self.provider!r}")
        if not self.project or self.number <= 0 or self.comment_id <= 0:
            raise ValueError("a comment event needs a project, a number and a comment id")

    @property
    def thread_key(self) -> str:
        """One session per issue or merge request, named by ids that survive renames."""
        return f"{self.project_id}:{self.kind}:{self.number}"

    @property
    def request_id(self) -> str:
        """Unique per comment: the same comment, delivered twice, is one request."""
        source = "review" if self.review is not None and self.provider == "github" else "note"
        if self.whole_review:
            source = "pr-review"
        return safe_id(f"{self.provider}-{source}-{self.comment_id}")

    def to_dict(self) -> CommentEventDict:
        return {
            "provider": self.provider,
            "project": self.project,
            "project_id": self.project_id,
            "kind": self.kind,
            "number": self.number,
            "comment_id": self.comment_id,
            "author": self.author.to_dict(),
            "body": self.body,
            "url": self.url,
            "reply": self.reply.to_dict(),
            "review": self.review.to_dict() if self.review else None,
            "delivery": self.delivery,
            "whole_review": self.whole_review,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> CommentEvent:
        review = data.get("review")
        return cls(
            provider=str(data["provider"]),
            project=str(data["project"]),
            project_id=whole(data["project_id"]),
            kind=kind_of(data["kind"]),
            number=whole(data["number"]),
            comment_id=whole(data["comment_id"]),
            author=ForgeUser.from_dict(mapping(data["author"])),
            body=str(data["body"]),
            url=str(data.get("url") or ""),
            reply=ReplyTarget.from_dict(mapping(data["reply"])),
            review=Review.from_dict(mapping(review)) if review else None,
            delivery=str(data.get("delivery") or ""),
            whole_review=bool(data.get("whole_review", False)),
        )
