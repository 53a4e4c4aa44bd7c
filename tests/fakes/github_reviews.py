"""GitHub's pull request reviews on the fake GitHub: `POST|GET /repos/{o}/{r}/pulls/{n}/reviews`.

Registered on an existing `FakeGitHub` with `GitHubReviews(fake)` (routes may be added
before or after the server starts). Like GitHub, a review is checked against the pull
request's real diff (`git diff base...commit_id` in the repository behind `clone_url`):
a comment whose `line` (or `start_line`) is not in one hunk on its side is refused with
422 "Pull request review thread line must be part of the diff", and the whole review is
refused with it, so a caller that posts a finding off the diff loses everything.
Request and response shapes follow docs.github.com/rest/pulls/reviews (API 2022-11-28).
"""

from __future__ import annotations

import copy
import re
import subprocess
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .base import Recorded
from .github import (
    ApiError,
    Comment,
    FakeGitHub,
    Issue,
    Repo,
    User,
    _local_git_dir,
    _node_id,
    _now,
    _validation_failed,
)

DOCS = "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request"
EVENTS = ("APPROVE", "REQUEST_CHANGES", "COMMENT")
OFF_DIFF = (
    "Pull request review thread line must be part of the diff and Pull request review "
    "thread diff hunk can't be blank"
)
HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")


@dataclass
class Review:
    id: int
    number: int
    user: str
    body: str
    state: str
    commit_id: str
    submitted_at: str
    comment_ids: list[int] = field(default_factory=list)


def hunks(git_dir: str, base: str, head: str) -> dict[str, dict[str, list[set[int]]]]:
    """{path: {"RIGHT": [lines of each hunk], "LEFT": [...]}} of `git diff base...head`."""
    done = subprocess.run(
        ["git", "-C", git_dir, "diff", "--no-color", "--no-ext-diff", f"{base}...{head}"],
        capture_output=True, text=True, timeout=20, check=False,
    )  # fmt: skip
    files: dict[str, dict[str, list[set[int]]]] = {}
    sides: dict[str, list[set[int]]] = {}
    old = new = 0
    for line in done.stdout.splitlines():
        if line.startswith("+++ "):
            sides = files.setdefault(line[4:].removeprefix("b/"), {"RIGHT": [], "LEFT": []})
        elif line.startswith("--- ") or line.startswith("diff "):
            continue
        elif (match := HUNK.match(line)) is not None:
            old, new = int(match.group(1)), int(match.group(2))
            sides["RIGHT"].append(set())
            sides["LEFT"].append(set())
        elif sides and sides["RIGHT"] and line[:1] in ("+", "-", " "):
            if line[0] in "+ ":
                sides["RIGHT"][-1].add(new)
                new += 1
            if line[0] in "- ":
                sides["LEFT"][-1].add(old)
                old += 1
    return files


