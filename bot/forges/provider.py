"""The provider interface: what the engine needs from a git host, and nothing more."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.git.runner import Credentials


@dataclass(frozen=True)
class Repository:
    provider: str
    project: str  # group/project, owner/repo, or the path/URL for `local`
    clone_url: str  # from the host's API; never carries credentials
    default_branch: str | None = None
    web_url: str | None = None


@dataclass(frozen=True)
class MergeRequest:
    url: str
    number: int
    created: bool  # False when an open one was updated


class Provider(Protocol):
    name: str

    def resolve(self, project: str) -> Repository:
        """Look the project up on the host; `NotFound` with a clear message if it is not there."""
        ...

    def credentials(self) -> Credentials | None:
        """What git needs to fetch and push (passed through the environment only)."""
        ...

    def open_or_update_merge_request(
        self,
        repo: Repository,
        *,
        branch: str,
        base: str,
        title: str,
        description: str,
    ) -> MergeRequest | None:
        """Open the MR/PR for `branch`, or update the open one; None where the host has none."""
        ...
