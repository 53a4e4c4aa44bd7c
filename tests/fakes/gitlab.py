"""A fake GitLab REST API v4 that the real python-gitlab talks to, plus Note Hook builders.

Why a fake and not mocks: Repobox's GitLab provider and surface must work against what
GitLab actually does — project paths URL-encoded into one path segment (`group%2Fproject`),
iids rather than ids, notes that only their author may edit, a 409 for a second open merge
request, award emoji that may be given once, notes sorted newest first, paginated lists.
The fake keeps that state in memory and answers the way GitLab answers, so a test drives
the project's real code through the real client library.

Clone URLs are whatever the test passes (typically `file://` of a local bare repository).
When that repository is local, the fake reads it with real git: branch look-ups, the merge
request `sha`/`diff_refs`, and the "source branch does not exist" check all follow what was
actually pushed. Any other clone URL disables those checks.

Addressing: a project may be named by numeric id or by its URL-encoded path. Requests are
canonicalised to the numeric id before they are recorded, so `calls_to(...)` and
`fail_next(...)` always use `/api/v4/projects/<id>/...` whichever form the client sent.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import itertools
import json
import math
import secrets
import subprocess
import threading
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, unquote, urlparse

from aiohttp import web
from yarl import URL

from tests.fakes import gitlab_managers
from tests.fakes.allowlist import allowed
from tests.fakes.base import FakeServer, Handler, Recorded
from tests.fakes.gitlab_uploads import GitLabUploads
from tests.fakes.oauth import OAuthServer
from tests.fakes.rate_limits import GitLabLimits

Json = dict[str, Any]
Kind = Literal["issue", "merge_request"]

GUEST, REPORTER, DEVELOPER, MAINTAINER, OWNER = 10, 20, 30, 40, 50
NOTE_MAX_CHARS = 1_000_000  # GitLab's `validates :note, length: { maximum: 1_000_000 }`
TITLE_MAX_CHARS = 255
DEFAULT_TOKEN = "glpat-test"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gitlab"

_SEGMENT: dict[Kind, str] = {"issue": "issues", "merge_request": "merge_requests"}
_KINDS: tuple[Kind, ...] = ("issue", "merge_request")
_KIND_OF_SEGMENT: dict[str, Kind] = {"issues": "issue", "merge_requests": "merge_request"}
_NOTEABLE_TYPE = {"issue": "Issue", "merge_request": "MergeRequest"}
_NOT_FOUND_NAME = {"issue": "Issue", "merge_request": "Merge Request"}


def _now() -> datetime:
    return datetime.now(UTC)


def _api_time(at: datetime) -> str:
    """GitLab's REST timestamp format: `2026-01-02T03:04:05.678Z`."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _hook_time(at: datetime) -> str:
    """The webhook timestamp format: `2026-01-02 03:04:05 UTC`."""
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")


# -- state ------------------------------------------------------------------------------


@dataclass
class User:
    id: int
    username: str
    name: str
    bot: bool = False
    email: str = ""


@dataclass
class Award:
    id: int
    name: str
    user_id: int
    awardable_type: str  # "Note", "Issue" or "MergeRequest"
    awardable_id: int
    created_at: datetime = field(default_factory=_now)


@dataclass
class Note:
    """One comment. `history` holds earlier bodies, oldest first, so tests see every edit."""

    id: int
    body: str
    author_id: int
    discussion_id: str
    kind: Kind
    noteable_id: int
    noteable_iid: int
    project_id: int
    type: str | None = None  # None (plain comment), "DiscussionNote" or "DiffNote"
    position: Json | None = None
    history: list[str] = field(default_factory=list)
    awards: list[Award] = field(default_factory=list)
    resolved: bool = False
    created_at: datetime = field(default_factory=_now)
    updated_at: datetime = field(default_factory=_now)

    @property
    def edits(self) -> int:
        return len(self.history)


@dataclass
class Noteable:
    id: int
    iid: int
    project_id: int
    title: str
    description: str
    author_id: int
    state: str = "opened"
    notes: list[Note] = field(default_factory=list)
    awards: list[Award] = field(default_factory=list)
    threads: set[str] = field(default_factory=set)  # discussions that are not single notes
    created_at: datetime = field(default_factory=_now)
    updated_at: datetime = field(default_factory=_now)


@dataclass
class Issue(Noteable):
    pass


@dataclass
class MergeRequest(Noteable):
    source_branch: str = ""
    target_branch: str = ""
    labels: list[str] = field(default_factory=list)


@dataclass
class Project:
    id: int
    path_with_namespace: str
    http_url_to_repo: str  # "" means the fake's own `{url}/{path}.git`
    default_branch: str = "main"
    members: dict[int, int] = field(default_factory=dict)  # user id -> access level
    issues: dict[int, Issue] = field(default_factory=dict)
    merge_requests: dict[int, MergeRequest] = field(default_factory=dict)
    description: str = ""

    @property
    def name(self) -> str:
        return self.path_with_namespace.rsplit("/", 1)[-1]

    @property
    def namespace(self) -> str:
        return self.path_with_namespace.rsplit("/", 1)[0] if "/" in self.path_with_namespace else ""

    def noteables(self, kind: Kind) -> Mapping[int, Noteable]:
        return self.issues if kind == "issue" else self.merge_requests


ProjectRef = Project | int | str
UserRef = User | int | str


class ApiError(Exception):
    """Raised inside handlers; becomes a GitLab-shaped JSON error reply."""

    def __init__(self, status: int, message: Any, key: str = "message") -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.body = {key: message}


@dataclass
class _Call:
    """What a handler needs: the request, its arguments and the objects its path names."""

    request: web.Request
    recorded: Recorded
    args: dict[str, str]
    params: dict[str, Any]
    user: User
    project: Project | None = None
    kind: Kind | None = None
    noteable: Noteable | None = None
    note: Note | None = None

    @property
    def p(self) -> Project:
        assert self.project is not None
        return self.project

    @property
    def k(self) -> Kind:
        assert self.kind is not None
        return self.kind

    @property
    def n(self) -> Noteable:
        assert self.noteable is not None
        return self.noteable


