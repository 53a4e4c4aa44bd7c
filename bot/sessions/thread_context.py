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

from bot.core.stored import JsonObject, Maybe, Records, Text, dump, load
from bot.forges.forge import KINDS, Kind
from bot.sessions.quote import Quote

_NOT_FOR = {"issue": ("source_branch", "target_branch"), "merge_request": ("closes",)}


@dataclass(frozen=True)
class ThreadContext:
    kind: Kind
    number: int | None = None  # None only in hand-made contexts (tests, a future surface)
    title: Text = ""
    body: Text = ""
    url: Text = ""
    comments: Records[Quote] = ()  # earlier comments, as they stood when the session began
    closes: Maybe[str] = None  # issues: what the MR description says it closes ("#3")
    source_branch: Maybe[str] = None  # merge requests: the branch the work goes on
    target_branch: Maybe[str] = None  # merge requests: where instructions are read from

    @property
    def noun(self) -> str:
        return "issue" if self.kind == "issue" else "merge request"

    def with_comments(self, comments: tuple[Quote, ...]) -> ThreadContext:
        return replace(self, comments=comments)

    def to_dict(self) -> JsonObject:
        """Every field but those of the other kind (an issue has no branches)."""
        return {k: v for k, v in dump(self).items() if k not in _NOT_FOR[self.kind]}

    @classmethod
    def from_dict(cls, data: Mapping[str, object] | None) -> ThreadContext | None:
        """None for the empty context of Slack/CLI sessions (stored as `{}` before); the
        `instructions` stored inside it before are `Session.instructions` now."""
        if not data or data.get("kind") not in KINDS:
            return None
        return load(cls, data)
