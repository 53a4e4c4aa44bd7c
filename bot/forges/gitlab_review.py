"""GitLab's side of a review: the merge request's diff refs, draft notes published together,
and resolving the threads of fixed findings.

Why draft notes: each comment created directly notifies everyone once; drafts published
with one `bulk_publish` are a single notification, as a person's review is. The summary is
a draft without a position, so it is published in the same batch as an ordinary MR note.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from gitlab import Gitlab
from gitlab.exceptions import GitlabError
from gitlab.v4.objects import ProjectMergeRequest

from bot.core.errors import UserError
from bot.forges.forge import ForgeUser
from bot.forges.provider import FINDING_MARK, ReviewTarget

T = TypeVar("T")


class GitLabReviewer:
    """Mixed into `GitLabProvider`, which supplies the client, `_call` and `identity`."""

    client: Gitlab

    def _call(self, what: str, action: Callable[[], T], missing: str | None = None) -> T:
        raise NotImplementedError

    def identity(self) -> ForgeUser:
        raise NotImplementedError

    def _merge_request(self, project: str, number: int) -> ProjectMergeRequest:
        lazy = self.client.projects.get(project, lazy=True)
        return lazy.mergerequests.get(number, lazy=True)

    def review_target(self, project: str, number: int) -> ReviewTarget:
        manager = self.client.projects.get(project, lazy=True).mergerequests
        found = self._call(
            "read the merge request",
            lambda: manager.get(number),
            missing=f"GitLab has no merge request {number} in `{project}`.",
        )
        data: dict[str, Any] = found.attributes
        refs = data.get("diff_refs") or {}
        if not refs.get("head_sha") or not refs.get("base_sha"):
            raise UserError("GitLab has not worked out this merge request's diff yet; try again.")
        fork = data.get("source_project_id") != data.get("target_project_id")
        source = str(data.get("source_branch") or "")
        return ReviewTarget(
            url=str(data.get("web_url") or ""),
            title=str(data.get("title") or ""),
            description=str(data.get("description") or ""),
            base_ref=str(data.get("target_branch") or ""),
            base_sha=str(refs["base_sha"]),
            head_ref=source,
            head_sha=str(refs["head_sha"]),
            # GitLab keeps every MR's head in the target project, a fork's included
            fetch_ref=f"refs/merge-requests/{number}/head" if fork else f"refs/heads/{source}",
            from_fork=fork,
            author=str((data.get("author") or {}).get("username") or ""),
            start_sha=str(refs.get("start_sha") or refs["base_sha"]),
        )

    def post_review(
        self,
        project: str,
        number: int,
        target: ReviewTarget,
        body: str,
        comments: list[dict[str, object]],
        event: str,
    ) -> str:
        """Drafts (`note` + `position`) then one `bulk_publish`. GitLab has no "request
        changes" review state, so `event` only shows in the summary's words."""
        drafts = self._merge_request(project, number).draft_notes
        made: list[int] = []
        try:
            summary: dict[str, object] = {"note": body}
            for comment in [*comments, summary]:
                data: dict[str, Any] = dict(comment)
                draft = self._call("write a review comment", partial(drafts.create, data))
                made.append(int(draft.id))
        except Exception:
            for draft_id in made:  # never leave half a review waiting to be published later
                try:
                    drafts.delete(draft_id)
                except GitlabError:
                    pass
            raise
        self._call("publish the review", drafts.bulk_publish)
        return target.url

    def resolve_thread(self, project: str, number: int, thread: str) -> bool:
        """`PUT …/discussions/:id` with `resolved=true`, on a resolvable open thread."""
        discussions = self._merge_request(project, number).discussions
        every = self._call("read the discussions", lambda: discussions.list(get_all=True))
        found = next((d for d in every if str(d.id) == thread), None)
        if found is None:
            return False
        notes = found.attributes.get("notes") or []
        first = notes[0] if notes else {}
        if first.get("resolved") or not first.get("resolvable"):
            return False
        self._call(
            "resolve a thread",
            partial(discussions.update, thread, {"resolved": True}),
        )
        return True

    def resolve_findings(self, project: str, number: int, keys: frozenset[str]) -> list[str]:
        if not keys:
            return []
        me = self.identity()
        discussions = self._merge_request(project, number).discussions
        found = self._call("read the discussions", lambda: discussions.list(get_all=True))
        done: list[str] = []
        for discussion in found:
            notes = discussion.attributes.get("notes") or []
            first = notes[0] if notes else {}
            mark = FINDING_MARK.search(str(first.get("body") or ""))
            author = str((first.get("author") or {}).get("id", ""))
            if mark is None or mark.group(1) not in keys or author != me.id:
                continue
            if first.get("resolved") or not first.get("resolvable"):
                continue
            discussion_id = str(discussion.id)
            self._call(
                "resolve a thread",
                partial(discussions.update, discussion_id, {"resolved": True}),
            )
            done.append(mark.group(1))
        return done
