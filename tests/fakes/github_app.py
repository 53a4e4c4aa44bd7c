"""A GitHub App on the fake GitHub: the App's JWT-authenticated endpoints and installation
tokens, registered on an existing `FakeGitHub` with `GitHubApp(fake, app_id, public_key)`.

Like GitHub (docs.github.com/rest/apps/apps, API 2022-11-28):

- `GET /app`, `GET /app/installations`, `GET /repos/{o}/{r}/installation` and
  `POST /app/installations/{id}/access_tokens` take `Authorization: Bearer <JWT>`, checked
  with the App's public key: RS256, `iss` the App's id, `exp` at most 10 minutes ahead.
  Anything else is 401 "A JSON web token could not be decoded" (or "… 'Expiration time'
  claim ('exp') is too far in the future").
- An installation token (`ghs_…`) authenticates as the App's bot user, `<slug>[bot]`
  (type Bot), so what it creates is authored by that user; it expires after `lifetime`
  (the test's to set), or at once with `expire()`: then the API answers 401.
- A repository outside every installation is 404 on `/repos/{o}/{r}/installation`.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from aiohttp import web

from .base import Recorded
from .github import FakeGitHub, _node_id

DOCS = "https://docs.github.com/rest/apps/apps"
PERMISSIONS = {
    "contents": "write",
    "pull_requests": "write",
    "issues": "write",
    "metadata": "read",
    "checks": "read",
    "actions": "read",
}
EVENTS = ["issue_comment", "pull_request", "pull_request_review", "pull_request_review_comment"]


@dataclass
class Installation:
    id: int
    account: str
    repositories: set[str] | None = None  # lower-case full names; None: all of the account's
    tokens: list[str] = field(default_factory=list)

    def covers(self, full_name: str) -> bool:
        owner = full_name.split("/", 1)[0].lower()
        if owner != self.account.lower():
            return False
        return self.repositories is None or full_name.lower() in self.repositories


class GitHubApp:
    def __init__(
        self, fake: FakeGitHub, app_id: int, public_key: str, slug: str = "repobox"
    ) -> None:
        self.fake = fake
        self.app_id = app_id
        self.public_key = public_key
        self.slug = slug
        self.lifetime = timedelta(hours=1)  # of each installation token
        self.installations: dict[int, Installation] = {}
        self.minted: list[str] = []  # every installation token, oldest first
        self.bot = fake.add_user(f"{slug}[bot]", type="Bot")
        fake.route("GET", "/app", self._jwt(self._get_app))
        fake.route("GET", "/app/installations", self._jwt(self._list_installations))
        fake.route("GET", "/repos/{owner}/{repo}/installation", self._jwt(self._repo_installation))
        fake.route("POST", "/app/installations/{id}/access_tokens", self._jwt(self._access_token))

    # -- set-up and queries for tests -----------------------------------------------------
    def install(self, account: str, repositories: list[str] | None = None) -> Installation:
        """Install the App on `account` (all its repositories, or those named), which gives
        its bot user write on them."""
        with self.fake._state:
            chosen = None if repositories is None else {r.lower() for r in repositories}
            found = Installation(next(self.fake._ids), account, chosen)
            self.installations[found.id] = found
            for repo in self.fake._repos.values():
                if found.covers(repo.full_name):
                    repo.permissions[self.bot.login.lower()] = "write"
            return found

    def expire(self) -> None:
        """Every installation token handed out so far stops working now (401)."""
        with self.fake._state:
            for token in self.minted:
                self.fake._tokens.pop(token, None)

    # -- webhook payloads (docs.github.com/webhooks/webhook-events-and-payloads) ------------
    def installation_payload(self, action: str, installation: Installation) -> dict[str, Any]:
        """An `installation` delivery (created, deleted, suspend, …) from the account's owner."""
        with self.fake._state:
            payload: dict[str, Any] = {
                "action": action,
                "installation": self._installation_json(installation),
                "sender": self.fake._user_json(installation.account),
            }
            if installation.repositories is not None:
                payload["repositories"] = [self._repo_brief(r) for r in installation.repositories]
            return payload

    def repositories_payload(
        self, installation: Installation, added: list[str], removed: list[str]
    ) -> dict[str, Any]:
        """An `installation_repositories` delivery; the installation's selection changes too."""
        with self.fake._state:
            chosen = set(installation.repositories or ())
            chosen = (chosen | {r.lower() for r in added}) - {r.lower() for r in removed}
            installation.repositories = chosen
            return {
                "action": "added" if added else "removed",
                "installation": self._installation_json(installation),
                "repository_selection": "selected",
                "repositories_added": [self._repo_brief(r) for r in added],
                "repositories_removed": [self._repo_brief(r) for r in removed],
                "requester": None,
                "sender": self.fake._user_json(installation.account),
            }

    def _repo_brief(self, full_name: str) -> dict[str, Any]:
        repo = self.fake._repo(full_name)
        return {
            "id": repo.id,
            "node_id": _node_id("Repository", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
        }

    # -- routes ---------------------------------------------------------------------------
    def _jwt(self, fn: Any) -> Any:
        async def handler(request: web.Request, call: Recorded) -> web.StreamResponse:
            problem = self._check_jwt(call.headers)
            if problem is not None:
                return web.json_response(
                    {"message": problem, "documentation_url": DOCS, "status": "401"}, status=401
                )
            with self.fake._state:
                response: web.StreamResponse = fn(call)
                return response

        return handler

    def _check_jwt(self, headers: dict[str, str]) -> str | None:
        value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer":
            return "A JSON web token could not be decoded"
        try:
            claims = jwt.decode(
                token.strip(),
                self.public_key,
                algorithms=["RS256"],
                options={"require": ["exp", "iat", "iss"], "verify_iat": False},
                leeway=60,
            )
        except jwt.PyJWTError:
            return "A JSON web token could not be decoded"
        if str(claims["iss"]) != str(self.app_id):
            return "Integration not found"  # GitHub's words for another App's JWT
        if int(claims["exp"]) > time.time() + 600 + 5:
            return (
                "'Expiration time' claim ('exp') is too far in the future. The JWT "
                "must expire no more than 10 minutes after it was issued"
            )
        return None

    def _get_app(self, call: Recorded) -> web.Response:
        return web.json_response(self._app_json())

    def _list_installations(self, call: Recorded) -> web.Response:
        found = [self._installation_json(i) for i in self.installations.values()]
        return web.json_response(found)

    def _repo_installation(self, call: Recorded) -> web.Response:
        full_name = f"{call.path_args['owner']}/{call.path_args['repo']}"
        for installation in self.installations.values():
            if installation.covers(full_name) and full_name.lower() in self.fake._repos:
                return web.json_response(self._installation_json(installation))
        return web.json_response(
            {"message": "Not Found", "documentation_url": DOCS, "status": "404"}, status=404
        )

    def _access_token(self, call: Recorded) -> web.Response:
        try:
            installation = self.installations.get(int(call.path_args["id"]))
        except ValueError:
            installation = None
        if installation is None:
            return web.json_response(
                {"message": "Not Found", "documentation_url": DOCS, "status": "404"}, status=404
            )
        token = "ghs_" + secrets.token_hex(18)
        self.fake._tokens[token] = self.bot.login
        self.fake.scopes[self.bot.login.lower()] = ""  # installation tokens have no scopes
        installation.tokens.append(token)
        self.minted.append(token)
        expires = datetime.now(UTC) + self.lifetime
        body = {
            "token": token,
            "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "permissions": PERMISSIONS,
            "repository_selection": "all" if installation.repositories is None else "selected",
        }
        return web.json_response(body, status=201)

    # -- JSON -----------------------------------------------------------------------------
    def _app_json(self) -> dict[str, Any]:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "id": self.app_id,
            "slug": self.slug,
            "node_id": _node_id("Integration", self.app_id),
            "client_id": f"Iv1.{self.app_id:016x}",
            "owner": self.fake._user_json("octo"),
            "name": "Repobox",
            "description": "A chat-ops coding bot",
            "external_url": "https://repobox.example",
            "html_url": f"{self.fake.url}/apps/{self.slug}",
            "created_at": now,
            "updated_at": now,
            "permissions": PERMISSIONS,
            "events": EVENTS,
            "installations_count": len(self.installations),
        }

    def _installation_json(self, installation: Installation) -> dict[str, Any]:
        api = f"{self.fake.url}/app/installations/{installation.id}"
        account = self.fake._user_json(installation.account)
        return {
            "id": installation.id,
            "account": account,
            "access_tokens_url": f"{api}/access_tokens",
            "repositories_url": f"{self.fake.url}/installation/repositories",
            "html_url": f"{self.fake.url}/settings/installations/{installation.id}",
            "app_id": self.app_id,
            "app_slug": self.slug,
            "target_id": account["id"],
            "target_type": account["type"],
            "permissions": PERMISSIONS,
            "events": EVENTS,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "single_file_name": None,
            "repository_selection": "all" if installation.repositories is None else "selected",
            "suspended_at": None,
            "suspended_by": None,
        }
