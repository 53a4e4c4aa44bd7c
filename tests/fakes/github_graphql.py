"""A minimal GitHub GraphQL endpoint on the fake GitHub: `POST /graphql` answering the two
operations a review needs, in GitHub's shapes (docs.github.com/graphql):

- `repository(owner, name) { pullRequest(number) { reviewThreads(first, after) { … } } }`:
  a pull request's review threads (a thread is a review comment and its replies), each
  `id`, `isResolved` and its first comment's `body` and `author { login }`;
- `resolveReviewThread(input: {threadId})`: resolves one; only someone who may write to
  the repository can, as on GitHub.

Registered with `GitHubGraphQL(fake)`. Anything else is answered with GraphQL's own error
shape (HTTP 200 and `errors`), so an unexpected query fails loudly in the caller.
"""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web

from .base import Recorded
from .github import ApiError, FakeGitHub, User


def thread_id(comment_id: int) -> str:
    return "PRRT_" + base64.b64encode(f"thread:{comment_id}".encode()).decode().rstrip("=")


class GitHubGraphQL:
    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self.resolved: set[int] = set()  # first comment ids of resolved threads
        fake._api("POST", "/graphql", self._graphql)

    def is_resolved(self, comment_id: int) -> bool:
        with self.fake._state:
            return comment_id in self.resolved

    def _graphql(self, call: Recorded, me: User) -> web.Response:
        data = self.fake._body(call)
        query, variables = data.get("query"), data.get("variables") or {}
        if not isinstance(query, str) or not isinstance(variables, dict):
            raise ApiError(400, "Problems parsing JSON")
        if "resolveReviewThread" in query:
            return self._resolve(me, variables)
        if "reviewThreads" in query:
            return self._threads(me, variables)
        return self._errors(
            me, "Parse error: FakeGitHub knows only reviewThreads and resolveReviewThread"
        )

    def _threads(self, me: User, variables: dict[str, Any]) -> web.Response:
        fake = self.fake
        name = f"{variables.get('owner')}/{variables.get('name')}".lower()
        repo = fake._repos.get(name)
        number = variables.get("number")
        pull = repo.issues.get(number) if repo is not None and isinstance(number, int) else None
        if repo is None or pull is None or not pull.is_pull:
            return self._errors(me, f"Could not resolve to a Repository with the name '{name}'.")
        firsts = sorted(
            (c for c in fake._comments.values()
             if c.kind == "review" and c.repo == repo.full_name and c.number == number
             and c.in_reply_to_id is None),
            key=lambda c: c.id,
        )  # fmt: skip
        after = variables.get("cursor")
        start = int(after) if isinstance(after, str) and after.isdigit() else 0
        page = firsts[start : start + 100]
        nodes = [
            {
                "id": thread_id(c.id),
                "isResolved": c.id in self.resolved,
                "comments": {
                    "nodes": [{"databaseId": c.id, "body": c.body, "author": {"login": c.user}}]
                },
            }
            for c in page
        ]
        more = start + 100 < len(firsts)
        info = {"hasNextPage": more, "endCursor": str(start + 100) if more else None}
        threads = {"pageInfo": info, "nodes": nodes}
        body = {"data": {"repository": {"pullRequest": {"reviewThreads": threads}}}}
        return fake._json(me, body)

    def _resolve(self, me: User, variables: dict[str, Any]) -> web.Response:
        fake = self.fake
        wanted = variables.get("thread") or (variables.get("input") or {}).get("threadId")
        found = next(
            (
                c
                for c in fake._comments.values()
                if c.kind == "review" and thread_id(c.id) == wanted
            ),
            None,
        )
        if found is None:
            return self._errors(
                me, f"Could not resolve to a node with the global id of '{wanted}'", "NOT_FOUND"
            )
        repo = fake._repos[found.repo.lower()]
        if fake._role(repo, me.login) not in ("admin", "maintain", "write"):
            return self._errors(me, "Resource not accessible by integration", "FORBIDDEN")
        self.resolved.add(found.id)
        thread = {"id": wanted, "isResolved": True}
        return fake._json(me, {"data": {"resolveReviewThread": {"thread": thread}}})

    def _errors(self, me: User, message: str, kind: str | None = None) -> web.Response:
        error: dict[str, Any] = {"message": message}
        if kind is not None:
            error["type"] = kind
        return self.fake._json(me, {"data": None, "errors": [error]})
