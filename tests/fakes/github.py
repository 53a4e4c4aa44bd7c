"""A fake GitHub REST API that the real PyGithub talks to, plus GitHub webhook builders.

Why a fake server and not mocks: Repobox uses PyGithub unpatched, and PyGithub follows
the `url` fields of every response (it refuses URLs on other hosts), paginates through
`Link` headers and maps status codes and messages to its exception classes. So this
fake answers with GitHub's own response shapes, and every URL it hands out points back
at itself. `clone_url` is whatever the test registered, typically the `file://` URL of
a local bare repository, so git stays real. When `clone_url` is local, creating a pull
request checks the branches in that repository the way GitHub does (head must exist,
there must be commits between base and head).

Client set-up in tests::

    Github(base_url=fake.url, auth=Auth.Token("ghp_test"), retry=None,
           seconds_between_requests=None, seconds_between_writes=None)

What PyGithub 2.10 does with failures (read from `github/Requester.py`,
`github/GithubRetry.py` and urllib3 2.8 `Retry`):

- `retry=None`: requests' adapter with 0 retries. Every 4xx/5xx raises at once:
  `GithubException(status)`; 401 "Bad credentials" -> `BadCredentialsException`;
  404 "Not Found" -> `UnknownObjectException`; 403 (or any status) whose message is a
  rate-limit message -> `RateLimitExceededException` only for 403.
- default `retry=GithubRetry()` (`Github.default_retry`, total=10, backoff_factor=0):
  retries 500-599 and rate-limited 403s for DELETE/GET/HEAD/OPTIONS/PUT/TRACE and POST,
  but not PATCH (so a comment edit that hits a 502 raises at once, while a 502 on
  comment creation is re-sent: a duplicate comment if GitHub had stored the first one).
  No pause between 5xx retries unless the reply has `Retry-After`; after 10 it raises
  `requests.exceptions.RetryError`, not a `GithubException`. A 403 is retried only with
  a `Retry-After` header (slept as given) or a rate-limit message: a secondary limit
  sleeps `secondary_rate_wait` (60 s), a primary one until `X-RateLimit-Reset` + 1 s.
  Other 403s raise `GithubException` from inside the retry. A 429 is retried (after
  sleeping) only when it carries `Retry-After`; without it, `GithubException(429)`.

Inject failures with `fail_next(path, 502)` (base class) or `rate_limit_next(path)`.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import hmac
import itertools
import json
import math
import secrets
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode, urlparse

from aiohttp import web

from .allowlist import allowed
from .base import FakeServer, Recorded
from .descriptions import DescriptionUnavailable
from .github_forks import from_fork
from .github_openapi import github_description
from .github_uploads import GitHubUploads
from .oauth import OAuthServer
from .rate_limits import GitHubSecondary

FIXTURES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "github"
DOCS = "https://docs.github.com/rest"
REACTIONS = ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes")
MAX_BODY = 65536  # GitHub rejects issue/PR/comment bodies longer than this (422)
ROLE_TO_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}
ROLE_RANK = ["none", "read", "triage", "write", "maintain", "admin"]


# -- state --------------------------------------------------------------------------------
@dataclass
class User:
    login: str
    id: int
    type: str = "User"  # "User" or "Bot"
    site_admin: bool = False


@dataclass
class Repo:
    full_name: str
    id: int
    clone_url: str
    default_branch: str = "main"
    private: bool = False
    description: str | None = None
    html_url: str | None = None  # None: on the fake's host
    permissions: dict[str, str] = field(default_factory=dict)  # login -> role
    created_at: str = ""
    next_number: int = 1  # issues and pull requests share one sequence, like GitHub
    issues: dict[int, Issue] = field(default_factory=dict)

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/", 1)[1]


@dataclass
class Issue:
    """An issue, or a pull request when `head` is set (GitHub models PRs as issues too)."""

    repo: str
    number: int
    id: int
    title: str
    body: str | None
    user: str
    state: str = "open"
    created_at: str = ""
    updated_at: str = ""
    closed_at: str | None = None
    head: str | None = None  # pull requests only: head branch (same repository)
    base: str | None = None
    pull_id: int = 0
    head_sha: str = ""
    base_sha: str = ""
    draft: bool = False
    history: list[str | None] = field(default_factory=list)  # earlier bodies, oldest first
    head_repo: str | None = None  # a fork's full name: the head branch lives there

    @property
    def is_pull(self) -> bool:
        return self.head is not None


@dataclass
class Comment:
    """An issue/PR conversation comment (kind "issue") or a diff comment (kind "review")."""

    id: int
    repo: str
    number: int
    user: str
    kind: str
    history: list[str]  # every version of the body, oldest first; the last is current
    created_at: str
    updated_at: str
    path: str | None = None
    line: int | None = None
    side: str = "RIGHT"
    diff_hunk: str | None = None
    commit_id: str | None = None
    in_reply_to_id: int | None = None
    review_id: int | None = None

    @property
    def body(self) -> str:
        return self.history[-1]

    @property
    def edits(self) -> int:
        return len(self.history) - 1


@dataclass
class Reaction:
    id: int
    user: str
    content: str
    created_at: str


class ApiError(Exception):
    """Raised inside a route to answer with GitHub's error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: list[dict[str, Any]] | None = None,
        documentation_url: str = DOCS,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.documentation_url = documentation_url


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _node_id(kind: str, ident: int) -> str:
    """GitHub's legacy global node id: base64 of "0<len(kind)>:<kind><id>"."""
    return base64.b64encode(f"0{len(kind)}:{kind}{ident}".encode()).decode()


def _validation_failed(errors: list[dict[str, Any]], doc: str = DOCS) -> ApiError:
    return ApiError(422, "Validation Failed", errors, doc)


@functools.cache
def load_fixture(name: str) -> dict[str, Any]:
    """One of the GitHub webhook samples in tests/fixtures, parsed (cached; callers deep-copy)."""
    data: dict[str, Any] = json.loads((FIXTURES_DIR / name).read_text())
    return data


