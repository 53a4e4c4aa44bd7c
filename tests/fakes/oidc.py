"""A small OpenID Connect provider: discovery document, JWKS, authorization-code grant with
PKCE, and ID tokens signed with its own RSA key, as Google, Okta, Entra ID or Keycloak
answer them.

`authorize` plays the signed-in person who approves (`user`'s claims) and remembers the
nonce the client sent with the code it hands out; `token` checks the client, the code (once)
and the PKCE verifier, then signs an ID token with that nonce, the client as audience and a
five-minute expiry. `tamper` overrides claims of the tokens it signs next (a wrong nonce,
audience or expiry), and `rogue_key` signs with a key the JWKS does not hold.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from joserfc import jwt
from joserfc.jwk import RSAKey

from .base import FakeServer, Recorded


@dataclass
class _Code:
    redirect_uri: str
    nonce: str | None
    challenge: str | None


class FakeOidc(FakeServer):
    def __init__(self, client_id: str, client_secret: str) -> None:
        super().__init__()
        self.client_id, self.client_secret = client_id, client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})
        self.user: dict[str, Any] = {
            "sub": "00u-ada",
            "email": "ada@example.org",
            "email_verified": True,
            "name": "Ada Lovelace",
        }
        self.tamper: dict[str, Any] = {}
        self.rogue_key = False
        self.codes: dict[str, _Code] = {}
        self.route("GET", "/.well-known/openid-configuration", self._discovery)
        self.route("GET", "/jwks", self._jwks)
        self.route("GET", "/authorize", self._authorize)
        self.route("POST", "/token", self._token)

    async def _discovery(self, _request: web.Request, _call: Recorded) -> web.StreamResponse:
        return web.json_response(
            {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def _jwks(self, _request: web.Request, _call: Recorded) -> web.StreamResponse:
        return web.json_response({"keys": [self.key.as_dict(private=False)]})

    async def _authorize(self, _request: web.Request, call: Recorded) -> web.StreamResponse:
        q = call.query
        if q.get("client_id") != self.client_id or q.get("response_type") != "code":
            return web.Response(status=400, text="Unknown client or response type.")
        if "openid" not in q.get("scope", "").split():
            return web.Response(status=400, text="The openid scope is missing.")
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return web.Response(status=400, text="PKCE with S256 is required.")
        code = secrets.token_urlsafe(16)
        self.codes[code] = _Code(q["redirect_uri"], q.get("nonce"), q["code_challenge"])
        back = urlencode({"code": code, "state": q.get("state", "")})
        return web.Response(status=302, headers={"Location": f"{q['redirect_uri']}?{back}"})

    def _client_ok(self, call: Recorded) -> bool:
        form = call.form
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        basic = call.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        return client_id == self.client_id and secrets.compare_digest(secret, self.client_secret)

    async def _token(self, _request: web.Request, call: Recorded) -> web.StreamResponse:
        form = call.form
        if not self._client_ok(call):
            return web.json_response({"error": "invalid_client"}, status=401)
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or form.get("redirect_uri") != grant.redirect_uri:
            return web.json_response({"error": "invalid_grant"}, status=400)
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).decode().rstrip("=") != grant.challenge:
            return web.json_response({"error": "invalid_grant"}, status=400)
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": grant.nonce,
            **self.user,
            **self.tamper,
        }
        key = RSAKey.generate_key(2048, parameters={"kid": "k1"}) if self.rogue_key else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        return web.json_response(
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }
        )
