"""Where a prompt was typed (`Prompt.origin`), tagged by surface.

Surfaces react on it (Slack: the message; forges: the comment) and send answers where it
says (`ForgeOrigin.reply`); agents are shown the forge comment and its review spot. Stored as
a dict with a `surface` tag; forge origins stored before the tag existed (no `surface`, a
`comment` and a `reply`) still load.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from bot.forges.forge import ReplyTarget
from bot.sessions.quote import Quote, quotes


@dataclass(frozen=True)
class SlackOrigin:
    """A Slack message: the bot reacts on it as the prompt runs."""

    surface: ClassVar[str] = "slack"
    channel: str
    ts: str
    user: str

    def to_dict(self) -> dict[str, Any]:
        return {"surface": self.surface, "channel": self.channel, "ts": self.ts, "user": self.user}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlackOrigin:
        return cls(str(data["channel"]), str(data["ts"]), str(data.get("user") or ""))


@dataclass(frozen=True)
class ForgeComment:
    author: str
    body: str  # visible text only
    url: str
    id: int

    def to_dict(self) -> dict[str, Any]:
        return {"author": self.author, "body": self.body, "url": self.url, "id": self.id}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ForgeComment:
        return cls(
            author=str(data.get("author") or "someone"),
            body=str(data.get("body") or ""),
            url=str(data.get("url") or ""),
            id=int(data.get("id") or 0),
        )

    @property
    def quote(self) -> Quote:
        return Quote(self.author, self.body)


@dataclass(frozen=True)
class ReviewSpot:
    """A review comment's place in the diff and the discussion before it."""

    path: str
    line: int | None
    diff_hunk: str
    discussion: tuple[Quote, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "diff_hunk": self.diff_hunk,
            "discussion": [q.to_dict() for q in self.discussion],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReviewSpot:
        line = data.get("line")
        return cls(
            path=str(data.get("path") or ""),
            line=int(line) if line is not None else None,
            diff_hunk=str(data.get("diff_hunk") or ""),
            discussion=quotes(data.get("discussion")),
        )


@dataclass(frozen=True)
class ForgeOrigin:
    """A GitLab/GitHub comment: answers go to `reply`, the agent is shown the comment."""

    surface: ClassVar[str] = "forge"
    comment: ForgeComment
    reply: ReplyTarget
    review: ReviewSpot | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "surface": self.surface,
            "comment": self.comment.to_dict(),
            "reply": self.reply.to_dict(),
        }
        if self.review is not None:
            out["review"] = self.review.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ForgeOrigin:
        review = data.get("review")
        return cls(
            comment=ForgeComment.from_dict(data.get("comment") or {}),
            reply=ReplyTarget.from_dict(data["reply"]),
            review=ReviewSpot.from_dict(review) if isinstance(review, Mapping) else None,
        )


@dataclass(frozen=True)
class CliOrigin:
    """Typed at the command line (`python app.py …`) by a local user."""

    surface: ClassVar[str] = "cli"
    user: str

    def to_dict(self) -> dict[str, Any]:
        return {"surface": self.surface, "user": self.user}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CliOrigin:
        return cls(str(data.get("user") or ""))


@dataclass(frozen=True)
class WebOrigin:
    """Typed on the web dashboard by a signed-in person."""

    surface: ClassVar[str] = "web"
    user: str

    def to_dict(self) -> dict[str, Any]:
        return {"surface": self.surface, "user": self.user}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WebOrigin:
        return cls(str(data.get("user") or ""))


Origin = SlackOrigin | ForgeOrigin | CliOrigin | WebOrigin


def origin_from_dict(data: Mapping[str, Any] | None) -> Origin | None:
    """The stored origin, or None when nothing (or nothing recognisable) was stored."""
    if not data:
        return None
    surface = data.get("surface")
    if surface == "slack" and data.get("channel") and data.get("ts"):
        return SlackOrigin.from_dict(data)
    if (surface in ("forge", None)) and isinstance(data.get("reply"), Mapping):
        return ForgeOrigin.from_dict(data)
    if surface == "cli":
        return CliOrigin.from_dict(data)
    if surface == "web":
        return WebOrigin.from_dict(data)
    return None


def origin_to_dict(origin: Origin | None) -> dict[str, Any]:
    return origin.to_dict() if origin is not None else {}
