"""What a forge session knows about the issue or merge request it works on.

Written once when the session starts (from the host's API, in the job), read by the agents
(their system prompt, Claude Code's context file), by set-up (`target_branch`, where the
instruction files are read from) and by ship (`closes`). Slack and CLI sessions have none
(`Session.context` is None). `to_dict` is the shape agreed with command agents
(`.git/repobox/context.json`, where `Session.instructions` is added beside it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.forges.forge import Kind
from bot.sessions.quote import Quote, quotes


@dataclass(frozen=True)
class ThreadContext:
    kind: Kind
    number: int | None = None  # None only in hand-made contexts (tests, a future surface)
    title: str = ""
    body: str = ""
    url: str = ""
    comments: tuple[Quote, ...] = ()  # earlier comments, as they stood when the session began
    closes: str | None = None  # issues: what the MR description says it closes ("#3")
    source_branch: str | None = None  # merge requests: the branch the work goes on
    target_branch: str | None = None  # merge requests: where instructions are read from

    @property
    def noun(self) -> str:
        return "issue" if self.kind == "issue" else "merge request"

    def with_comments(self, comments: tuple[Quote, ...]) -> ThreadContext:
        return replace(self, comments=comments)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "title": self.title,
            "body": self.body,
            "url": self.url,
            "number": self.number,
            "comments": [c.to_dict() for c in self.comments],
        }
        if self.kind == "issue":
            out["closes"] = self.closes
        else:
            out["source_branch"] = self.source_branch
            out["target_branch"] = self.target_branch
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ThreadContext | None:
        """None for the empty context of Slack/CLI sessions (stored as `{}` before)."""
        if not data or data.get("kind") not in ("issue", "merge_request"):
            return None
        kind: Kind = "issue" if data["kind"] == "issue" else "merge_request"
        return cls(
            kind=kind,
            number=int(data["number"]) if data.get("number") is not None else None,
            title=str(data.get("title") or ""),
            body=str(data.get("body") or ""),
            url=str(data.get("url") or ""),
            comments=quotes(data.get("comments")),
            closes=_opt(data.get("closes")),
            source_branch=_opt(data.get("source_branch")),
            target_branch=_opt(data.get("target_branch")),
        )


def _opt(value: object) -> str | None:
    return str(value) if value is not None and value != "" else None