ApiHandler = Callable[[_Call], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class _Route:
    method: str
    parts: tuple[str, ...]
    handler: ApiHandler


# -- git, read-only, on the test's local bare repository -------------------------------


def _repo_dir(clone_url: str) -> Path | None:
    if not clone_url:
        return None
    if clone_url.startswith("file://"):
        path = Path(unquote(urlparse(clone_url).path))
    elif "://" in clone_url or clone_url.startswith("git@"):
        return None
    else:
        path = Path(clone_url)
    return path if path.exists() else None


def _git_sync(repo: Path, *args: str) -> str | None:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else None


async def _git(repo: Path, *args: str) -> str | None:
    proc = await asyncio.create_subprocess_exec(
        "git",
        "-C",
        str(repo),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await proc.communicate()
    return out.decode().strip() if proc.returncode == 0 else None


# -- the fake ---------------------------------------------------------------------------


class FakeGitLab(FakeServer):
    """GitLab REST API v4 under `/api/v4`. `bot` is the token owner (`DEFAULT_TOKEN`)."""

    def __init__(self, bot_username: str = "repobox", token: str = DEFAULT_TOKEN) -> None:
        super().__init__()
        self._state = threading.RLock()
        self._ids = {
            name: itertools.count(1)
            for name in ("user", "project", "issue", "merge_request", "note", "award")
        }
        self.users: dict[int, User] = {}
        self.projects: dict[int, Project] = {}
        self.tokens: dict[str, int] = {}
        self.token_scopes: dict[str, list[str]] = {}  # token -> scopes (default ["api"])
        self.oauth_tokens: set[str] = set()  # issued by the OAuth flow, not personal tokens
        self._api_routes: list[_Route] = []
        self._add_api_routes()
        self.uploads = GitLabUploads(self)  # pasted files (tests/fakes/gitlab_uploads.py)
        from .forge_hooks import GitLabHooks  # here: it imports this module

        self.hooks = GitLabHooks(self)  # project webhooks (tests/fakes/forge_hooks.py)
        self.limits = GitLabLimits()  # GitLab.com's per-user limits; enabled = False: off
        self.bot = self.add_user(bot_username, "Repobox", bot=True, token=token)
        self.oauth = OAuthServer(
            self,
            "/oauth/authorize",
            "/oauth/token",
            issue=self._issue_oauth_token,
            token_reply=lambda token, scopes: {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 7200,
                "refresh_token": secrets.token_hex(32),
                "scope": " ".join(scopes),
                "created_at": int(_now().timestamp()),
            },
            error_status=400,
            default_scopes=("read_user",),
        )
        self.route("GET", "/oauth/token/info", self._token_info)

    async def refuse(self, call: Recorded) -> web.StreamResponse | None:
        """GitLab's own answer to a request python-gitlab's managers do not describe."""
        headers = {k.lower(): v for k, v in call.headers.items()}
        token = headers.get("private-token") or headers.get("authorization", "")
        user = self.tokens.get(token.removeprefix("Bearer "))
        if (limited := self.limits.refuse(call, str(user) if user else None)) is not None:
            return limited  # GitLab.com's per-user limits (tests/fakes/rate_limits.py)
        if allowed("gitlab", call.method, call.path):
            return None
        if not call.path.startswith("/api/v4/"):
            self.violate(call, "not a path of GitLab's REST API")
            return web.json_response({"error": "404 Not Found"}, status=404)
        problems = gitlab_managers.check(call.method, call.raw_path, call.params())
        for problem in problems:
            self.violate(call, problem.message)
        refused = [p for p in problems if p.refuse]
        if not refused:
            return None
        if "managers know" in refused[0].message:
            return web.json_response({"error": "404 Not Found"}, status=404)
        return web.json_response({"error": refused[0].message}, status=400)

    def _issue_oauth_token(self, username: str, scopes: tuple[str, ...]) -> str:
        token = secrets.token_hex(32)
        with self._state:
            user = self._user(username)
            self.tokens[token] = user.id
            self.token_scopes[token] = list(scopes)
            self.oauth_tokens.add(token)
        return token

    @staticmethod
    def _bearer(request: web.Request) -> str:
        token = request.headers.get("PRIVATE-TOKEN")
        authorization = request.headers.get("Authorization", "")
        if token is None and authorization.startswith("Bearer "):
            token = authorization.removeprefix("Bearer ")
        return token or ""

    async def _token_info(self, request: web.Request, recorded: Recorded) -> web.Response:
        """Doorkeeper's token introspection: only OAuth tokens, never personal ones."""
        token = self._bearer(request)
        with self._state:
            if token not in self.oauth_tokens:
                body = {
                    "error": "invalid_token",
                    "error_description": "The access token is invalid",
                }
                return web.json_response(body, status=401)
            return web.json_response(
                {
                    "resource_owner_id": self.tokens[token],
                    "scope": self.token_scopes.get(token, []),
                    "expires_in": 7200,
                    "application": {"uid": next(iter(self.oauth.clients), None)},
                    "created_at": int(_now().timestamp()),
                }
            )

    # -- test set-up ------------------------------------------------------------------
    def add_user(
        self, username: str, name: str | None = None, *, bot: bool = False, token: str | None = None
    ) -> User:
        """A GitLab account; give it a `token` to make API calls as that user."""
        with self._state:
            user = User(
                next(self._ids["user"]),
                username,
                name or username.title(),
                bot=bot,
                email=f"{username}@example.com",
            )
            self.users[user.id] = user
            if token is not None:
                self.tokens[token] = user.id
            return user

    def add_project(
        self,
        path: str,
        clone_url: str | None = None,
        default_branch: str = "main",
        members: Mapping[int, int] | None = None,
    ) -> Project:
        """A project; `clone_url` becomes `http_url_to_repo` (default: a URL on the fake)."""
        with self._state:
            project = Project(
                next(self._ids["project"]),
                path,
                clone_url or "",
                default_branch,
                members=dict(members or {}),
            )
            self.projects[project.id] = project
            return copy.deepcopy(project)

    def add_member(self, project: ProjectRef, user: UserRef, level: int) -> None:
        with self._state:
            self._project(project).members[self._user(user).id] = level

    def add_issue(
        self, project: ProjectRef, title: str, description: str = "", author: UserRef | None = None
    ) -> Issue:
        with self._state:
            p = self._project(project)
            issue = Issue(
                next(self._ids["issue"]),
                len(p.issues) + 1,
                p.id,
                title,
                description,
                self._user(author).id if author is not None else self.bot.id,
            )
            p.issues[issue.iid] = issue
            return copy.deepcopy(issue)

    def add_merge_request(
        self,
        project: ProjectRef,
        source_branch: str,
        target_branch: str | None = None,
        *,
        title: str = "Draft: work in progress",
        description: str = "",
        author: UserRef | None = None,
        state: str = "opened",
    ) -> MergeRequest:
        """An existing MR, made without the API's checks (so tests can set up any state)."""
        with self._state:
            p = self._project(project)
            mr = self._new_mr(
                p,
                title=title,
                description=description,
                source_branch=source_branch,
                target_branch=target_branch or p.default_branch,
                author_id=self._user(author).id if author is not None else self.bot.id,
            )
            mr.state = state
            return copy.deepcopy(mr)

    def set_merge_request_state(self, project: ProjectRef, iid: int, state: str) -> None:
        """Simulate a merge or close done by a person ("merged", "closed", "opened")."""
        with self._state:
            mr = self._project(project).merge_requests[iid]
            mr.state = state
            mr.updated_at = _now()

    def add_note(
        self,
        project: ProjectRef,
        kind: Kind,
        iid: int,
        body: str,
        author: UserRef,
        *,
        position: Mapping[str, Any] | None = None,
        discussion_id: str | None = None,
    ) -> Note:
        """A comment a person posted; with `position` it opens a diff thread (DiffNote).

        With `discussion_id` it is a reply in that discussion.
        """
        with self._state:
            p = self._project(project)
            noteable = self._noteable(p, kind, iid)
            full_position = self._complete_position(p, noteable, position) if position else None
            note = self._new_note(
                p,
                kind,
                noteable,
                body,
                self._user(author),
                position=full_position,
                discussion_id=discussion_id,
                thread=position is not None,
            )
            return copy.deepcopy(note)

    def edit_note(self, note_id: int, body: str) -> Note:
        """A person edits their comment (GitLab then sends a Note Hook with action "update")."""
        with self._state:
            note = self._find_note(note_id)
            note.history.append(note.body)
            note.body = body
            note.updated_at = _now()
            return copy.deepcopy(note)

    # -- queries for tests (snapshots: pass them back as references, do not mutate) -----
    def user(self, ref: UserRef) -> User:
        with self._state:
            return copy.deepcopy(self._user(ref))

    def project(self, ref: ProjectRef) -> Project:
        with self._state:
            return copy.deepcopy(self._project(ref))

    def notes(self, project: ProjectRef, kind: Kind, iid: int) -> list[Note]:
        """The thread's notes oldest first, each with its current `body` and edit `history`."""
        with self._state:
            return copy.deepcopy(self._noteable(self._project(project), kind, iid).notes)

    def note(self, note_id: int) -> Note:
        with self._state:
            return copy.deepcopy(self._find_note(note_id))

    def merge_requests(self, project: ProjectRef) -> list[MergeRequest]:
        """All MRs of the project by iid, notes included."""
        with self._state:
            mrs = self._project(project).merge_requests
            return copy.deepcopy([mrs[iid] for iid in sorted(mrs)])

    def issue(self, project: ProjectRef, iid: int) -> Issue:
        with self._state:
            return copy.deepcopy(self._project(project).issues[iid])

    def award_emojis(
        self, project: ProjectRef, kind: Kind, iid: int, note_id: int | None = None
    ) -> list[tuple[str, str]]:
        """`(emoji name, username)` pairs on a note, or on the issue/MR itself."""
        with self._state:
            noteable = self._noteable(self._project(project), kind, iid)
            awards = noteable.awards
            if note_id is not None:
                awards = next(n for n in noteable.notes if n.id == note_id).awards
            return [(a.name, self.users[a.user_id].username) for a in awards]

    def clone_url(self, project: ProjectRef) -> str:
        """`http_url_to_repo`: the URL the test gave, or one on the fake itself."""
        with self._state:
            p = self._project(project)
            return p.http_url_to_repo or f"{self.url}/{p.path_with_namespace}.git"

    def web_url(self, project: ProjectRef, kind: Kind | None = None, iid: int | None = None) -> str:
        """The browser URL GitLab would give: project, or `/-/issues/N`, `/-/merge_requests/N`."""
        with self._state:
            base = f"{self.url}/{self._project(project).path_with_namespace}"
        return base if kind is None else f"{base}/-/{_SEGMENT[kind]}/{iid}"

    # -- webhook payloads -----------------------------------------------------------------
    def note_hook_payload(
        self,
        project: ProjectRef,
        kind: Kind,
        iid: int,
        body: str | None = None,
        author: UserRef | None = None,
        *,
        note_id: int | None = None,
        action: str = "create",
        position: Mapping[str, Any] | None = None,
        discussion_id: str | None = None,
    ) -> Json:
        """A Note Hook body as GitLab sends it for a comment on an issue or MR.

        Without `note_id` the comment is first posted (as `author`, via `add_note`) so the
        bot can react to it and reply in its discussion; with `note_id` the existing note
        is described (use `action="update"` after `edit_note`).
        """
        if note_id is None:
            if body is None or author is None:
                raise ValueError("a new note needs body and author")
            note_id = self.add_note(
                project, kind, iid, body, author, position=position, discussion_id=discussion_id
            ).id
        with self._state:
            note = self._find_note(note_id)
            p = self.projects[note.project_id]
            noteable = self._noteable(p, note.kind, note.noteable_iid)
            payload: Json = json.loads((FIXTURES / f"note_hook.{note.kind}.json").read_text())
            author_user = self.users[note.author_id]
            payload["user"] = {
                "id": author_user.id,
                "name": author_user.name,
                "username": author_user.username,
                "avatar_url": None,
                "email": author_user.email,
            }
            payload["project_id"] = p.id
            payload["project"] = {**payload["project"], **self._hook_project(p)}
            payload["repository"] = {
                "name": p.name,
                "url": self.clone_url(p),
                "description": p.description,
                "homepage": self.web_url(p),
            }
            payload["object_attributes"] = {
                **payload["object_attributes"],
                **self._hook_note(p, noteable, note, action),
            }
            if isinstance(noteable, MergeRequest):
                payload["merge_request"] = self._hook_mr(p, noteable, payload["merge_request"])
            else:
                payload["issue"] = self._hook_issue(p, noteable, payload["issue"])
            return payload

    def diff_note_hook_payload(
        self,
        project: ProjectRef,
        iid: int,
        body: str,
        author: UserRef,
        *,
        new_path: str,
        new_line: int | None,
        old_path: str | None = None,
        old_line: int | None = None,
    ) -> Json:
        """A Note Hook for a comment on a line of an MR's diff (`type: "DiffNote"`)."""
        position = {
            "new_path": new_path,
            "new_line": new_line,
            "old_path": old_path or new_path,
            "old_line": old_line,
        }
        return self.note_hook_payload(
            project, "merge_request", iid, body, author, position=position
        )

    def hook_headers(
        self, secret: str, *, event: str = "Note Hook", idempotency_key: str | None = None
    ) -> dict[str, str]:
        """The headers GitLab sends with a webhook; keep `idempotency_key` to fake a retry."""
        return {
            "Content-Type": "application/json",
            "User-Agent": "GitLab/17.11.0",
            "X-Gitlab-Event": event,
            "X-Gitlab-Token": secret,
            "X-Gitlab-Instance": self.url,
            "X-Gitlab-Webhook-UUID": str(uuid.uuid4()),
            "X-Gitlab-Event-UUID": str(uuid.uuid4()),
            "Idempotency-Key": idempotency_key or str(uuid.uuid4()),
        }

    def _hook_project(self, p: Project) -> Json:
        web_url = self.web_url(p)
        ssh = f"git@127.0.0.1:{p.path_with_namespace}.git"
        return {
            "id": p.id,
            "name": p.name,
            "description": p.description,
            "web_url": web_url,
            "avatar_url": None,
            "git_ssh_url": ssh,
            "git_http_url": self.clone_url(p),
            "namespace": p.namespace,
            "visibility_level": 0,
            "path_with_namespace": p.path_with_namespace,
            "default_branch": p.default_branch,
            "homepage": web_url,
            "url": self.clone_url(p),
            "ssh_url": ssh,
            "http_url": self.clone_url(p),
        }

    def _hook_note(self, p: Project, noteable: Noteable, note: Note, action: str) -> Json:
        edited = bool(note.history)
        position = note.position
        line_code = None
        if position is not None:
            # GitLab's line code: sha1 of the file path, then the old and new line numbers.
            path_hash = hashlib.sha1(str(position["new_path"]).encode()).hexdigest()  # noqa: S324
            line_code = f"{path_hash}_{position['old_line'] or 0}_{position['new_line'] or 0}"
        return {
            "id": note.id,
            "note": note.body,
            "description": note.body,
            "noteable_type": _NOTEABLE_TYPE[note.kind],
            "author_id": note.author_id,
            "created_at": _hook_time(note.created_at),
            "updated_at": _hook_time(note.updated_at),
            "updated_by_id": note.author_id if edited else None,
            "project_id": p.id,
            "noteable_id": noteable.id,
            "commit_id": position["head_sha"] if position else "",
            "discussion_id": note.discussion_id,
            "type": note.type,
            "position": copy.deepcopy(position),
            "original_position": copy.deepcopy(position),
            "change_position": None,
            "line_code": line_code,
            "internal": False,
            "resolved_at": None,
            "resolved_by_id": None,
            "resolved_by_push": None,
            "system": False,
            "st_diff": None,
            "action": action,
            "url": f"{self.web_url(p, note.kind, noteable.iid)}#note_{note.id}",
        }

    def _hook_issue(self, p: Project, issue: Noteable, base: Json) -> Json:
        return {
            **base,
            "id": issue.id,
            "iid": issue.iid,
            "title": issue.title,
            "description": issue.description,
            "state": issue.state,
            "author_id": issue.author_id,
            "project_id": p.id,
            "created_at": _hook_time(issue.created_at),
            "updated_at": _hook_time(issue.updated_at),
            "labels": [],
            "url": self.web_url(p, "issue", issue.iid),
        }

    def _hook_mr(self, p: Project, mr: MergeRequest, base: Json) -> Json:
        repo = _repo_dir(p.http_url_to_repo)
        sha = _git_sync(repo, "rev-parse", f"refs/heads/{mr.source_branch}") if repo else None
        last_commit = None
        if repo is not None and sha:
            out = _git_sync(repo, "log", "-1", "--format=%an%x00%ae%x00%aI%x00%B", sha) or ""
            name, email, when, message = [*out.split("\0", 3), "", "", ""][:4]
            last_commit = {
                "id": sha,
                "message": message + "\n",
                "title": message.splitlines()[0] if message else "",
                "timestamp": when,
                "url": f"{self.web_url(p)}/-/commit/{sha}",
                "author": {"name": name, "email": email},
            }
        hook = {
            **base,
            "id": mr.id,
            "iid": mr.iid,
            "title": mr.title,
            "description": mr.description,
            "state": mr.state,
            "source_branch": mr.source_branch,
            "target_branch": mr.target_branch,
            "source_project_id": p.id,
            "target_project_id": p.id,
            "author_id": mr.author_id,
            "assignee_id": None,
            "milestone_id": None,
            "created_at": _hook_time(mr.created_at),
            "updated_at": _hook_time(mr.updated_at),
            "labels": [],
            "merge_status": "can_be_merged",
            "detailed_merge_status": "mergeable",
            "draft": _is_draft(mr.title),
            "work_in_progress": _is_draft(mr.title),
            "source": {**base.get("source", {}), **self._hook_project(p)},
            "target": {**base.get("target", {}), **self._hook_project(p)},
            "last_commit": last_commit,
            "url": self.web_url(p, "merge_request", mr.iid),
        }
        hook.pop("assignee", None)
        return hook

    # -- lookups (call with the state lock held) ---------------------------------------
    def _project(self, ref: ProjectRef) -> Project:
        if isinstance(ref, Project):
            return self.projects[ref.id]
        if isinstance(ref, int) or ref.isdigit():
            return self.projects[int(ref)]
        for project in self.projects.values():
            if project.path_with_namespace.lower() == ref.lower():
                return project
        raise KeyError(ref)

    def _user(self, ref: UserRef) -> User:
        if isinstance(ref, User):
            return self.users[ref.id]
        if isinstance(ref, int):
            return self.users[ref]
        return next(u for u in self.users.values() if u.username == ref)

    def _noteable(self, p: Project, kind: Kind, iid: int) -> Noteable:
        return p.noteables(kind)[iid]

    def _find_note(self, note_id: int) -> Note:
        for p in self.projects.values():
            for kind in _KINDS:
                for noteable in p.noteables(kind).values():
                    for note in noteable.notes:
                        if note.id == note_id:
                            return note
        raise KeyError(note_id)

    def _new_mr(
        self,
        p: Project,
        *,
        title: str,
        description: str,
        source_branch: str,
        target_branch: str,
        author_id: int,
    ) -> MergeRequest:
        mr = MergeRequest(
            next(self._ids["merge_request"]),
            len(p.merge_requests) + 1,
            p.id,
            title,
            description,
            author_id,
            source_branch=source_branch,
            target_branch=target_branch,
        )
        p.merge_requests[mr.iid] = mr
        return mr

    def _new_note(
        self,
        p: Project,
        kind: Kind,
        noteable: Noteable,
        body: str,
        author: User,
        *,
        position: Json | None = None,
        discussion_id: str | None = None,
        thread: bool = False,
    ) -> Note:
        note_type: str | None = None
        if discussion_id is not None:
            siblings = [n for n in noteable.notes if n.discussion_id == discussion_id]
            if not siblings:
                raise KeyError(discussion_id)
            if discussion_id not in noteable.threads:
                # Replying to a plain comment turns it into a thread, as on gitlab.com.
                noteable.threads.add(discussion_id)
                for sibling in siblings:
                    sibling.type = "DiscussionNote"
            position = siblings[0].position
            note_type = siblings[0].type
        else:
            discussion_id = secrets.token_hex(20)
            if thread:
                noteable.threads.add(discussion_id)
                note_type = "DiffNote" if position else "DiscussionNote"
        note = Note(
            next(self._ids["note"]),
            body,
            author.id,
            discussion_id,
            kind,
            noteable.id,
            noteable.iid,
            p.id,
            type=note_type,
            position=copy.deepcopy(position),
        )
        noteable.notes.append(note)
        noteable.updated_at = note.created_at
        return note

    def _complete_position(
        self, p: Project, noteable: Noteable, position: Mapping[str, Any]
    ) -> Json:
        """Fill in the SHAs and defaults GitLab stores with every diff position."""
        full: Json = {
            "base_sha": None,
            "start_sha": None,
            "head_sha": None,
            "old_path": position.get("old_path") or position.get("new_path"),
            "new_path": position.get("new_path") or position.get("old_path"),
            "position_type": "text",
            "old_line": None,
            "new_line": None,
            "line_range": None,
        }
        full.update({k: v for k, v in position.items() if v is not None})
        if isinstance(noteable, MergeRequest) and not full["head_sha"]:
            repo = _repo_dir(p.http_url_to_repo)
            if repo is not None:
                source = f"refs/heads/{noteable.source_branch}"
                target = f"refs/heads/{noteable.target_branch}"
                full["head_sha"] = _git_sync(repo, "rev-parse", source)
                full["start_sha"] = _git_sync(repo, "rev-parse", target)
                full["base_sha"] = _git_sync(repo, "merge-base", target, source)
        for key in ("base_sha", "start_sha", "head_sha"):
            full[key] = full[key] or secrets.token_hex(20)
        return full

    # -- JSON shapes ------------------------------------------------------------------
    def _user_json(self, user: User) -> Json:
        return {
            "id": user.id,
            "username": user.username,
            "name": user.name,
            "state": "active",
            "locked": False,
            "avatar_url": None,
            "web_url": f"{self.url}/{user.username}",
        }

    def _project_json(self, p: Project, viewer: User) -> Json:
        web_url = self.web_url(p)
        now = _api_time(_now())
        level = p.members.get(viewer.id)
        return {
            "id": p.id,
            "description": p.description,
            "name": p.name,
            "name_with_namespace": p.path_with_namespace.replace("/", " / "),
            "path": p.name,
            "path_with_namespace": p.path_with_namespace,
            "created_at": now,
            "last_activity_at": now,
            "default_branch": p.default_branch,
            "tag_list": [],
            "topics": [],
            "ssh_url_to_repo": f"git@127.0.0.1:{p.path_with_namespace}.git",
            "http_url_to_repo": self.clone_url(p),
            "web_url": web_url,
            "readme_url": None,
            "avatar_url": None,
            "forks_count": 0,
            "star_count": 0,
            "visibility": "private",
            "archived": False,
            "empty_repo": False,
            "merge_requests_enabled": True,
            "issues_enabled": True,
            "namespace": {
                "id": 1000 + p.id,
                "name": p.namespace,
                "path": p.namespace.rsplit("/", 1)[-1],
                "kind": "group",
                "full_path": p.namespace,
                "parent_id": None,
                "avatar_url": None,
                "web_url": f"{self.url}/groups/{p.namespace}",
            },
            "_links": {
                "self": f"{self.url}/api/v4/projects/{p.id}",
                "issues": f"{self.url}/api/v4/projects/{p.id}/issues",
                "merge_requests": f"{self.url}/api/v4/projects/{p.id}/merge_requests",
                "repo_branches": f"{self.url}/api/v4/projects/{p.id}/repository/branches",
                "members": f"{self.url}/api/v4/projects/{p.id}/members",
            },
            "permissions": {
                "project_access": (
                    {"access_level": level, "notification_level": 3} if level else None
                ),
                "group_access": None,
            },
        }

    def _issuable_json(self, p: Project, kind: Kind, item: Noteable) -> Json:
        prefix = "#" if kind == "issue" else "!"
        return {
            "id": item.id,
            "iid": item.iid,
            "project_id": p.id,
            "title": item.title,
            "description": item.description,
            "state": item.state,
            "created_at": _api_time(item.created_at),
            "updated_at": _api_time(item.updated_at),
            "closed_at": None,
            "closed_by": None,
            "labels": getattr(item, "labels", []),
            "milestone": None,
            "author": self._user_json(self.users[item.author_id]),
            "assignees": [],
            "assignee": None,
            "user_notes_count": len(item.notes),
            "upvotes": 0,
            "downvotes": 0,
            "discussion_locked": None,
            "web_url": self.web_url(p, kind, item.iid),
            "references": {
                "short": f"{prefix}{item.iid}",
                "relative": f"{prefix}{item.iid}",
                "full": f"{p.path_with_namespace}{prefix}{item.iid}",
            },
            "time_stats": {
                "time_estimate": 0,
                "total_time_spent": 0,
                "human_time_estimate": None,
                "human_total_time_spent": None,
            },
        }

    def _issue_json(self, p: Project, issue: Noteable) -> Json:
        return {
            **self._issuable_json(p, "issue", issue),
            "type": "ISSUE",
            "issue_type": "issue",
            "confidential": False,
            "due_date": None,
            "merge_requests_count": 0,
            "_links": {
                "self": f"{self.url}/api/v4/projects/{p.id}/issues/{issue.iid}",
                "notes": f"{self.url}/api/v4/projects/{p.id}/issues/{issue.iid}/notes",
                "award_emoji": f"{self.url}/api/v4/projects/{p.id}/issues/{issue.iid}/award_emoji",
                "project": f"{self.url}/api/v4/projects/{p.id}",
            },
        }

    def _mr_json(self, p: Project, mr: MergeRequest, refs: Json | None, single: bool) -> Json:
        """`single` adds what GET of one MR has and the list (MergeRequestBasic) lacks."""
        refs = refs or {}
        data = {
            **self._issuable_json(p, "merge_request", mr),
            "source_branch": mr.source_branch,
            "target_branch": mr.target_branch,
            "source_project_id": p.id,
            "target_project_id": p.id,
            "reviewers": [],
            "draft": _is_draft(mr.title),
            "work_in_progress": _is_draft(mr.title),
            "merge_when_pipeline_succeeds": False,
            "merge_status": "can_be_merged",
            "detailed_merge_status": "mergeable" if mr.state == "opened" else "not_open",
            "has_conflicts": False,
            "blocking_discussions_resolved": True,
            "sha": refs.get("head_sha"),
            "merge_commit_sha": None,
            "squash_commit_sha": None,
            "merged_by": None,
            "merge_user": None,
            "merged_at": None,
            "should_remove_source_branch": None,
            "force_remove_source_branch": False,
            "squash": False,
            "squash_on_merge": False,
            "reference": f"!{mr.iid}",
        }
        if single:
            data.update(
                {
                    "subscribed": True,
                    "changes_count": None,
                    "latest_build_started_at": None,
                    "latest_build_finished_at": None,
                    "first_deployed_to_production_at": None,
                    "pipeline": None,
                    "head_pipeline": None,
                    "diff_refs": (
                        {k: refs.get(k) for k in ("base_sha", "head_sha", "start_sha")}
                        if refs
                        else None
                    ),
                    "merge_error": None,
                    "user": {"can_merge": True},
                }
            )
        return data

    def _note_json(self, p: Project, noteable: Noteable, note: Note) -> Json:
        in_thread = note.discussion_id in noteable.threads
        resolvable = in_thread and note.kind == "merge_request"
        data = {
            "id": note.id,
            "type": note.type,
            "body": note.body,
            "attachment": None,
            "author": self._user_json(self.users[note.author_id]),
            "created_at": _api_time(note.created_at),
            "updated_at": _api_time(note.updated_at),
            "system": False,
            "noteable_id": noteable.id,
            "noteable_type": _NOTEABLE_TYPE[note.kind],
            "project_id": p.id,
            "noteable_iid": noteable.iid,
            "commit_id": None,
            "resolvable": resolvable,
            "resolved": note.resolved if resolvable else False,
            "resolved_by": None,
            "resolved_at": None,
            "confidential": False,
            "internal": False,
            "imported": False,
            "imported_from": "none",
            "commands_changes": {},
        }
        if note.position is not None:
            data["position"] = copy.deepcopy(note.position)
        return data

    def _discussion_json(self, p: Project, noteable: Noteable, discussion_id: str) -> Json:
        return {
            "id": discussion_id,
            "individual_note": discussion_id not in noteable.threads,
            "notes": [
                self._note_json(p, noteable, n)
                for n in noteable.notes
                if n.discussion_id == discussion_id
            ],
        }

    def _award_json(self, award: Award) -> Json:
        return {
            "id": award.id,
            "name": award.name,
            "user": self._user_json(self.users[award.user_id]),
            "created_at": _api_time(award.created_at),
            "updated_at": _api_time(award.created_at),
            "awardable_id": award.awardable_id,
            "awardable_type": award.awardable_type,
            "url": None,
        }

    def _member_json(self, user: User, level: int) -> Json:
        return {
            **self._user_json(user),
            "access_level": level,
            "created_at": _api_time(_now()),
            "expires_at": None,
            "membership_state": "active",
        }

    # -- HTTP plumbing ----------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        """Rewrite `/api/v4/projects/<url-encoded path>/…` to the numeric id, then dispatch.

        So recorded paths and `fail_next` keys are the same whichever form the client used.
        """
        raw = request.rel_url.raw_path
        prefix = "/api/v4/projects/"
        if raw.startswith(prefix):
            ref, sep, rest = raw[len(prefix) :].partition("/")
            name = unquote(ref)
            if name and not name.isdigit():
                with self._state:
                    found = next(
                        (
                            p.id
                            for p in self.projects.values()
                            if p.path_with_namespace.lower() == name.lower()
                        ),
                        None,
                    )
                if found is not None:
                    rel_url = URL.build(
                        path=f"{prefix}{found}{sep}{rest}",
                        query_string=request.rel_url.raw_query_string,
                        encoded=True,
                    )
                    request = request.clone(rel_url=rel_url)
        return await super()._dispatch(request)

    def _match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        """Everything under `/api/v4/` goes to our own router, which splits the *raw* path.

        The base router splits the decoded path, where `group%2Fproject` or a branch named
        `repobox/x` would become two segments.
        """
        if path.startswith("/api/v4/"):
            return self._api, {}
        return super()._match(method, path)

    def _api_route(self, method: str, pattern: str, handler: ApiHandler) -> None:
        self._api_routes.append(_Route(method, tuple(pattern.split("/")), handler))

    def _find_api_route(self, method: str, parts: list[str]) -> tuple[ApiHandler, dict[str, str]]:
        for route in self._api_routes:
            if route.method != method or len(route.parts) != len(parts):
                continue
            args: dict[str, str] = {}
            for want, got in zip(route.parts, parts, strict=True):
                if want == "{kind}":
                    if got not in _KIND_OF_SEGMENT:
                        break
                    args["kind"] = got
                elif want.startswith("{"):
                    args[want[1:-1]] = got
                elif want != got:
                    break
            else:
                return route.handler, args
        raise LookupError

    async def _api(self, request: web.Request, recorded: Recorded) -> web.StreamResponse:
        raw = request.rel_url.raw_path[len("/api/v4/") :]
        parts = [unquote(part) for part in raw.split("/")]
        try:
            handler, args = self._find_api_route(request.method, parts)
        except LookupError:
            with self._lock:
                self.unhandled.append(recorded)
            self.violate(recorded, "FakeGitLab has no route for it (answered 501)")
            return web.json_response(
                {"error": f"FakeGitLab has no route {request.method} {request.path}"}, status=501
            )
        recorded.path_args = args
        token = request.headers.get("PRIVATE-TOKEN")
        authorization = request.headers.get("Authorization", "")
        if token is None and authorization.startswith("Bearer "):
            token = authorization.removeprefix("Bearer ")
        with self._state:
            user_id = self.tokens.get(token or "")
            user = self.users.get(user_id) if user_id is not None else None
        if user is None:
            return web.json_response({"message": "401 Unauthorized"}, status=401)
        try:
            call = _Call(request, recorded, args, recorded.params(), user)
            with self._state:
                self._resolve(call)
            return await handler(call)
        except ApiError as error:
            return web.json_response(error.body, status=error.status)

    def _resolve(self, c: _Call) -> None:
        """Look up the objects the path names, answering 404 the way GitLab words it."""
        if "id" not in c.args:
            return
        try:
            c.project = self._project(c.args["id"])
        except KeyError:
            raise ApiError(404, "404 Project Not Found") from None
        if "kind" not in c.args:
            return
        c.kind = _KIND_OF_SEGMENT[c.args["kind"]]
        iid = c.args.get("iid", "")
        c.noteable = c.p.noteables(c.k).get(int(iid)) if iid.isdigit() else None
        if c.noteable is None:
            raise ApiError(404, f"404 {_NOT_FOUND_NAME[c.k]} Not Found")
        if "discussion_id" in c.args and not any(
            n.discussion_id == c.args["discussion_id"] for n in c.n.notes
        ):
            raise ApiError(404, "404 Discussion Not Found")
        if "note_id" in c.args:
            note_id = c.args["note_id"]
            c.note = next((n for n in c.n.notes if str(n.id) == note_id), None)
            if c.note is None or c.args.get("discussion_id", c.note.discussion_id) != (
                c.note.discussion_id
            ):
                raise ApiError(404, "404 Note Not Found")

    def _json(self, data: Any, status: int = 200) -> web.Response:
        return web.json_response(data, status=status)

    def _page(self, c: _Call, items: list[Json]) -> web.Response:
        """A page of `items` with GitLab's pagination headers and Link header."""
        try:
            per_page = min(max(int(c.request.query.get("per_page", 20)), 1), 100)
            page = max(int(c.request.query.get("page", 1)), 1)
        except ValueError:
            raise ApiError(400, "page is invalid", key="error") from None
        total = len(items)
        pages = max(math.ceil(total / per_page), 1)
        url = c.request.url

        def link(n: int) -> str:
            return str(url.update_query(page=n, per_page=per_page))

        links = [f'<{link(1)}>; rel="first"', f'<{link(pages)}>; rel="last"']
        if page < pages:
            links.insert(0, f'<{link(page + 1)}>; rel="next"')
        if page > 1:
            links.insert(0, f'<{link(page - 1)}>; rel="prev"')
        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Total": str(total),
            "X-Total-Pages": str(pages),
            "X-Next-Page": str(page + 1) if page < pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
            "Link": ", ".join(links),
        }
        chunk = items[(page - 1) * per_page : page * per_page]
        return web.json_response(chunk, headers=headers)

    async def _refs(self, p: Project, mr: MergeRequest) -> Json | None:
        """The MR's diff refs from the real repository, or None if it is not local."""
        repo = _repo_dir(p.http_url_to_repo)
        if repo is None:
            return None
        source, target = f"refs/heads/{mr.source_branch}", f"refs/heads/{mr.target_branch}"
        head, start, base = await asyncio.gather(
            _git(repo, "rev-parse", "--verify", "--quiet", source),
            _git(repo, "rev-parse", "--verify", "--quiet", target),
            _git(repo, "merge-base", target, source),
        )
        return {"head_sha": head, "start_sha": start, "base_sha": base}

    # -- routes -----------------------------------------------------------------------
    def _add_api_routes(self) -> None:
        r = self._api_route
        r("GET", "version", self._get_version)
        r("GET", "user", self._get_current_user)
        r("GET", "users/{user_id}", self._get_user)
        r("GET", "personal_access_tokens/self", self._get_own_token)
        r("GET", "projects/{id}", self._get_project)
        r("GET", "projects/{id}/members/all", self._list_members)
        r("GET", "projects/{id}/members", self._list_members)
        r("GET", "projects/{id}/members/all/{user_id}", self._get_member)
        r("GET", "projects/{id}/members/{user_id}", self._get_member)
        r("GET", "projects/{id}/repository/branches/{branch}", self._get_branch)
        r("GET", "projects/{id}/issues", self._list_issues)
        r("GET", "projects/{id}/{kind}/{iid}", self._get_issuable)
        r("GET", "projects/{id}/merge_requests", self._list_mrs)
        r("POST", "projects/{id}/merge_requests", self._create_mr)
        r("PUT", "projects/{id}/{kind}/{iid}", self._update_issuable)
        notes = "projects/{id}/{kind}/{iid}/notes"
        r("GET", notes, self._list_notes)
        r("POST", notes, self._create_note)
        r("GET", notes + "/{note_id}", self._get_note)
        r("PUT", notes + "/{note_id}", self._update_note)
        r("DELETE", notes + "/{note_id}", self._delete_note)
        for base in ("projects/{id}/{kind}/{iid}", notes + "/{note_id}"):
            r("GET", base + "/award_emoji", self._list_awards)
            r("POST", base + "/award_emoji", self._create_award)
            r("DELETE", base + "/award_emoji/{award_id}", self._delete_award)
        discussions = "projects/{id}/{kind}/{iid}/discussions"
        r("GET", discussions, self._list_discussions)
        r("POST", discussions, self._create_discussion)
        r("GET", discussions + "/{discussion_id}", self._get_discussion)
        r("POST", discussions + "/{discussion_id}/notes", self._reply)
        r("PUT", discussions + "/{discussion_id}/notes/{note_id}", self._update_note)

    async def _get_version(self, c: _Call) -> web.Response:
        return self._json({"version": "17.11.0-ee", "revision": "fake0000"})

    async def _get_current_user(self, c: _Call) -> web.Response:
        with self._state:
            return self._json(
                {
                    **self._user_json(c.user),
                    "bot": c.user.bot,
                    "email": c.user.email,
                    "public_email": None,
                    "is_admin": False,
                    "can_create_project": True,
                    "two_factor_enabled": False,
                    "created_at": _api_time(_now()),
                }
            )

    async def _get_own_token(self, c: _Call) -> web.Response:
        token = self._bearer(c.request)
        with self._state:
            if token in self.oauth_tokens:
                raise ApiError(404, "404 Not Found")
            return self._json(
                {
                    "id": abs(hash(token)) % 100_000,
                    "name": "repobox",
                    "revoked": False,
                    "created_at": _api_time(_now()),
                    "scopes": self.token_scopes.get(token, ["api"]),
                    "user_id": c.user.id,
                    "last_used_at": _api_time(_now()),
                    "active": True,
                    "expires_at": None,
                }
            )

    async def _get_user(self, c: _Call) -> web.Response:
        with self._state:
            user = self.users.get(int(c.args["user_id"])) if c.args["user_id"].isdigit() else None
            if user is None:
                raise ApiError(404, "404 User Not Found")
            return self._json({**self._user_json(user), "bot": user.bot})

    async def _get_project(self, c: _Call) -> web.Response:
        with self._state:
            return self._json(self._project_json(c.p, c.user))

    async def _list_members(self, c: _Call) -> web.Response:
        with self._state:
            members = [self._member_json(self.users[u], lvl) for u, lvl in c.p.members.items()]
        return self._page(c, members)

    async def _get_member(self, c: _Call) -> web.Response:
        with self._state:
            user_id = int(c.args["user_id"]) if c.args["user_id"].isdigit() else -1
            level = c.p.members.get(user_id)
            if level is None:
                raise ApiError(404, "404 Not found")
            return self._json(self._member_json(self.users[user_id], level))

    async def _get_branch(self, c: _Call) -> web.Response:
        branch = c.args["branch"]
        repo = _repo_dir(c.p.http_url_to_repo)
        fmt = "--format=%H%x00%h%x00%s%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B"
        out = await _git(repo, "log", "-1", fmt, f"refs/heads/{branch}", "--") if repo else None
        if not out:
            raise ApiError(404, "404 Branch Not Found")
        sha, short, title, an, ae, ad, cn, ce, cd, message = out.split("\0", 9)
        web_url = self.web_url(c.p)
        return self._json(
            {
                "name": branch,
                "merged": False,
                "protected": branch == c.p.default_branch,
                "default": branch == c.p.default_branch,
                "developers_can_push": False,
                "developers_can_merge": False,
                "can_push": True,
                "web_url": f"{web_url}/-/tree/{quote(branch)}",
                "commit": {
                    "id": sha,
                    "short_id": short,
                    "title": title,
                    "message": message,
                    "author_name": an,
                    "author_email": ae,
                    "authored_date": ad,
                    "committer_name": cn,
                    "committer_email": ce,
                    "committed_date": cd,
                    "created_at": cd,
                    "parent_ids": [],
                    "web_url": f"{web_url}/-/commit/{sha}",
                },
            }
        )

    def _list_state(self, c: _Call, allowed_states: tuple[str, ...]) -> str:
        """The `state` filter, refused (400, as GitLab does) unless it is one GitLab knows."""
        state = str(c.params.get("state", "all"))
        if state not in allowed_states:
            self.violate(c.recorded, f"state={state!r} is not one of {allowed_states}")
            raise ApiError(400, "state does not have a valid value", key="error")
        return state

    async def _list_issues(self, c: _Call) -> web.Response:
        state = self._list_state(c, ("opened", "closed", "all"))
        with self._state:
            issues = sorted(c.p.issues.values(), key=lambda i: i.iid, reverse=True)
            items = [self._issue_json(c.p, i) for i in issues if state in ("all", i.state)]
        return self._page(c, items)

    async def _get_issuable(self, c: _Call) -> web.Response:
        if isinstance(c.n, MergeRequest):
            refs = await self._refs(c.p, c.n)
            with self._state:
                return self._json(self._mr_json(c.p, c.n, refs, single=True))
        with self._state:
            return self._json(self._issue_json(c.p, c.n))

    async def _list_mrs(self, c: _Call) -> web.Response:
        q = c.params
        self._list_state(c, ("opened", "closed", "locked", "merged", "all"))
        with self._state:
            mrs = [
                mr
                for mr in sorted(c.p.merge_requests.values(), key=lambda m: m.iid, reverse=True)
                if q.get("state", "all") in ("all", mr.state)
                and q.get("source_branch", mr.source_branch) == mr.source_branch
                and q.get("target_branch", mr.target_branch) == mr.target_branch
                and str(q.get("author_id", mr.author_id)) == str(mr.author_id)
            ]
        refs = [await self._refs(c.p, mr) for mr in mrs]
        with self._state:
            items = [
                self._mr_json(c.p, mr, ref, single=False) for mr, ref in zip(mrs, refs, strict=True)
            ]
        return self._page(c, items)

    def _check_title(self, title: Any) -> str:
        if not isinstance(title, str) or not title.strip():
            raise ApiError(400, "title is empty", key="error")
        if len(title) > TITLE_MAX_CHARS:
            raise ApiError(400, {"title": ["is too long (maximum is 255 characters)"]})
        return title

    def _check_open_duplicate(self, p: Project, mr_like: Json, exclude: int | None) -> None:
        """GitLab's `validate_branches`: one open MR per source *and* target branch."""
        for other in p.merge_requests.values():
            if (
                other.state == "opened"
                and other.iid != exclude
                and other.source_branch == mr_like["source_branch"]
                and other.target_branch == mr_like["target_branch"]
            ):
                raise ApiError(
                    409,
                    [
                        "Another open merge request already exists for this source branch: "
                        f"!{other.iid}"
                    ],
                )

    async def _create_mr(self, c: _Call) -> web.Response:
        q = c.params
        for name in ("source_branch", "target_branch", "title"):
            if not q.get(name):
                raise ApiError(400, f"{name} is missing", key="error")
        title = self._check_title(q["title"])
        source, target = str(q["source_branch"]), str(q["target_branch"])
        if source == target:
            raise ApiError(422, ["You can't use same project/branch for source and target"])
        repo = _repo_dir(c.p.http_url_to_repo)
        if repo is not None:
            missing = [
                f'{label} branch "{branch}" does not exist'
                for label, branch in (("Source", source), ("Target", target))
                if await _git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}")
                is None
            ]
            if missing:
                raise ApiError(422, missing)
        with self._state:
            self._check_open_duplicate(
                c.p, {"source_branch": source, "target_branch": target}, None
            )
            mr = self._new_mr(
                c.p,
                title=title,
                description=str(q.get("description") or ""),
                source_branch=source,
                target_branch=target,
                author_id=c.user.id,
            )
            labels = q.get("labels") or []
            mr.labels = labels.split(",") if isinstance(labels, str) else list(labels)
        refs = await self._refs(c.p, mr)
        with self._state:
            return self._json(self._mr_json(c.p, mr, refs, single=True), status=201)

    async def _update_issuable(self, c: _Call) -> web.Response:
        q = c.params
        with self._state:
            item = c.n
            if "title" in q:
                item.title = self._check_title(q["title"])
            if "description" in q:
                item.description = str(q["description"] or "")
            if isinstance(item, MergeRequest):
                if "target_branch" in q:
                    item.target_branch = str(q["target_branch"])
                if "labels" in q:
                    labels = q["labels"] or []
                    item.labels = labels.split(",") if isinstance(labels, str) else list(labels)
            event = q.get("state_event")
            if event not in (None, "close", "reopen"):
                self.violate(c.recorded, f"state_event={event!r} is not close or reopen")
                raise ApiError(400, "state_event does not have a valid value", key="error")
            if event == "close":
                item.state = "closed"
            elif event == "reopen":
                if isinstance(item, MergeRequest):
                    self._check_open_duplicate(
                        c.p,
                        {"source_branch": item.source_branch, "target_branch": item.target_branch},
                        item.iid,
                    )
                item.state = "opened"
            item.updated_at = _now()
        if isinstance(item, MergeRequest):
            refs = await self._refs(c.p, item)
            with self._state:
                return self._json(self._mr_json(c.p, item, refs, single=True))
        with self._state:
            return self._json(self._issue_json(c.p, item))

    async def _list_notes(self, c: _Call) -> web.Response:
        order_by = c.params.get("order_by", "created_at")
        descending = c.params.get("sort", "desc") == "desc"
        with self._state:
            notes = sorted(
                c.n.notes,
                key=lambda n: (n.updated_at if order_by == "updated_at" else n.created_at, n.id),
                reverse=descending,
            )
            items = [self._note_json(c.p, c.n, n) for n in notes]
        return self._page(c, items)

    def _check_body(self, body: Any) -> str:
        if not isinstance(body, str) or not body.strip():
            raise ApiError(400, "body is missing", key="error")
        if len(body) > NOTE_MAX_CHARS:
            raise ApiError(400, {"note": [f"is too long (maximum is {NOTE_MAX_CHARS} characters)"]})
        return body

    async def _create_note(self, c: _Call) -> web.Response:
        body = self._check_body(c.params.get("body"))
        with self._state:
            note = self._new_note(c.p, c.k, c.n, body, c.user)
            return self._json(self._note_json(c.p, c.n, note), status=201)

    async def _get_note(self, c: _Call) -> web.Response:
        assert c.note is not None
        with self._state:
            return self._json(self._note_json(c.p, c.n, c.note))

    async def _update_note(self, c: _Call) -> web.Response:
        note = c.note
        assert note is not None
        with self._state:
            if "resolved" in c.params and "body" not in c.params:
                note.resolved = bool(c.params["resolved"])
                return self._json(self._note_json(c.p, c.n, note))
            body = self._check_body(c.params.get("body"))
            if note.author_id != c.user.id:
                raise ApiError(403, "403 Forbidden")
            if body != note.body:
                note.history.append(note.body)
                note.body = body
                note.updated_at = _now()
            return self._json(self._note_json(c.p, c.n, note))

    async def _delete_note(self, c: _Call) -> web.Response:
        note = c.note
        assert note is not None
        with self._state:
            if note.author_id != c.user.id:
                raise ApiError(403, "403 Forbidden")
            c.n.notes.remove(note)
        return web.Response(status=204)

    def _awardable(self, c: _Call) -> tuple[list[Award], str, int]:
        if c.note is not None:
            return c.note.awards, "Note", c.note.id
        return c.n.awards, _NOTEABLE_TYPE[c.k], c.n.id

    async def _list_awards(self, c: _Call) -> web.Response:
        with self._state:
            awards, _, _ = self._awardable(c)
            items = [self._award_json(a) for a in awards]
        return self._page(c, items)

    async def _create_award(self, c: _Call) -> web.Response:
        name = c.params.get("name")
        if not isinstance(name, str) or not name:
            raise ApiError(400, "name is missing", key="error")
        with self._state:
            awards, awardable_type, awardable_id = self._awardable(c)
            if any(a.name == name and a.user_id == c.user.id for a in awards):
                # lib/api/award_emoji.rb answers `not_found!("Award Emoji #{message}")`.
                raise ApiError(404, "404 Award Emoji Name has already been taken")
            award = Award(next(self._ids["award"]), name, c.user.id, awardable_type, awardable_id)
            awards.append(award)
            return self._json(self._award_json(award), status=201)

    async def _delete_award(self, c: _Call) -> web.Response:
        with self._state:
            awards, _, _ = self._awardable(c)
            award = next((a for a in awards if str(a.id) == c.args["award_id"]), None)
            if award is None:
                raise ApiError(404, "404 Award Emoji Not Found")
            if award.user_id != c.user.id:
                raise ApiError(403, "403 Forbidden")
            awards.remove(award)
        return web.Response(status=204)

    def _discussion_ids(self, noteable: Noteable) -> list[str]:
        return list(dict.fromkeys(n.discussion_id for n in noteable.notes))

    async def _list_discussions(self, c: _Call) -> web.Response:
        with self._state:
            items = [self._discussion_json(c.p, c.n, d) for d in self._discussion_ids(c.n)]
        return self._page(c, items)

    async def _get_discussion(self, c: _Call) -> web.Response:
        with self._state:
            return self._json(self._discussion_json(c.p, c.n, c.args["discussion_id"]))

    async def _create_discussion(self, c: _Call) -> web.Response:
        body = self._check_body(c.params.get("body"))
        position = c.params.get("position")
        if position is not None and (c.k != "merge_request" or not isinstance(position, dict)):
            raise ApiError(400, "position is invalid", key="error")
        with self._state:
            full = self._complete_position(c.p, c.n, position) if position else None
            note = self._new_note(c.p, c.k, c.n, body, c.user, position=full, thread=True)
            return self._json(self._discussion_json(c.p, c.n, note.discussion_id), status=201)

    async def _reply(self, c: _Call) -> web.Response:
        body = self._check_body(c.params.get("body"))
        with self._state:
            note = self._new_note(
                c.p, c.k, c.n, body, c.user, discussion_id=c.args["discussion_id"]
            )
            return self._json(self._note_json(c.p, c.n, note), status=201)


def _is_draft(title: str) -> bool:
    lowered = title.lower()
    return lowered.startswith(("draft:", "[draft]", "(draft)", "draft -"))
