"""The OAuth 2 authorization-code grant (with PKCE) as GitHub and GitLab run it, for fakes.

`authorize` plays the person who is signed in on the host and clicks "Authorize": it
checks the client and the redirect URI and sends the browser back with a one-time code
and the state. `token` checks what a real host checks: the client id and secret, the code
(once only, for the same redirect URI) and the PKCE verifier against the challenge. A
fake then registers the issued token as that user's, with the granted scopes, so the API
answers to it like to any other token.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from .base import FakeServer, Recorded


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    login: str
    scopes: tuple[str, ...]
    challenge: str | None
    method: str | None


@dataclass
class OAuthClient:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...] = ()  # empty: any (GitHub allows sub-paths of one URL)


@dataclass
class OAuthServer:
    """Routes `authorize_path` (GET) and `token_path` (POST) on `fake`.

    `issue(login, scopes)` makes the access token the API then accepts.
    `token_reply(token, scopes)` and `error_reply(code, text)` shape the host's answers.
    """

    fake: FakeServer
    authorize_path: str
    token_path: str
    issue: Callable[[str, tuple[str, ...]], str]
    token_reply: Callable[[str, tuple[str, ...]], dict[str, Any]]
    error_status: int = 400  # GitHub answers 200 with an "error" field; GitLab 400/401
    scope_separator: str = " "
    default_scopes: tuple[str, ...] = ()
    clients: dict[str, OAuthClient] = field(default_factory=dict)
    signed_in: str | None = None  # the host's user who approves; None: the host says no
    grants: dict[str, _Grant] = field(default_factory=dict)
    used_codes: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.fake.route("GET", self.authorize_path, self._authorize)
        self.fake.route("POST", self.token_path, self._token)

    def add_client(self, client_id: str, client_secret: str, *redirect_uris: str) -> None:
        self.clients[client_id] = OAuthClient(client_id, client_secret, redirect_uris)

    async def _authorize(self, request: web.Request, call: Recorded) -> web.StreamResponse:
        q = call.query
        client = self.clients.get(q.get("client_id", ""))
        if client is None:
            return web.Response(status=404, text="The client_id is not registered.")
        redirect_uri = q.get("redirect_uri", "")
        if client.redirect_uris and not any(
            redirect_uri.startswith(u) for u in client.redirect_uris
        ):
            return web.Response(status=400, text="The redirect_uri is not registered.")
        state = q.get("state")
        back: dict[str, str] = {} if state is None else {"state": state}
        if self.signed_in is None or q.get("response_type", "code") != "code":
            back |= {"error": "access_denied", "error_description": "The user denied access."}
            return _redirect(f"{redirect_uri}?{urlencode(back)}")
        method = q.get("code_challenge_method")
        if q.get("code_challenge") and method != "S256":
            return web.Response(status=400, text="Only S256 is accepted.")
        code = secrets.token_urlsafe(16)
        scopes = tuple(s for s in q.get("scope", "").replace(",", " ").split() if s)
        with self._lock:
            self.grants[code] = _Grant(
                client.client_id,
                redirect_uri,
                self.signed_in,
                scopes or self.default_scopes,
                q.get("code_challenge"),
                method,
            )
        return _redirect(f"{redirect_uri}?{urlencode({'code': code, **back})}")

    def _error(self, error: str, description: str) -> web.Response:
        body = {"error": error, "error_description": description}
        return web.json_response(body, status=self.error_status)

    async def _token(self, request: web.Request, call: Recorded) -> web.StreamResponse:
        form = call.form
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        basic = call.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            decoded = base64.b64decode(basic.removeprefix("Basic ")).decode()
            client_id, _, client_secret = decoded.partition(":")
        client = self.clients.get(client_id)
        if client is None or not secrets.compare_digest(client.client_secret, client_secret):
            return self._error("invalid_client", "The client_id and/or client_secret are wrong.")
        if form.get("grant_type", "authorization_code") != "authorization_code":
            return self._error("unsupported_grant_type", "Only authorization_code.")
        code = form.get("code", "")
        with self._lock:
            grant = self.grants.pop(code, None)
            reused = code in self.used_codes
            self.used_codes.add(code)
        if grant is None or reused or grant.client_id != client_id:
            return self._error("bad_verification_code", "The code is incorrect or expired.")
        if form.get("redirect_uri", grant.redirect_uri) != grant.redirect_uri:
            return self._error("redirect_uri_mismatch", "The redirect_uri does not match.")
        if grant.challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
            if not verifier or not secrets.compare_digest(expected, grant.challenge):
                return self._error("invalid_grant", "The code_verifier does not match.")
        token = self.issue(grant.login, grant.scopes)
        return web.json_response(self.token_reply(token, grant.scopes))


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})
