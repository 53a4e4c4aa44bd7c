"""Where a prompt was typed (`Prompt.origin`), tagged by surface.

Surfaces react on it (Slack: the message; forges: the comment) and send answers where it
says (`ForgeOrigin.reply`); agents are shown the forge comment and its review spot. Stored as
a dict with a `surface` tag; forge origins stored before the tag existed (no `surface`, a
`comment` and a `reply`) still load.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, ClassVar, Self

from pydantic import BeforeValidator

from bot.core.stored import Count, JsonObject, Maybe, Records, Text, dump, empty_as, load
from bot.forges.forge import ReplyTarget
from bot.sessions.quote import Author, Quote


class _Tagged:
    """Stored as its fields and the `surface` tag that says which origin it is."""

    surface: ClassVar[str]

    def to_dict(self) -> JsonObject:
        return {"surface": self.surface, **dump(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Self:
        return load(cls, data)


@dataclass(frozen=True)
class SlackFile:
    """A file shared with a Slack message, as Slack describes it (fetched by the job, never
    by the web process; `bot.agents.attachments` decides what is fetched)."""

    id: Text
    name: Text = ""
    mimetype: Text = ""
    size: Count = 0
    url: Text = ""  # url_private: fetched with the bot token, from Slack's own host only


@dataclass(frozen=True)
class SlackOrigin(_Tagged):
    """A Slack message: the bot reacts on it as the prompt runs."""

    surface: ClassVar[str] = "slack"
    channel: Text
    ts: Text
    user: Text = ""
    files: Records[SlackFile] = ()  # what the message shared: the prompt's attachments


@dataclass(frozen=True)
class ForgeComment:
    author: Author = "someone"
    body: Text = ""  # visible text only
    url: Text = ""
    id: Count = 0

    def to_dict(self) -> JsonObject:
        return dump(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ForgeComment:
        return load(cls, data)

    @property
    def quote(self) -> Quote:
        return Quote(self.author, self.body)


@dataclass(frozen=True)
class ReviewSpot:
    """A review comment's place in the diff and the discussion before it."""

    path: Text = ""
    line: int | None = None
    diff_hunk: Text = ""
    discussion: Records[Quote] = ()

    def to_dict(self) -> JsonObject:
        return dump(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ReviewSpot:
        return load(cls, data)


def _reply(value: object) -> object:
    """The forges own a reply target's stored shape: it reads itself."""
    return ReplyTarget.from_dict(value) if isinstance(value, dict) else value


@dataclass(frozen=True)
class ForgeOrigin(_Tagged):
    """A GitLab/GitHub comment: answers go to `reply`, the agent is shown the comment."""

    surface: ClassVar[str] = "forge"
    comment: Annotated[ForgeComment, empty_as({})]
    reply: Annotated[ReplyTarget, BeforeValidator(_reply)]
    review: Maybe[ReviewSpot] = None
    # `surface|thread key` of the conversation it was asked in: a session started elsewhere
    # (Slack, the web) shows this prompt's progress there, on its merge request.
    place: Text = ""

    def to_dict(self) -> JsonObject:
        data = super().to_dict()
        if self.review is None:
            del data["review"]  # stored without it, as ever
        if not self.place:
            del data["place"]
        return data

    @property
    def place_surface(self) -> str:
        """The surface the prompt was asked on ("" when not recorded)."""
        return self.place.partition("|")[0]


@dataclass(frozen=True)
class CliOrigin(_Tagged):
    """Typed at the command line (`python app.py …`) by a local user."""

    surface: ClassVar[str] = "cli"
    user: Text = ""


@dataclass(frozen=True)
class WebOrigin(_Tagged):
    """Typed on the web dashboard by a signed-in person."""

    surface: ClassVar[str] = "web"
    user: Text = ""


@dataclass(frozen=True)
class ApiOrigin(_Tagged):
    """Sent to the JSON API (`/api/v1/`) with a person's API token: `user` is the person
    (`web:<account>`), `token` the token's id (never the token), so a prompt says which
    script or CI job sent it."""

    surface: ClassVar[str] = "api"
    user: Text = ""
    token: Text = ""


Origin = SlackOrigin | ForgeOrigin | CliOrigin | WebOrigin | ApiOrigin


def origin_from_dict(data: Mapping[str, object] | None) -> Origin | None:
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
    if surface == "api":
        return ApiOrigin.from_dict(data)
    return None


def origin_to_dict(origin: Origin | None) -> JsonObject:
    return origin.to_dict() if origin is not None else {}