def _shape(
    template: dict[str, Any], actual: dict[str, Any], extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Lay `actual` out with exactly the fixture's keys (its order), plus allowed extras.

    Why: webhook objects are not the REST objects (no `permissions` on a repository, no
    `in_reply_to_id` on a top-level review comment), so the fixture decides the shape.
    """
    shaped = {key: actual[key] if key in actual else template[key] for key in template}
    for key in extra:
        if key in actual:
            shaped[key] = actual[key]
    return shaped


def _local_git_dir(clone_url: str) -> str | None:
    """The filesystem path behind a `file://` URL or plain path, if it is one."""
    parsed = urlparse(clone_url)
    if parsed.scheme == "file":
        path = unquote(parsed.path)
    elif parsed.scheme == "" and clone_url:
        path = clone_url
    else:
        return None
    return path if Path(path).exists() else None


def _git(git_dir: str, *args: str) -> str | None:
    done = subprocess.run(
        ["git", "-C", git_dir, *args], capture_output=True, text=True, timeout=10, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else None


# -- webhook signing ------------------------------------------------------------------------
def encode_payload(payload: dict[str, Any]) -> bytes:
    """A payload as GitHub sends it: compact UTF-8 JSON (the exact bytes that get signed)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def infer_event(payload: dict[str, Any]) -> str:
    """The `X-GitHub-Event` name for a payload built here (GitHub puts it only in the header)."""
    if "zen" in payload and "hook_id" in payload:
        return "ping"
    if "comment" in payload and "issue" in payload:
        return "issue_comment"
    if "comment" in payload and "pull_request" in payload:
        return "pull_request_review_comment"
    if "review" in payload and "pull_request" in payload:
        return "pull_request_review"
    if "pull_request" in payload:
        return "pull_request"
    if "issue" in payload:
        return "issues"
    raise ValueError("cannot tell the event from this payload; pass event=")


def sign(
    secret: str | bytes,
    body: bytes | str,
    event: str | None = None,
    *,
    delivery: str | None = None,
    hook_id: int | None = None,
) -> dict[str, str]:
    """The headers GitHub sends with a delivery of `body`, signed with `secret`.

    `event` defaults to what the (JSON) body looks like; `delivery` to a fresh UUID (a
    manual redelivery on GitHub keeps the original one, so pass it to test deduping).
    """
    key = secret.encode() if isinstance(secret, str) else secret
    raw = body.encode() if isinstance(body, str) else body
    if event is None:
        try:
            event = infer_event(json.loads(raw))
        except (json.JSONDecodeError, AttributeError) as exc:
            raise ValueError("body is not a payload; pass event=") from exc
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/fake",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature": "sha1=" + hmac.new(key, raw, hashlib.sha1).hexdigest(),
        "X-Hub-Signature-256": "sha256=" + hmac.new(key, raw, hashlib.sha256).hexdigest(),
    }
    if hook_id is not None:
        headers["X-GitHub-Hook-ID"] = str(hook_id)
    return headers