class GitHubReviews:
    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self.reviews: list[Review] = []
        base = "/repos/{owner}/{repo}/pulls/{number}/reviews"
        fake._api("POST", base, self._create)
        fake._api("GET", base, self._list)

    def of(self, number: int) -> list[Review]:
        with self.fake._state:
            return [copy.deepcopy(r) for r in self.reviews if r.number == number]

    def comments(self, review: Review) -> list[Comment]:
        return [self.fake.comment(i) for i in review.comment_ids]

    # -- routes ---------------------------------------------------------------------------
    def _create(self, call: Recorded, me: User) -> web.Response:
        fake = self.fake
        repo, pull = fake._issue_for(call, me, pull=True)
        data = fake._body(call)
        body = fake._text(data, "body", "PullRequestReview", required=False) or ""
        event = data.get("event")
        if event is not None and event not in EVENTS:
            raise _validation_failed(
                [{"resource": "PullRequestReview", "field": "event", "code": "invalid"}], DOCS
            )
        if event in ("REQUEST_CHANGES", "COMMENT") and not body.strip():
            raise ApiError(422, "Unprocessable Entity", ["Body is required"], DOCS)
        commit = data.get("commit_id") or pull.head_sha or fake._sha(repo, pull.head or "")
        comments = data.get("comments") or []
        if not isinstance(comments, list):
            raise ApiError(400, "Invalid request.\n\nFor 'properties/comments', is not an array.")
        diff = self._diff(repo, pull, str(commit))
        checked = [self._check(c, diff) for c in comments]
        review = Review(
            next(fake._ids), pull.number, me.login, body,
            {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED"}.get(
                str(event), "COMMENTED" if event else "PENDING"
            ),
            str(commit), _now(),
        )  # fmt: skip
        for path, line, side, start, text in checked:
            comment = fake._new_comment(pull, text, me.login, "review")
            comment.path, comment.line, comment.side = path, line, side
            comment.commit_id, comment.review_id = str(commit), review.id
            comment.diff_hunk = f"@@ {path}:{start or line}-{line} @@"
            review.comment_ids.append(comment.id)
        self.reviews.append(review)
        return fake._json(me, self._json(repo, review))

    def _list(self, call: Recorded, me: User) -> web.Response:
        repo, pull = self.fake._issue_for(call, me, pull=True)
        found = [self._json(repo, r) for r in self.reviews if r.number == pull.number]
        return self.fake._page(call, me, found)

    # -- checks ---------------------------------------------------------------------------
    def _diff(self, repo: Repo, pull: Issue, commit: str) -> dict[str, dict[str, list[set[int]]]]:
        git_dir = _local_git_dir(repo.clone_url)
        if git_dir is None:
            return {}
        base = pull.base_sha or self.fake._sha(repo, pull.base or "main")
        return hunks(git_dir, base, commit)

    @staticmethod
    def _check(
        raw: object, diff: dict[str, dict[str, list[set[int]]]]
    ) -> tuple[str, int, str, int | None, str]:
        if not isinstance(raw, dict):
            raise ApiError(400, "Invalid request.\n\nFor 'items', is not an object.")
        path, body, line = raw.get("path"), raw.get("body"), raw.get("line")
        side = raw.get("side", "RIGHT")
        start = raw.get("start_line")
        if not isinstance(path, str) or not isinstance(body, str):
            raise ApiError(422, "Unprocessable Entity", ["path and body are required"], DOCS)
        if "position" in raw:
            raise ApiError(422, "Unprocessable Entity", ["position is not supported here"], DOCS)
        if not isinstance(line, int) or side not in ("LEFT", "RIGHT"):
            raise ApiError(422, "Unprocessable Entity", ["line and side are required"], DOCS)
        if start is not None and (not isinstance(start, int) or start >= line):
            raise ApiError(422, "Unprocessable Entity", ["start_line must precede line"], DOCS)
        wanted = set(range(start if start is not None else line, line + 1))
        if not any(wanted <= hunk for hunk in diff.get(path, {}).get(side, [])):
            raise ApiError(422, "Unprocessable Entity", [OFF_DIFF], DOCS)
        return path, line, side, start, body

    def _json(self, repo: Repo, review: Review) -> dict[str, Any]:
        fake = self.fake
        html = f"{fake.url}/{repo.full_name}/pull/{review.number}"
        api = f"{fake.url}/repos/{repo.full_name}/pulls/{review.number}"
        return {
            "id": review.id,
            "node_id": _node_id("PullRequestReview", review.id),
            "user": fake._user_json(review.user),
            "body": review.body,
            "state": review.state,
            "html_url": f"{html}#pullrequestreview-{review.id}",
            "pull_request_url": api,
            "_links": {
                "html": {"href": f"{html}#pullrequestreview-{review.id}"},
                "pull_request": {"href": api},
            },
            "submitted_at": review.submitted_at,
            "commit_id": review.commit_id,
            "author_association": fake._association(repo, review.user),
        }
