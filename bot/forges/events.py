"""A comment that asks Repobox for something, as the webhook handler hands it to a job.

The handler fills it from the platform's payload in microseconds; the job does the slow
rest (permissions, reactions, context, the session). JSON only, validated on the way in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bot.core.dispatch import safe_id
from bot.forges.forge import ForgeUser, Kind, ReplyTarget, kind_of


@dataclass(frozen=True)
class Review:
    """Where on the diff a review comment sits (GitLab diff note, GitHub review comment)."""

    path: str
    line: int | None
    diff_hunk: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Review:
        line = data.get("line")
        return cls(str(data["path"]), int(line) if line is not None else None, data["diff_hunk"])


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

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["author"] = self.author.to_dict()
        data["reply"] = self.reply.to_dict()
        data["review"] = self.review.to_dict() if self.review else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CommentEvent:
        review = data.get("review")
        return cls(
            provider=str(data["provider"]),
            project=str(data["project"]),
            project_id=int(data["project_id"]),
            kind=kind_of(data["kind"]),
            number=int(data["number"]),
            comment_id=int(data["comment_id"]),
            author=ForgeUser.from_dict(data["author"]),
            body=str(data["body"]),
            url=str(data.get("url") or ""),
            reply=ReplyTarget.from_dict(data["reply"]),
            review=Review.from_dict(review) if review else None,
            delivery=str(data.get("delivery") or ""),
            whole_review=bool(data.get("whole_review", False)),
        )
