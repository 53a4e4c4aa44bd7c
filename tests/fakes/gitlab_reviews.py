"""GitLab's merge request draft notes and resolvable discussions on the fake GitLab.

Registered on an existing `FakeGitLab` with `GitLabReviews(fake)`. Routes, as the GitLab
API documents them (docs.gitlab.com/api/draft_notes, /api/discussions):

- `GET|POST /projects/:id/merge_requests/:iid/draft_notes`: a draft is only the author's
  until published; its `position` is checked against the merge request's real diff
  (`git diff base_sha head_sha` in the repository behind the project) as GitLab does: an
  added line takes `new_line` alone, an unchanged line `old_line` and `new_line` both, a
  removed line `old_line` alone, and the shas must be the merge request's current
  `diff_refs`; anything else is GitLab's 400 about the note's line code.
- `POST …/draft_notes/bulk_publish`: every draft of the caller becomes a note at once (a
  positioned one a resolvable DiffNote thread): people get one notification. 204.
- `PUT …/discussions/:discussion_id` with `resolved`: resolves (or reopens) a thread.
"""

from __future__ import annotations

import copy
import itertools
import re
import subprocess
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .gitlab import ApiError, FakeGitLab, Json, MergeRequest, _Call, _repo_dir

LINE_CODE = '400 Bad request - Note {:line_code=>["can\'t be blank", "must be a valid line code"]}'
HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")


@dataclass
class Draft:
    id: int
    author_id: int
    iid: int
    note: str
    position: Json | None


@dataclass
class Lines:
    added: set[int]
    removed: set[int]
    context: dict[int, int]  # new line -> old line


def diff_lines(repo: str, base: str, head: str) -> dict[str, Lines]:
    """Each file's added, removed and context lines in `git diff base head`."""
    done = subprocess.run(
        ["git", "-C", repo, "diff", "--no-color", "--no-ext-diff", base, head],
        capture_output=True, text=True, timeout=20, check=False,
    )  # fmt: skip
    files: dict[str, Lines] = {}
    lines: Lines | None = None
    old = new = 0
    for raw in done.stdout.splitlines():
        if raw.startswith("+++ "):
            lines = files.setdefault(raw[4:].removeprefix("b/"), Lines(set(), set(), {}))
        elif raw.startswith(("--- ", "diff ", "index ")):
            continue
        elif (match := HUNK.match(raw)) is not None:
            old, new = int(match.group(1)), int(match.group(2))
        elif lines is not None and raw[:1] == "+":
            lines.added.add(new)
            new += 1
        elif lines is not None and raw[:1] == "-":
            lines.removed.add(old)
            old += 1
        elif lines is not None and raw[:1] == " ":
            lines.context[new] = old
            old, new = old + 1, new + 1
    return files


