"""An issue's labels or assignees changed: what the webhook handler hands the trigger job.

Read from GitHub's `issues` deliveries (`labeled`, `unlabeled`, `assigned`, `unassigned`)
and GitLab's Issue Hook (`changes.labels`, `changes.assignees`). The handler only says
what changed and who changed it; whether that starts or cancels a session (the bot's own
user, the repository's label) is the job's to decide, since it needs the forge and the
repository's `.repobox.yml`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypedDict

from bot.forges.forge import ForgeUser, ForgeUserDict, mapping, whole


class IssueChangeDict(TypedDict):
    provider: str
    project: str
    project_id: int
    number: int
    sender: ForgeUserDict
    labeled: list[str]
    unlabeled: list[str]
    assigned: list[str]
    unassigned: list[str]
    delivery: str


def _names(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()


@dataclass(frozen=True)
class IssueChange:
    provider: str  # "gitlab" or "github"
    project: str
    project_id: int
    number: int  # the issue's number (GitLab: iid)
    sender: ForgeUser  # who labelled or assigned: the session's asker
    labeled: tuple[str, ...] = ()  # label names added
    unlabeled: tuple[str, ...] = ()
    assigned: tuple[str, ...] = ()  # usernames added
    unassigned: tuple[str, ...] = ()
    delivery: str = ""

    @property
    def thread_key(self) -> str:
        """The issue's thread, as a comment on it names it (`CommentEvent.thread_key`)."""
        return f"{self.project_id}:issue:{self.number}"

    def to_dict(self) -> IssueChangeDict:
        return {
            "provider": self.provider,
            "project": self.project,
            "project_id": self.project_id,
            "number": self.number,
            "sender": self.sender.to_dict(),
            "labeled": list(self.labeled),
            "unlabeled": list(self.unlabeled),
            "assigned": list(self.assigned),
            "unassigned": list(self.unassigned),
            "delivery": self.delivery,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> IssueChange:
        return cls(
            provider=str(data["provider"]),
            project=str(data["project"]),
            project_id=whole(data["project_id"]),
            number=whole(data["number"]),
            sender=ForgeUser.from_dict(mapping(data["sender"])),
            labeled=_names(data.get("labeled")),
            unlabeled=_names(data.get("unlabeled")),
            assigned=_names(data.get("assigned")),
            unassigned=_names(data.get("unassigned")),
            delivery=str(data.get("delivery") or ""),
        )
