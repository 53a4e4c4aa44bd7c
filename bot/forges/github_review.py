"""GitHub's side of a review: the pull request's refs, one review per request, and
resolving the threads of fixed findings (GraphQL: REST cannot resolve a review thread).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, TypeVar

from github import Github
from github.Commit import Commit
from github.PullRequest import PullRequest

from bot.forges.forge import ForgeUser, ReplyTarget
from bot.forges.provider import FINDING_MARK, ReviewTarget

T = TypeVar("T")

THREADS = """
query($owner: String!, $name: String!, $number: Int!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $cursor) {
        pageInfo { hasNextPage endCursor }
        nodes { id isResolved comments(first: 1) { nodes { databaseId body author { login } } } }
      }
    }
  }
}"""
RESOLVE = """
mutation($thread: ID!) {
  resolveReviewThread(input: {threadId: $thread}) { thread { id isResolved } }
}"""
MAX_PAGES = 10


class GitHubReviewer:
    """Mixed into `GitHubProvider`, which supplies the client, `_call`, `_pull`, `identity`."""

    def _client(self, project: str) -> Github:
        raise NotImplementedError

    def _call(self, what: str, action: Callable[[], T], missing: str | None = None) -> T:
        raise NotImplementedError

    def _pull(self, target: ReplyTarget) -> PullRequest:
        raise NotImplementedError

    def identity(self) -> ForgeUser:
        raise NotImplementedError

    def review_target(self, project: str, number: int) -> ReviewTarget:
        pull = self._pull(ReplyTarget(project, "merge_request", number))

        def read() -> ReviewTarget:
            head_repo = pull.head.repo
            fork = head_repo is None or head_repo.full_name.lower() != project.lower()
            return ReviewTarget(
                url=pull.html_url,
                title=pull.title,
                description=pull.body or "",
                base_ref=pull.base.ref,
                base_sha=pull.base.sha,
                head_ref=pull.head.ref,
                head_sha=pull.head.sha,
                fetch_ref=f"refs/pull/{number}/head" if fork else f"refs/heads/{pull.head.ref}",
                from_fork=fork,
                author=pull.user.login,
            )

        missing = f"GitHub has no pull request {number} in `{project}`."
        return self._call("read the pull request", read, missing=missing)

    def post_review(
        self,
        project: str,
        number: int,
        target: ReviewTarget,
        body: str,
        comments: list[dict[str, object]],
        event: str,
    ) -> str:
        """`POST …/pulls/{n}/reviews` pinned to the head that was reviewed (`commit_id`)."""
        pull = self._pull(ReplyTarget(project, "merge_request", number))
        commit = Commit(
            self._client(project).requester, {}, {"sha": target.head_sha}, completed=False
        )
        review = self._call(
            "post the review",
            lambda: pull.create_review(
                commit=commit,
                body=body,
                event=event,
                comments=comments,  # type: ignore[arg-type]
            ),
        )
        return str(review.html_url)

    def resolve_thread(self, project: str, number: int, thread: str) -> bool:
        """The thread whose first comment has the id `thread`, found by GraphQL."""
        if not thread.isdigit():
            return False
        for node, first in self._review_threads(project, number):
            if first.get("databaseId") == int(thread):
                return not node["isResolved"] and self._resolve(project, node)
        return False

    def resolve_findings(self, project: str, number: int, keys: frozenset[str]) -> list[str]:
        if not keys:
            return []
        me = self.identity().username.lower()
        done: list[str] = []
        for node, first in self._review_threads(project, number):
            mark = FINDING_MARK.search(str(first.get("body") or ""))
            author = str((first.get("author") or {}).get("login") or "").lower()
            if node["isResolved"] or mark is None or mark.group(1) not in keys or author != me:
                continue
            self._resolve(project, node)
            done.append(mark.group(1))
        return done

    def _review_threads(
        self, project: str, number: int
    ) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Each review thread of the pull request with its first comment, page by page (at
        most `MAX_PAGES`), read through GraphQL as a caller goes."""
        owner, _, name = project.partition("/")
        requester = self._client(project).requester
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            variables: dict[str, Any] = {
                "owner": owner, "name": name, "number": number, "cursor": cursor,
            }  # fmt: skip
            _, data = self._call(
                "read the review threads", partial(requester.graphql_query, THREADS, variables)
            )
            threads = data["data"]["repository"]["pullRequest"]["reviewThreads"]
            for node in threads["nodes"]:
                yield node, (node["comments"]["nodes"] or [{}])[0]
            if not threads["pageInfo"]["hasNextPage"]:
                return
            cursor = threads["pageInfo"]["endCursor"]

    def _resolve(self, project: str, node: dict[str, Any]) -> bool:
        requester = self._client(project).requester
        self._call(
            "resolve a review thread",
            partial(requester.graphql_query, RESOLVE, {"thread": node["id"]}),
        )
        return True