class GitLabReviews:
    def __init__(self, fake: FakeGitLab) -> None:
        self.fake = fake
        self.drafts: list[Draft] = []
        self.publishes: list[tuple[int, int]] = []  # (mr iid, notes published)
        self._ids = itertools.count(1)
        drafts = "projects/{id}/{kind}/{iid}/draft_notes"
        fake._api_route("GET", drafts, self._list)
        fake._api_route("POST", drafts, self._create)
        fake._api_route("POST", drafts + "/bulk_publish", self._publish)
        fake._api_route("DELETE", drafts + "/{draft_id}", self._delete)
        fake._api_route(
            "PUT", "projects/{id}/{kind}/{iid}/discussions/{discussion_id}", self._resolve
        )

    # -- routes ---------------------------------------------------------------------------
    async def _list(self, c: _Call) -> web.Response:
        with self.fake._state:
            mine = [self._json(c, d) for d in self._mine(c)]
        return self.fake._page(c, mine)

    async def _create(self, c: _Call) -> web.Response:
        mr = self._mr(c)
        note = c.params.get("note")
        if not isinstance(note, str) or not note.strip():
            raise ApiError(400, "note is missing", key="error")
        position = c.params.get("position")
        if position is not None:
            if not isinstance(position, dict):
                raise ApiError(400, "position is invalid", key="error")
            position = self._check(c, mr, position)
        with self.fake._state:
            draft = Draft(next(self._ids), c.user.id, mr.iid, note, position)
            self.drafts.append(draft)
            return self.fake._json(self._json(c, draft), status=201)

    async def _delete(self, c: _Call) -> web.Response:
        with self.fake._state:
            draft = next((d for d in self._mine(c) if str(d.id) == c.args["draft_id"]), None)
            if draft is None:
                raise ApiError(404, "404 Not found")
            self.drafts.remove(draft)
        return web.Response(status=204)

    async def _publish(self, c: _Call) -> web.Response:
        mr = self._mr(c)
        fake = self.fake
        with fake._state:
            mine = self._mine(c)
            for draft in mine:
                fake._new_note(
                    c.p, "merge_request", mr, draft.note, c.user,
                    position=draft.position, thread=draft.position is not None,
                )  # fmt: skip
                self.drafts.remove(draft)
            self.publishes.append((mr.iid, len(mine)))
        return web.Response(status=204)

    async def _resolve(self, c: _Call) -> web.Response:
        resolved = c.params.get("resolved")
        if not isinstance(resolved, bool):
            raise ApiError(400, "resolved is missing", key="error")
        discussion = c.args["discussion_id"]
        with self.fake._state:
            if discussion not in c.n.threads:
                raise ApiError(403, "403 Forbidden")  # a single note cannot be resolved
            for note in c.n.notes:
                if note.discussion_id == discussion:
                    note.resolved = resolved
            return self.fake._json(self.fake._discussion_json(c.p, c.n, discussion))

    # -- checks ---------------------------------------------------------------------------
    def _mr(self, c: _Call) -> MergeRequest:
        if c.k != "merge_request" or not isinstance(c.n, MergeRequest):
            raise ApiError(404, "404 Not found")
        return c.n

    def _mine(self, c: _Call) -> list[Draft]:
        return [d for d in self.drafts if d.author_id == c.user.id and d.iid == c.n.iid]

    def _check(self, c: _Call, mr: MergeRequest, position: dict[str, Any]) -> Json:
        repo = _repo_dir(c.p.http_url_to_repo)
        if repo is None:
            return dict(position)
        source, target = f"refs/heads/{mr.source_branch}", f"refs/heads/{mr.target_branch}"
        git = ["git", "-C", str(repo)]
        head = _out([*git, "rev-parse", source])
        base = _out([*git, "merge-base", target, source])
        start = _out([*git, "rev-parse", target])
        if position.get("position_type") != "text":
            raise ApiError(400, "position[position_type] does not have a valid value", key="error")
        wanted = (position.get("base_sha"), position.get("start_sha"), position.get("head_sha"))
        if wanted != (base, start, head):
            raise ApiError(400, LINE_CODE)
        lines = diff_lines(str(repo), base, head).get(str(position.get("new_path")))
        new, old = position.get("new_line"), position.get("old_line")
        ok = lines is not None and (
            (new is not None and old is None and new in lines.added)
            or (new is not None and old is not None and lines.context.get(new) == old)
            or (new is None and old is not None and old in lines.removed)
        )
        if not ok:
            raise ApiError(400, LINE_CODE)
        with self.fake._state:
            return self.fake._complete_position(c.p, mr, position)

    def _json(self, c: _Call, draft: Draft) -> Json:
        return {
            "id": draft.id,
            "author_id": draft.author_id,
            "merge_request_id": c.n.id,
            "resolve_discussion": False,
            "discussion_id": None,
            "note": draft.note,
            "commit_id": None,
            "line_code": None,
            "position": copy.deepcopy(draft.position),
        }


def _out(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=20, check=False)
    return done.stdout.strip()