def webhook_request(
    payload: dict[str, Any],
    secret: str | bytes,
    event: str | None = None,
    *,
    delivery: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    """(body, headers) for POSTing `payload` to a webhook endpoint, e.g. with a test client."""
    body = encode_payload(payload)
    return body, sign(secret, body, event or infer_event(payload), delivery=delivery)


def deliver(
    url: str,
    payload: dict[str, Any],
    secret: str | bytes,
    *,
    event: str | None = None,
    delivery: str | None = None,
    timeout: float = 10.0,
) -> tuple[int, bytes]:
    """POST a signed delivery to a running app, like GitHub does; returns (status, body)."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an HTTP URL: {url}")
    body, headers = webhook_request(payload, secret, event, delivery=delivery)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (checked above)
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


# -- the server -----------------------------------------------------------------------------
Route = Callable[[Recorded, User], web.Response]


class FakeGitHub(FakeServer):
    """GitHub's REST API for one authenticated bot plus any number of users and repos.

    `token`/`login`/`user_type` describe the bot: requests must carry
    `Authorization: token <t>` (or `Bearer <t>`) with a token registered here, else 401
    "Bad credentials". Objects created through the API are authored by the token's user.
    """

    def __init__(
        self,
        token: str = "ghp_test",  # noqa: S107 (a fake's test token)
        login: str = "repobox-bot",
        user_type: str = "User",
    ) -> None:
        super().__init__()
        self.token = token
        self.login = login
        self._state = threading.RLock()
        self._ids: Iterator[int] = itertools.count(1001)  # one id space: mixing ids up 404s
        self._users: dict[str, User] = {}
        self._tokens: dict[str, str] = {}
        self._repos: dict[str, Repo] = {}
        self._comments: dict[int, Comment] = {}
        self._reactions: dict[int, list[Reaction]] = {}
        self._requests_used: dict[str, int] = {}
        self.scopes: dict[str, str] = {}  # login -> X-OAuth-Scopes (default "repo")
        self.add_user(login, type=user_type, token=token)
        self.secondary = GitHubSecondary()  # tests/fakes/rate_limits.py; enabled = False: off
        self._routes_github()
        self.uploads = GitHubUploads(self)  # pasted images (tests/fakes/github_uploads.py)
        from .forge_hooks import GitHubHooks  # here: it imports this module

        self.hooks = GitHubHooks(self)  # repository webhooks (tests/fakes/forge_hooks.py)
        # "Sign in with GitHub": on GitHub.com the web host, here the fake itself.
        self.oauth = OAuthServer(
            self,
            "/login/oauth/authorize",
            "/login/oauth/access_token",
            issue=self._issue_oauth_token,
            token_reply=lambda token, scopes: {
                "access_token": token,
                "token_type": "bearer",
                "scope": ",".join(scopes),
            },
            error_status=200,  # GitHub answers a bad code with 200 and an "error" field
            default_scopes=(),
        )

    def _issue_oauth_token(self, login: str, scopes: tuple[str, ...]) -> str:
        token = "gho_" + secrets.token_hex(18)
        self.add_user(login, token=token)
        with self._state:
            self.scopes[login.lower()] = ", ".join(scopes)
        return token

    # -- set-up helpers for tests ------------------------------------------------------------
    def add_user(
        self,
        login: str,
        *,
        type: str = "User",
        token: str | None = None,
        site_admin: bool = False,
    ) -> User:
        """Register a user (idempotent); with `token`, that token authenticates as them."""
        with self._state:
            user = self._users.get(login.lower())
            if user is None:
                user = User(login, next(self._ids), type, site_admin)
                self._users[login.lower()] = user
            if token is not None:
                self._tokens[token] = user.login
            return user

    def add_repo(
        self,
        full_name: str,
        clone_url: str,
        default_branch: str = "main",
        permissions: dict[str, str] | None = None,
        *,
        private: bool = False,
        html_url: str | None = None,
        description: str | None = None,
    ) -> Repo:
        """Register a repository. The owner gets admin and the bot write, unless overridden.

        `permissions` maps login -> role (admin, maintain, write, triage, read, none); users
        named there are created. Others get "read" on public repos, "none" on private ones.
        """
        owner = full_name.split("/", 1)[0]
        roles = {owner: "admin", self.login: "write", **(permissions or {})}
        with self._state:
            for login, role in roles.items():
                if role not in ROLE_TO_PERMISSION:
                    raise ValueError(f"unknown role {role!r}")
                self.add_user(login)
            repo = Repo(
                full_name=full_name,
                id=next(self._ids),
                clone_url=clone_url,
                default_branch=default_branch,
                private=private,
                description=description,
                html_url=html_url,
                permissions={login.lower(): role for login, role in roles.items()},
                created_at=_now(),
            )
            self._repos[full_name.lower()] = repo
            return repo

    def set_permission(self, full_name: str, login: str, role: str) -> None:
        if role not in ROLE_TO_PERMISSION:
            raise ValueError(f"unknown role {role!r}")
        with self._state:
            self.add_user(login)
            self._repo(full_name).permissions[login.lower()] = role

    def add_issue(
        self, full_name: str, title: str, body: str | None = "", *, user: str = "octocat"
    ) -> Issue:
        """Open an issue; returns it (its `number` comes from the repo's shared sequence)."""
        with self._state:
            return copy.deepcopy(self._new_issue(self._repo(full_name), title, body, user))

    def add_pull(
        self,
        full_name: str,
        head: str,
        title: str = "A pull request",
        body: str | None = "",
        *,
        base: str | None = None,
        user: str = "octocat",
        draft: bool = False,
        state: str = "open",
        fork: str | None = None,
    ) -> Issue:
        """Open a pull request from branch `head` without the API's checks (test set-up);
        `fork`: the repository (added too) whose branch it is (`github_forks.from_fork`)."""
        with self._state:
            repo = self._repo(full_name)
            issue = self._new_issue(repo, title, body, user)
            issue.head, issue.base = head, base or repo.default_branch
            issue.pull_id, issue.draft, issue.state = next(self._ids), draft, state
            issue.closed_at = issue.created_at if state == "closed" else None
            issue.head_repo = fork
            issue.head_sha, issue.base_sha = self._head_sha(issue), self._sha(repo, issue.base)
            return copy.deepcopy(issue)

    def add_issue_comment(
        self, full_name: str, number: int, body: str, *, user: str = "octocat"
    ) -> Comment:
        """A conversation comment on an issue or pull request, as if `user` had typed it."""
        with self._state:
            issue = self._issue(self._repo(full_name), number)
            return copy.deepcopy(self._new_comment(issue, body, user, "issue"))

    def add_review_comment(
        self,
        full_name: str,
        number: int,
        body: str,
        *,
        user: str = "octocat",
        path: str = "README.md",
        line: int = 1,
        diff_hunk: str = "@@ -1 +1 @@\n-# Hello\n+# Hello, world",
        in_reply_to: int | None = None,
        side: str = "RIGHT",
    ) -> Comment:
        """A diff comment on a pull request; `in_reply_to` makes it a reply in that thread."""
        with self._state:
            repo = self._repo(full_name)
            pull = self._issue(repo, number)
            if not pull.is_pull:
                raise ValueError(f"{full_name}#{number} is not a pull request")
            comment = self._new_comment(pull, body, user, "review")
            comment.path, comment.line, comment.side = path, line, side
            comment.diff_hunk = diff_hunk
            comment.commit_id = self._sha(repo, pull.head or "")
            if in_reply_to is not None:  # a reply joins the thread of its root, as in the UI
                root = self._comments[in_reply_to]
                comment.in_reply_to_id = root.in_reply_to_id or root.id
                comment.path, comment.line, comment.side = root.path, root.line, root.side
                comment.diff_hunk, comment.commit_id = root.diff_hunk, root.commit_id
            comment.review_id = next(self._ids)
            return copy.deepcopy(comment)

    def rate_limit_next(
        self,
        path: str,
        kind: str = "secondary",
        *,
        status: int = 403,
        times: int = 1,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next `times` calls to `path` like GitHub's primary or secondary limit."""
        request_id = uuid.uuid4().hex[:16].upper()
        headers = {"X-RateLimit-Limit": "5000", "X-RateLimit-Resource": "core"}
        if kind == "primary":
            message = (
                f"API rate limit exceeded for user ID {self._users[self.login.lower()].id}. "
                "If you reach out to GitHub Support for help, please include the request ID "
                f"{request_id}."
            )
            headers |= {
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(time.time()) + 60),
            }
            doc = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
        elif kind == "secondary":
            message = (
                "You have exceeded a secondary rate limit. Please wait a few minutes before you "
                "try again. If you reach out to GitHub Support for help, please include the "
                f"request ID {request_id}."
            )
            doc = (
                "https://docs.github.com/free-pro-team@latest/rest/overview/"
                "rate-limits-for-the-rest-api#about-secondary-rate-limits"
            )
        else:
            raise ValueError(f"kind must be primary or secondary, not {kind!r}")
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        body = {"message": message, "documentation_url": doc, "status": str(status)}
        self.fail_next(path, status, times=times, headers=headers, body=body)

    # -- queries for tests -------------------------------------------------------------------
    def secondary_limited(self) -> list[Recorded]:
        """Calls refused by the secondary rate limit (`self.secondary`)."""
        return list(self.secondary.refused)

    def comments(self, full_name: str, number: int, kind: str | None = None) -> list[Comment]:
        """Comments on an issue/PR in creation order (`kind`: "issue", "review" or both).

        Each has `body` (current), `history` (every version) and `edits`.
        """
        with self._state:
            self._issue(self._repo(full_name), number)
            return [
                copy.deepcopy(c)
                for c in sorted(self._comments.values(), key=lambda c: c.id)
                if c.repo.lower() == full_name.lower()
                and c.number == number
                and kind in (None, c.kind)
            ]

    def comment(self, comment_id: int) -> Comment:
        with self._state:
            return copy.deepcopy(self._comments[comment_id])

    def issue(self, full_name: str, number: int) -> Issue:
        with self._state:
            return copy.deepcopy(self._issue(self._repo(full_name), number))

    def pulls(self, full_name: str, state: str = "all") -> list[Issue]:
        """Pull requests of a repo by number (`state`: open, closed or all)."""
        with self._state:
            repo = self._repo(full_name)
            return [
                copy.deepcopy(i)
                for _, i in sorted(repo.issues.items())
                if i.is_pull and state in ("all", i.state)
            ]

    def reactions(self, subject_id: int) -> list[Reaction]:
        """Reactions on a comment (either kind) or an issue, by its id (ids are unique here)."""
        with self._state:
            return copy.deepcopy(self._reactions.get(subject_id, []))

    # -- webhook payloads --------------------------------------------------------------------
    def issue_comment_payload(
        self,
        full_name: str,
        number: int,
        body: str | None = None,
        *,
        user: str = "octocat",
        comment_id: int | None = None,
        action: str = "created",
        installation_id: int | None = None,
    ) -> dict[str, Any]:
        """An `issue_comment` delivery; the comment is created here first unless `comment_id`.

        On a pull request the payload follows the PR-shaped fixture (`issue.pull_request`).
        For action "edited" `changes.body.from` holds the previous body.
        """
        with self._state:
            repo = self._repo(full_name)
            issue = self._issue(repo, number)
            comment = self._payload_comment(issue, body, user, comment_id, "issue")
            name = "issue_comment.created." + ("pull_request" if issue.is_pull else "issue")
            fixture = load_fixture(name + ".json")
            payload: dict[str, Any] = {"action": action}
            payload["issue"] = _shape(fixture["issue"], self._issue_json(repo, issue))
            payload["comment"] = _shape(fixture["comment"], self._comment_json(comment))
            return self._finish_payload(payload, fixture, repo, comment, installation_id)

    def review_comment_payload(
        self,
        full_name: str,
        number: int,
        body: str | None = None,
        *,
        user: str = "octocat",
        comment_id: int | None = None,
        action: str = "created",
        installation_id: int | None = None,
        **review: Any,
    ) -> dict[str, Any]:
        """A `pull_request_review_comment` delivery; creates the comment unless `comment_id`.

        `review` passes path, line, diff_hunk, in_reply_to, side to `add_review_comment`.
        """
        with self._state:
            repo = self._repo(full_name)
            pull = self._issue(repo, number)
            if comment_id is None:
                if body is None:
                    raise ValueError("pass body (a new comment) or comment_id")
                comment_id = self.add_review_comment(
                    full_name, number, body, user=user, **review
                ).id
            comment = self._payload_comment(pull, None, user, comment_id, "review")
            fixture = load_fixture("pull_request_review_comment.created.json")
            payload: dict[str, Any] = {"action": action}
            payload["comment"] = _shape(
                fixture["comment"], self._comment_json(comment), extra=("in_reply_to_id",)
            )
            payload["pull_request"] = _shape(fixture["pull_request"], self._pull_json(repo, pull))
            return self._finish_payload(payload, fixture, repo, comment, installation_id)

    def review_payload(
        self, full_name: str, number: int, body: str | None, *, user: str = "octocat"
    ) -> dict[str, Any]:
        """A `pull_request_review` delivery (action submitted): a review's summary `body`.

        The review is not kept as state (nothing here lists reviews); its id comes from the
        one id space, so it can never be mistaken for a comment's.
        """
        with self._state:
            repo = self._repo(full_name)
            pull = self._issue(repo, number)
            self.add_user(user)
            fixture = load_fixture("pull_request_review.submitted.json")
            around = load_fixture("pull_request_review_comment.created.json")
            review_id = next(self._ids)
            review = copy.deepcopy(fixture["review"])
            html = f"{self._html(repo)}/pull/{number}#pullrequestreview-{review_id}"
            review.update(
                id=review_id,
                node_id=_node_id("PullRequestReview", review_id),
                user=_shape(fixture["review"]["user"], self._user_json(user)),
                body=body,
                submitted_at=_now(),
                html_url=html,
                pull_request_url=f"{self.url}/repos/{repo.full_name}/pulls/{number}",
            )
            return {
                "action": "submitted",
                "review": review,
                "pull_request": _shape(around["pull_request"], self._pull_json(repo, pull)),
                "repository": _shape(around["repository"], self._repo_json(repo)),
                "sender": _shape(around["sender"], self._user_json(user)),
            }

    def ping_payload(
        self, full_name: str | None = None, *, hook_id: int = 109948940, url: str | None = None
    ) -> dict[str, Any]:
        """A repository webhook `ping`; without `full_name` it has no `repository` key."""
        with self._state:
            fixture = load_fixture("ping.json")
            payload = copy.deepcopy(fixture)
            payload["hook_id"] = hook_id
            hook = payload["hook"]
            hook["id"] = hook_id
            hook["created_at"] = hook["updated_at"] = _now()
            if url is not None:
                hook["config"]["url"] = url
            base = f"{self.url}/repos/{full_name or 'octocat/hooks'}/hooks/{hook_id}"
            hook |= {
                "url": base,
                "test_url": f"{base}/test",
                "ping_url": f"{base}/pings",
                "deliveries_url": f"{base}/deliveries",
            }
            if full_name is None:
                del payload["repository"]
                payload["sender"] = _shape(fixture["sender"], self._user_json("octocat"))
                return payload
            repo = self._repo(full_name)
            payload["repository"] = _shape(fixture["repository"], self._repo_json(repo))
            payload["sender"] = _shape(fixture["sender"], self._user_json(repo.owner))
            return payload

    def _payload_comment(
        self, issue: Issue, body: str | None, user: str, comment_id: int | None, kind: str
    ) -> Comment:
        if comment_id is None:
            if body is None:
                raise ValueError("pass body (a new comment) or comment_id")
            return self._new_comment(issue, body, user, kind)
        comment = self._comments[comment_id]
        if comment.kind != kind or comment.number != issue.number:
            raise ValueError(f"comment {comment_id} is not a {kind} comment on #{issue.number}")
        return comment

    def _finish_payload(
        self,
        payload: dict[str, Any],
        fixture: dict[str, Any],
        repo: Repo,
        comment: Comment,
        installation_id: int | None,
    ) -> dict[str, Any]:
        if payload["action"] == "edited" and comment.edits:
            payload["changes"] = {"body": {"from": comment.history[-2]}}
        payload["repository"] = _shape(fixture["repository"], self._repo_json(repo))
        if installation_id is not None:
            payload["installation"] = {
                "id": installation_id,
                "node_id": _node_id("Installation", installation_id),
            }
        payload["sender"] = _shape(fixture["sender"], self._user_json(comment.user))
        return payload

    # -- state internals (call with self._state held) ----------------------------------------
    def _repo(self, full_name: str) -> Repo:
        repo = self._repos.get(full_name.lower())
        if repo is None:
            raise KeyError(f"no repository {full_name}")
        return repo

    def _issue(self, repo: Repo, number: int) -> Issue:
        issue = repo.issues.get(number)
        if issue is None:
            raise KeyError(f"no issue or pull request {repo.full_name}#{number}")
        return issue

    def _new_issue(self, repo: Repo, title: str, body: str | None, user: str) -> Issue:
        self.add_user(user)
        now = _now()
        issue = Issue(repo.full_name, repo.next_number, next(self._ids), title, body, user)
        issue.created_at = issue.updated_at = now
        repo.issues[issue.number] = issue
        repo.next_number += 1
        return issue

    def _new_comment(self, issue: Issue, body: str, user: str, kind: str) -> Comment:
        self.add_user(user)
        now = _now()
        comment = Comment(next(self._ids), issue.repo, issue.number, user, kind, [body], now, now)
        self._comments[comment.id] = comment
        issue.updated_at = now
        return comment

    def _head_repo(self, pull: Issue) -> Repo:
        return self._repo(pull.head_repo or pull.repo)

    def _head_sha(self, pull: Issue) -> str:
        assert pull.head is not None
        return (
            from_fork(self, pull) if pull.head_repo else self._sha(self._repo(pull.repo), pull.head)
        )

    def _sha(self, repo: Repo, ref: str) -> str:
        """The branch's commit in the local clone_url repo, else a stable made-up sha."""
        git_dir = _local_git_dir(repo.clone_url)
        if git_dir is not None:
            sha = _git(git_dir, "rev-parse", "--verify", "--quiet", f"refs/heads/{ref}^{{commit}}")
            if sha:
                return sha
        return hashlib.sha1(f"{repo.full_name}:{ref}".encode(), usedforsecurity=False).hexdigest()

    def _role(self, repo: Repo, login: str) -> str:
        role = repo.permissions.get(login.lower())
        if role is not None:
            return role
        return "none" if repo.private else "read"

    # -- JSON renderers (GitHub's shapes; every URL on this host) ----------------------------
    def _html(self, repo: Repo) -> str:
        return repo.html_url or f"{self.url}/{repo.full_name}"

    def _user_json(self, login: str) -> dict[str, Any]:
        user = self.add_user(login)
        api = f"{self.url}/users/{user.login}"
        return {
            "login": user.login,
            "id": user.id,
            "node_id": _node_id("Bot" if user.type == "Bot" else "User", user.id),
            "avatar_url": f"{self.url}/avatars/u/{user.id}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{self.url}/{user.login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": user.type,
            "user_view_type": "public",
            "site_admin": user.site_admin,
        }

    def _repo_json(self, repo: Repo, me: User | None = None) -> dict[str, Any]:
        api = f"{self.url}/repos/{repo.full_name}"
        template = load_fixture("issue_comment.created.issue.json")["repository"]
        old_api = f"https://api.github.com/repos/{template['full_name']}"
        data: dict[str, Any] = {}
        for key, value in template.items():  # the *_url templates, rebased onto this host
            if isinstance(value, str) and value.startswith(old_api):
                data[key] = api + value[len(old_api) :]
        host = urlparse(self.url).netloc
        open_issues = sum(1 for i in repo.issues.values() if i.state == "open")
        data |= {
            "id": repo.id,
            "node_id": _node_id("Repository", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self._user_json(repo.owner),
            "html_url": self._html(repo),
            "description": repo.description,
            "fork": False,
            "url": api,
            "created_at": repo.created_at,
            "updated_at": repo.created_at,
            "pushed_at": repo.created_at,
            "git_url": f"git://{host}/{repo.full_name}.git",
            "ssh_url": f"git@{host}:{repo.full_name}.git",
            "clone_url": repo.clone_url,
            "svn_url": self._html(repo),
            "homepage": None,
            "size": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": None,
            "has_issues": True,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": True,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": False,
            "disabled": False,
            "open_issues_count": open_issues,
            "license": None,
            "allow_forking": True,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": "private" if repo.private else "public",
            "forks": 0,
            "open_issues": open_issues,
            "watchers": 0,
            "default_branch": repo.default_branch,
            "custom_properties": {},
        }
        if me is not None:
            rank = ROLE_RANK.index(self._role(repo, me.login))
            data["permissions"] = {
                "admin": rank >= ROLE_RANK.index("admin"),
                "maintain": rank >= ROLE_RANK.index("maintain"),
                "push": rank >= ROLE_RANK.index("write"),
                "triage": rank >= ROLE_RANK.index("triage"),
                "pull": rank >= ROLE_RANK.index("read"),
            }
        return data

    def _association(self, repo: Repo, login: str) -> str:
        if login.lower() == repo.owner.lower():
            return "OWNER"
        if repo.permissions.get(login.lower(), "none") != "none":
            return "COLLABORATOR"
        return "NONE"

    def _reactions_json(self, url: str, subject_id: int) -> dict[str, Any]:
        found = self._reactions.get(subject_id, [])
        counts = {content: sum(1 for r in found if r.content == content) for content in REACTIONS}
        return {"url": f"{url}/reactions", "total_count": len(found), **counts}

    def _issue_json(self, repo: Repo, issue: Issue) -> dict[str, Any]:
        api = f"{self.url}/repos/{repo.full_name}/issues/{issue.number}"
        kind = "pull" if issue.is_pull else "issues"
        data: dict[str, Any] = {
            "url": api,
            "repository_url": f"{self.url}/repos/{repo.full_name}",
            "labels_url": f"{api}/labels{{/name}}",
            "comments_url": f"{api}/comments",
            "events_url": f"{api}/events",
            "html_url": f"{self._html(repo)}/{kind}/{issue.number}",
            "id": issue.id,
            "node_id": _node_id("PullRequest" if issue.is_pull else "Issue", issue.id),
            "number": issue.number,
            "title": issue.title,
            "user": self._user_json(issue.user),
            "labels": [],
            "state": issue.state,
            "locked": False,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": sum(
                1
                for c in self._comments.values()
                if c.kind == "issue" and c.repo == issue.repo and c.number == issue.number
            ),
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "closed_at": issue.closed_at,
            "author_association": self._association(repo, issue.user),
            "active_lock_reason": None,
            "draft": issue.draft,
            "body": issue.body,
            "reactions": self._reactions_json(api, issue.id),
            "timeline_url": f"{api}/timeline",
            "performed_via_github_app": None,
            "state_reason": "completed" if issue.state == "closed" else None,
        }
        if issue.is_pull:
            pull_html = f"{self._html(repo)}/pull/{issue.number}"
            data["pull_request"] = {
                "url": f"{self.url}/repos/{repo.full_name}/pulls/{issue.number}",
                "html_url": pull_html,
                "diff_url": f"{pull_html}.diff",
                "patch_url": f"{pull_html}.patch",
                "merged_at": None,
            }
        return data

    def _branch_json(self, repo: Repo, ref: str, sha: str) -> dict[str, Any]:
        return {
            "label": f"{repo.owner}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self._user_json(repo.owner),
            "repo": self._repo_json(repo),
        }

    def _pull_json(self, repo: Repo, pull: Issue) -> dict[str, Any]:
        assert pull.head is not None and pull.base is not None
        repo_api = f"{self.url}/repos/{repo.full_name}"
        api = f"{repo_api}/pulls/{pull.number}"
        issue_api = f"{repo_api}/issues/{pull.number}"
        html = f"{self._html(repo)}/pull/{pull.number}"
        if pull.state == "open":  # a closed PR keeps the sha it had, an open one follows pushes
            pull.head_sha = self._head_sha(pull)
            pull.base_sha = self._sha(repo, pull.base)
        reviews = [c for c in self._comments.values() if c.kind == "review" and c.repo == pull.repo]
        issue = self._issue_json(repo, pull)
        return {
            "url": api,
            "id": pull.pull_id,
            "node_id": _node_id("PullRequest", pull.pull_id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue_api,
            "number": pull.number,
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "user": self._user_json(pull.user),
            "body": pull.body,
            "created_at": pull.created_at,
            "updated_at": pull.updated_at,
            "closed_at": pull.closed_at,
            "merged_at": None,
            "merge_commit_sha": None,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "labels": [],
            "milestone": None,
            "draft": pull.draft,
            "commits_url": f"{api}/commits",
            "review_comments_url": f"{api}/comments",
            "review_comment_url": f"{repo_api}/pulls/comments{{/number}}",
            "comments_url": f"{issue_api}/comments",
            "statuses_url": f"{repo_api}/statuses/{pull.head_sha}",
            "head": self._branch_json(self._head_repo(pull), pull.head, pull.head_sha),
            "base": self._branch_json(repo, pull.base, pull.base_sha),
            "_links": {
                "self": {"href": api},
                "html": {"href": html},
                "issue": {"href": issue_api},
                "comments": {"href": f"{issue_api}/comments"},
                "review_comments": {"href": f"{api}/comments"},
                "review_comment": {"href": f"{repo_api}/pulls/comments{{/number}}"},
                "commits": {"href": f"{api}/commits"},
                "statuses": {"href": f"{repo_api}/statuses/{pull.head_sha}"},
            },
            "author_association": issue["author_association"],
            "auto_merge": None,
            "active_lock_reason": None,
            "merged": False,
            "mergeable": None,
            "rebaseable": None,
            "mergeable_state": "unknown",
            "merged_by": None,
            "comments": issue["comments"],
            "review_comments": sum(1 for c in reviews if c.number == pull.number),
            "maintainer_can_modify": False,
            "commits": 1,
            "additions": 0,
            "deletions": 0,
            "changed_files": 0,
        }

    def _comment_json(self, comment: Comment) -> dict[str, Any]:
        repo = self._repo(comment.repo)
        repo_api = f"{self.url}/repos/{repo.full_name}"
        user = self._user_json(comment.user)
        association = self._association(repo, comment.user)
        if comment.kind == "issue":
            issue = self._issue(repo, comment.number)
            url = f"{repo_api}/issues/comments/{comment.id}"
            kind = "pull" if issue.is_pull else "issues"
            return {
                "url": url,
                "html_url": f"{self._html(repo)}/{kind}/{comment.number}#issuecomment-{comment.id}",
                "issue_url": f"{repo_api}/issues/{comment.number}",
                "id": comment.id,
                "node_id": _node_id("IssueComment", comment.id),
                "user": user,
                "created_at": comment.created_at,
                "updated_at": comment.updated_at,
                "author_association": association,
                "body": comment.body,
                "reactions": self._reactions_json(url, comment.id),
                "performed_via_github_app": None,
            }
        url = f"{repo_api}/pulls/comments/{comment.id}"
        html = f"{self._html(repo)}/pull/{comment.number}#discussion_r{comment.id}"
        pull_url = f"{repo_api}/pulls/{comment.number}"
        data: dict[str, Any] = {
            "url": url,
            "pull_request_review_id": comment.review_id,
            "id": comment.id,
            "node_id": _node_id("PullRequestReviewComment", comment.id),
            "diff_hunk": comment.diff_hunk,
            "path": comment.path,
            "position": comment.line,
            "original_position": comment.line,
            "commit_id": comment.commit_id,
            "original_commit_id": comment.commit_id,
            "user": user,
            "body": comment.body,
            "created_at": comment.created_at,
            "updated_at": comment.updated_at,
            "html_url": html,
            "pull_request_url": pull_url,
            "author_association": association,
            "_links": {
                "self": {"href": url},
                "html": {"href": html},
                "pull_request": {"href": pull_url},
            },
            "reactions": self._reactions_json(url, comment.id),
            "start_line": None,
            "original_start_line": None,
            "start_side": None,
            "line": comment.line,
            "original_line": comment.line,
            "side": comment.side,
            "subject_type": "line",
        }
        if comment.in_reply_to_id is not None:  # GitHub omits the key on top-level comments
            data["in_reply_to_id"] = comment.in_reply_to_id
        return data

    def _reaction_json(self, reaction: Reaction) -> dict[str, Any]:
        return {
            "id": reaction.id,
            "node_id": _node_id("Reaction", reaction.id),
            "user": self._user_json(reaction.user),
            "content": reaction.content,
            "created_at": reaction.created_at,
        }

    # -- HTTP plumbing -----------------------------------------------------------------------
    def _authenticate(self, headers: dict[str, str]) -> User | None:
        value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() not in ("token", "bearer"):
            return None
        login = self._tokens.get(token.strip())
        return self._users[login.lower()] if login else None

    def _headers(self, me: User | None) -> dict[str, str]:
        used = self._requests_used.get(me.login, 0) if me else 0
        return {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": str(max(0, 5000 - used)),
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
            "X-RateLimit-Used": str(used),
            "X-RateLimit-Resource": "core",
            "X-OAuth-Scopes": self.scopes.get(me.login.lower(), "repo") if me else "",
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
            "X-GitHub-Request-Id": uuid.uuid4().hex[:20].upper(),
        }

    def _json(
        self,
        me: User | None,
        data: Any,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        return web.json_response(data, status=status, headers=self._headers(me) | (headers or {}))

    def _error(self, me: User | None, error: ApiError) -> web.Response:
        body: dict[str, Any] = {"message": error.message}
        if error.errors is not None:
            body["errors"] = error.errors
        body |= {"documentation_url": error.documentation_url, "status": str(error.status)}
        return self._json(me, body, error.status)

    def _page(self, call: Recorded, me: User, items: list[dict[str, Any]]) -> web.Response:
        """One page of a list and GitHub's `Link` header, which PyGithub paginates by."""
        try:
            per_page = min(max(int(call.query.get("per_page", 30)), 1), 100)
            page = max(int(call.query.get("page", 1)), 1)
        except ValueError as exc:
            raise ApiError(400, "Invalid page parameter") from exc
        last = max(1, math.ceil(len(items) / per_page))

        def link(number: int) -> str:
            query = urlencode({**call.query, "page": number})
            return f"<{self.url}{call.path}?{query}>"

        rels = []
        if page > 1:
            rels += [f'{link(page - 1)}; rel="prev"', f'{link(1)}; rel="first"']
        if page < last:
            rels += [f'{link(page + 1)}; rel="next"', f'{link(last)}; rel="last"']
        headers = {"Link": ", ".join(rels)} if rels else {}
        chunk = items[(page - 1) * per_page : page * per_page]
        return self._json(me, chunk, headers=headers)

    async def refuse(self, call: Recorded) -> web.StreamResponse | None:
        """GitHub's own answer to a request its OpenAPI description does not allow."""
        if (limited := self.secondary.refuse(call)) is not None:  # GitHub's secondary limit
            return limited
        if allowed("github", call.method, call.path):
            return None
        try:
            description = github_description()
        except DescriptionUnavailable:
            return None  # offline outside CI: tests/fakes/test_validation.py skips, says why
        content_type = call.headers.get("Content-Type", "")
        op, problems = description.check(
            call.method, call.path, call.query, call.body, content_type
        )
        for problem in problems:
            self.violate(call, problem.message)
        refused = [p for p in problems if p.refuse]
        if not refused:
            return None
        docs = op.docs if op is not None else DOCS
        status = refused[0].status
        if status == 404:
            body: dict[str, Any] = {"message": "Not Found", "documentation_url": docs}
        elif status == 400:
            body = {"message": "Problems parsing JSON", "documentation_url": docs}
        else:
            errors = [
                {"resource": "Request", "field": p.field, "code": "invalid", "message": p.message}
                for p in refused
            ]
            body = {"message": "Validation Failed", "errors": errors, "documentation_url": docs}
        return web.json_response(body | {"status": str(status)}, status=status)

    def _api(self, method: str, path: str, fn: Route) -> None:
        async def handler(request: web.Request, call: Recorded) -> web.StreamResponse:
            me = self._authenticate(call.headers)
            if me is None:
                return self._error(None, ApiError(401, "Bad credentials"))
            with self._state:
                self._requests_used[me.login] = self._requests_used.get(me.login, 0) + 1
                try:
                    return fn(call, me)
                except ApiError as error:
                    return self._error(me, error)

        self.route(method, path, handler)

    def _repo_for(self, call: Recorded, me: User) -> Repo:
        args = call.path_args
        repo = self._repos.get(f"{args['owner']}/{args['repo']}".lower())
        if repo is None or (repo.private and self._role(repo, me.login) == "none"):
            raise ApiError(404, "Not Found")
        return repo

    def _issue_for(self, call: Recorded, me: User, pull: bool = False) -> tuple[Repo, Issue]:
        repo = self._repo_for(call, me)
        try:
            issue = repo.issues.get(int(call.path_args["number"]))
        except ValueError:
            issue = None
        if issue is None or (pull and not issue.is_pull):
            raise ApiError(404, "Not Found")
        return repo, issue

    def _comment_for(self, call: Recorded, me: User, kind: str) -> tuple[Repo, Comment]:
        repo = self._repo_for(call, me)
        try:
            comment = self._comments.get(int(call.path_args["id"]))
        except ValueError:
            comment = None
        if comment is None or comment.kind != kind or comment.repo != repo.full_name:
            raise ApiError(404, "Not Found")
        return repo, comment

    @staticmethod
    def _body(call: Recorded) -> dict[str, Any]:
        try:
            data = call.json
        except json.JSONDecodeError as exc:
            raise ApiError(400, "Problems parsing JSON") from exc
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ApiError(400, "Problems parsing JSON")
        return data

    @staticmethod
    def _text(data: dict[str, Any], key: str, resource: str, required: bool = True) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                raise _validation_failed(
                    [{"resource": resource, "field": key, "code": "missing_field"}]
                )
            return None
        if not isinstance(value, str):
            raise _validation_failed([{"resource": resource, "field": key, "code": "invalid"}])
        if key == "body" and len(value) > MAX_BODY:
            raise _validation_failed(
                [
                    {
                        "resource": resource,
                        "code": "custom",
                        "field": "body",
                        "message": f"body is too long (maximum is {MAX_BODY} characters)",
                    }
                ]
            )
        return value

    # -- routes --------------------------------------------------------------------------------
    def _routes_github(self) -> None:
        base = "/repos/{owner}/{repo}"
        self._api("GET", "/user", self._get_me)
        self._api("GET", "/users/{login}", self._get_user)
        self._api("GET", base, self._get_repo)
        self._api("GET", base + "/collaborators/{login}/permission", self._get_permission)
        self._api("GET", base + "/issues/{number}", self._get_issue)
        self._api("PATCH", base + "/issues/{number}", self._edit_issue)
        self._api("GET", base + "/issues/{number}/comments", self._list_issue_comments)
        self._api("POST", base + "/issues/{number}/comments", self._create_issue_comment)
        self._api("GET", base + "/issues/{number}/reactions", self._list_issue_reactions)
        self._api("POST", base + "/issues/{number}/reactions", self._react_issue)
        for kind, segment in (("issue", "issues"), ("review", "pulls")):
            comment = base + f"/{segment}/comments/{{id}}"
            self._api("GET", comment, self._comment_route(kind, "get"))
            self._api("PATCH", comment, self._comment_route(kind, "edit"))
            self._api("DELETE", comment, self._comment_route(kind, "delete"))
            self._api("GET", comment + "/reactions", self._comment_route(kind, "reactions"))
            self._api("POST", comment + "/reactions", self._comment_route(kind, "react"))
        self._api("GET", base + "/pulls", self._list_pulls)
        self._api("POST", base + "/pulls", self._create_pull)
        self._api("GET", base + "/pulls/{number}", self._get_pull)
        self._api("PATCH", base + "/pulls/{number}", self._edit_pull)
        self._api("GET", base + "/pulls/{number}/comments", self._list_review_comments)
        self._api("POST", base + "/pulls/{number}/comments/{id}/replies", self._reply_review)

    def _get_me(self, call: Recorded, me: User) -> web.Response:
        return self._json(me, self._user_json(me.login))

    def _get_user(self, call: Recorded, me: User) -> web.Response:
        if call.path_args["login"].lower() not in self._users:
            raise ApiError(404, "Not Found")
        return self._json(me, self._user_json(call.path_args["login"]))

    def _get_repo(self, call: Recorded, me: User) -> web.Response:
        return self._json(me, self._repo_json(self._repo_for(call, me), me))

    def _get_permission(self, call: Recorded, me: User) -> web.Response:
        repo = self._repo_for(call, me)
        login = call.path_args["login"]
        if login.lower() not in self._users:
            raise ApiError(404, "Not Found")
        role = self._role(repo, login)
        rank = ROLE_RANK.index(role)
        user = self._user_json(login) | {
            "permissions": {
                "admin": rank >= ROLE_RANK.index("admin"),
                "maintain": rank >= ROLE_RANK.index("maintain"),
                "push": rank >= ROLE_RANK.index("write"),
                "triage": rank >= ROLE_RANK.index("triage"),
                "pull": rank >= ROLE_RANK.index("read"),
            },
            "role_name": role,
        }
        return self._json(
            me, {"permission": ROLE_TO_PERMISSION[role], "role_name": role, "user": user}
        )

    def _get_issue(self, call: Recorded, me: User) -> web.Response:
        repo, issue = self._issue_for(call, me)
        return self._json(me, self._issue_json(repo, issue))

    def _apply_edit(self, issue: Issue, data: dict[str, Any], resource: str) -> None:
        title = self._text(data, "title", resource, required=False)
        body = self._text(data, "body", resource, required=False) if "body" in data else None
        state = data.get("state")
        if state not in (None, "open", "closed"):
            raise _validation_failed([{"resource": resource, "field": "state", "code": "invalid"}])
        if title is not None:
            issue.title = title
        if "body" in data:
            issue.history.append(issue.body)
            issue.body = body
        if state is not None and state != issue.state:
            issue.state = state
            issue.closed_at = _now() if state == "closed" else None
        issue.updated_at = _now()

    def _edit_issue(self, call: Recorded, me: User) -> web.Response:
        repo, issue = self._issue_for(call, me)
        self._apply_edit(issue, self._body(call), "Issue")
        return self._json(me, self._issue_json(repo, issue))

    def _list_issue_comments(self, call: Recorded, me: User) -> web.Response:
        repo, issue = self._issue_for(call, me)
        found = [
            self._comment_json(c)
            for c in sorted(self._comments.values(), key=lambda c: c.id)
            if c.kind == "issue" and c.repo == repo.full_name and c.number == issue.number
        ]
        return self._page(call, me, found)

    def _create_issue_comment(self, call: Recorded, me: User) -> web.Response:
        _, issue = self._issue_for(call, me)
        body = self._text(self._body(call), "body", "IssueComment")
        assert body is not None
        comment = self._new_comment(issue, body, me.login, "issue")
        return self._json(me, self._comment_json(comment), 201)

    def _list_issue_reactions(self, call: Recorded, me: User) -> web.Response:
        _, issue = self._issue_for(call, me)
        found = [self._reaction_json(r) for r in self._reactions.get(issue.id, [])]
        return self._page(call, me, found)

    def _react(self, call: Recorded, me: User, subject_id: int) -> web.Response:
        content = self._body(call).get("content")
        if content not in REACTIONS:
            raise _validation_failed(
                [{"resource": "Reaction", "field": "content", "code": "invalid"}]
            )
        existing = self._reactions.setdefault(subject_id, [])
        for reaction in existing:  # the same reaction twice answers 200 with the first one
            if reaction.user == me.login and reaction.content == content:
                return self._json(me, self._reaction_json(reaction), 200)
        reaction = Reaction(next(self._ids), me.login, content, _now())
        existing.append(reaction)
        return self._json(me, self._reaction_json(reaction), 201)

    def _react_issue(self, call: Recorded, me: User) -> web.Response:
        _, issue = self._issue_for(call, me)
        return self._react(call, me, issue.id)

    def _comment_route(self, kind: str, action: str) -> Route:
        def handle(call: Recorded, me: User) -> web.Response:
            _, comment = self._comment_for(call, me, kind)
            if action == "get":
                return self._json(me, self._comment_json(comment))
            if action == "edit":
                resource = "IssueComment" if kind == "issue" else "PullRequestReviewComment"
                body = self._text(self._body(call), "body", resource)
                assert body is not None
                comment.history.append(body)
                comment.updated_at = _now()
                return self._json(me, self._comment_json(comment))
            if action == "delete":
                del self._comments[comment.id]
                return web.Response(status=204, headers=self._headers(me))
            if action == "reactions":
                found = [self._reaction_json(r) for r in self._reactions.get(comment.id, [])]
                return self._page(call, me, found)
            return self._react(call, me, comment.id)

        return handle

    def _get_pull(self, call: Recorded, me: User) -> web.Response:
        repo, pull = self._issue_for(call, me, pull=True)
        return self._json(me, self._pull_json(repo, pull))

    def _list_pulls(self, call: Recorded, me: User) -> web.Response:
        repo = self._repo_for(call, me)
        state = call.query.get("state", "open")
        head = call.query.get("head", "")
        base = call.query.get("base")
        if head and ":" not in head:
            self.violate(
                call,
                f"head={head!r} without 'owner:': GitHub ignores the filter and lists every "
                "pull request",
            )
        found = []
        for pull in repo.issues.values():
            if not pull.is_pull or state not in ("all", pull.state):
                continue
            # GitHub silently ignores a `head` filter without the "owner:" part
            if ":" in head:
                owner, _, ref = head.partition(":")
                if owner.lower() != repo.owner.lower() or ref != pull.head:
                    continue
            if base is not None and base != pull.base:
                continue
            found.append(pull)
        newest_first = call.query.get("direction", "desc") == "desc"
        found.sort(key=lambda p: p.number, reverse=newest_first)
        return self._page(call, me, [self._pull_json(repo, p) for p in found])

    def _check_head(self, repo: Repo, head: str, base: str, doc: str, number: int = 0) -> None:
        """GitHub's 422s for a pull request: a duplicate, a missing branch, nothing to merge."""
        for other in repo.issues.values():
            if (
                other.is_pull
                and other.number != number
                and other.state == "open"
                and (other.head, other.base) == (head, base)
            ):
                message = f"A pull request already exists for {repo.owner}:{head}."
                raise _validation_failed(
                    [{"resource": "PullRequest", "code": "custom", "message": message}], doc
                )
        git_dir = _local_git_dir(repo.clone_url)
        if git_dir is None:
            return
        for name, ref in (("head", head), ("base", base)):
            if _git(git_dir, "rev-parse", "--verify", "--quiet", f"refs/heads/{ref}") is None:
                raise _validation_failed(
                    [{"resource": "PullRequest", "field": name, "code": "invalid"}], doc
                )
        ahead = _git(git_dir, "rev-list", "--count", f"refs/heads/{base}..refs/heads/{head}")
        if ahead == "0":
            message = f"No commits between {base} and {head}"
            raise _validation_failed(
                [{"resource": "PullRequest", "code": "custom", "message": message}], doc
            )

    def _create_pull(self, call: Recorded, me: User) -> web.Response:
        doc = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"
        repo = self._repo_for(call, me)
        data = self._body(call)
        title = self._text(data, "title", "PullRequest")
        body = self._text(data, "body", "PullRequest", required=False)
        base = self._text(data, "base", "PullRequest")
        head = self._text(data, "head", "PullRequest")
        assert title is not None and base is not None and head is not None
        if ":" in head:  # "owner:branch"; forks are not modelled
            owner, _, head = head.partition(":")
            if owner.lower() != repo.owner.lower():
                raise _validation_failed(
                    [{"resource": "PullRequest", "field": "head", "code": "invalid"}], doc
                )
        self._check_head(repo, head, base, doc)
        pull = self._new_issue(repo, title, body, me.login)
        pull.head, pull.base, pull.pull_id = head, base, next(self._ids)
        pull.draft = bool(data.get("draft", False))
        return self._json(me, self._pull_json(repo, pull), 201)

    def _edit_pull(self, call: Recorded, me: User) -> web.Response:
        repo, pull = self._issue_for(call, me, pull=True)
        data = self._body(call)
        assert pull.head is not None and pull.base is not None
        base = self._text(data, "base", "PullRequest", required=False) or pull.base
        if data.get("state", pull.state) == "open" and (pull.state, pull.base) != ("open", base):
            doc = "https://docs.github.com/rest/pulls/pulls#update-a-pull-request"
            self._check_head(repo, pull.head, base, doc, number=pull.number)
        self._apply_edit(pull, data, "PullRequest")
        pull.base = base
        return self._json(me, self._pull_json(repo, pull))

    def _list_review_comments(self, call: Recorded, me: User) -> web.Response:
        repo, pull = self._issue_for(call, me, pull=True)
        found = [
            self._comment_json(c)
            for c in sorted(self._comments.values(), key=lambda c: c.id)
            if c.kind == "review" and c.repo == repo.full_name and c.number == pull.number
        ]
        return self._page(call, me, found)

    def _reply_review(self, call: Recorded, me: User) -> web.Response:
        _, pull = self._issue_for(call, me, pull=True)
        _, parent = self._comment_for(call, me, "review")
        if parent.number != pull.number:
            raise ApiError(404, "Not Found")
        if parent.in_reply_to_id is not None:
            # GitHub's docs: "Replies to replies are not supported." Reply to the thread's root.
            raise _validation_failed(
                [
                    {
                        "resource": "PullRequestReviewComment",
                        "field": "in_reply_to",
                        "code": "invalid",
                    }
                ],
                "https://docs.github.com/rest/pulls/comments#create-a-reply-for-a-review-comment",
            )
        body = self._text(self._body(call), "body", "PullRequestReviewComment")
        assert body is not None
        reply = self._new_comment(pull, body, me.login, "review")
        reply.path, reply.line, reply.side = parent.path, parent.line, parent.side
        reply.diff_hunk, reply.commit_id = parent.diff_hunk, parent.commit_id
        reply.in_reply_to_id, reply.review_id = parent.id, next(self._ids)
        return self._json(me, self._comment_json(reply), 201)
