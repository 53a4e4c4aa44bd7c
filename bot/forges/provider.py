"""The provider interface: what the engine needs from a git host, and nothing more."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.git.runner import Credentials


@dataclass(frozen=True)
class Repository:
    provider: str
    project: str  # group/project, owner/repo, or the path/URL for `local`
    clone_url: str  # from the host's API; never carries credentials
    default_branch: str | None = None
    web_url: str | None = None
    project_id: int | None = None  # the host's id: threads are keyed by it (renames keep it)
    public: bool = False  # anyone may read it (`review.allow_without_write` needs this)


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

    def credentials(self, project: str | None = None) -> Credentials | None:
        """What git needs to fetch and push `project` (passed through the environment only;
        a GitHub App's token is its installation's, found from the repository)."""
        ...

    def open_or_update_merge_request(
        self,
        repo: Repository,
        *,
        branch: str,
        base: str,
        title: str,
        description: str,
        draft: bool = False,
    ) -> MergeRequest | None:
        """Open the MR/PR for `branch` (`draft`: as a draft), or update the open one; None
        where the host has none."""
        ...


@dataclass(frozen=True)
class ReviewTarget:
    """A merge request as a review needs it: what to fetch, and the shas comments pin to."""

    url: str
    title: str
    description: str
    base_ref: str
    base_sha: str
    head_ref: str
    head_sha: str
    fetch_ref: str  # where the base repository has the head (a fork's is the host's ref)
    from_fork: bool
    author: str = ""
    start_sha: str = ""  # GitLab's diff_refs.start_sha; GitHub has none


FINDING_MARK = re.compile(r"<!-- repobox-finding:([0-9a-f]{12}) -->")


def finding_mark(key: str) -> str:
    """Hidden in an inline review comment, so a later review can find (and resolve) the
    thread of finding `key` without keeping the host's thread ids."""
    return f"<!-- repobox-finding:{key} -->"


@runtime_checkable
class Reviewer(Protocol):
    """A host that takes a review: one call, so people get one notification."""

    def review_target(self, project: str, number: int) -> ReviewTarget:
        """The merge request's refs and shas as the host sees them now."""
        ...

    def post_review(
        self,
        project: str,
        number: int,
        target: ReviewTarget,
        body: str,
        comments: list[dict[str, object]],
        event: str,
    ) -> str:
        """Post the summary and the inline comments as one review; its web address."""
        ...

    def resolve_findings(self, project: str, number: int, keys: frozenset[str]) -> list[str]:
        """Resolve the open threads Repobox started for findings `keys`; the keys resolved."""
        ...

    def resolve_thread(self, project: str, number: int, thread: str) -> bool:
        """Resolve one review thread of a merge request (a prompt asked there was done and
        its checks pass): GitLab's discussion id, or GitHub's first comment id of the thread.
        False when it was resolved already or cannot be."""
        ...
