"""Sign-in through any OpenID Connect provider (Google Workspace, Okta, Entra ID, Keycloak…).

Configured by its issuer URL and a client (REPOBOX_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET):
the endpoints and keys come from the issuer's discovery document
(`/.well-known/openid-configuration`) and its JWKS. The flow is Authlib's OAuth 2 client,
as for GitHub and GitLab (`bot.identity.oauth`): authorization code with a random `state`,
PKCE (S256) and a random `nonce`. The ID token is verified with joserfc (Authlib's own
JOSE library): its signature against the JWKS, then issuer, audience, expiry and the nonce
this browser was given. REPOBOX_OIDC_ALLOWED_DOMAINS keeps sign-in to verified e-mail
addresses in those domains. Blocking (requests underneath); handlers run it in a thread.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from bot.core.config import Settings
from bot.core.errors import UpstreamError
from bot.core.stored import JsonObject, Text, dump, load
from bot.identity.oauth import SignInError, exchange_code

TIMEOUT = 10.0
CACHE_SECONDS = 300.0
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
LEEWAY = 60  # seconds of clock skew allowed on exp, iat and nbf


@dataclass(frozen=True)
class OidcApp:
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    name: str = "single sign-on"
    domains: frozenset[str] = frozenset()


def oidc_app(settings: Settings) -> OidcApp | None:
    """The configured provider, or None (its button is then not shown)."""
    s = settings
    if not (s.oidc_issuer and s.oidc_client_id and s.oidc_client_secret):
        return None
    return OidcApp(
        s.oidc_issuer, s.oidc_client_id, s.oidc_client_secret, s.oidc_name, s.oidc_allowed_domains
    )


@dataclass(frozen=True)
class Discovery:
    issuer: str
    authorize_url: str
    token_url: str
    keys: KeySet = field(repr=False)


_cache: dict[str, tuple[float, Discovery]] = {}
_lock = threading.Lock()


def _get_json(url: str) -> dict[str, Any]:
    try:
        answer = requests.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
    except OSError as error:
        raise UpstreamError(
            f"The sign-in provider could not be reached: {type(error).__name__}"
        ) from None
    if answer.status_code != 200:
        raise UpstreamError(f"The sign-in provider answered HTTP {answer.status_code} for {url}")
    try:
        found = answer.json()
    except ValueError:
        raise UpstreamError(f"The sign-in provider's {url} is not JSON") from None
    if not isinstance(found, dict):
        raise UpstreamError(f"The sign-in provider's {url} is not a JSON object")
    return found


def discover(app: OidcApp, *, fresh: bool = False) -> Discovery:
    """The issuer's endpoints and keys, cached for a few minutes (`fresh`: fetch again)."""
    with _lock:
        cached = _cache.get(app.issuer)
    if cached is not None and not fresh and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    doc = _get_json(f"{app.issuer}/.well-known/openid-configuration")
    if doc.get("issuer") != app.issuer:
        raise UpstreamError("The sign-in provider's discovery document names another issuer.")
    try:
        keys = KeySet.import_key_set(_get_json(str(doc["jwks_uri"])))  # type: ignore[arg-type]
        found = Discovery(
            app.issuer, str(doc["authorization_endpoint"]), str(doc["token_endpoint"]), keys
        )
    except (KeyError, ValueError, JoseError):
        raise UpstreamError("The sign-in provider's discovery document is incomplete.") from None
    with _lock:
        _cache[app.issuer] = (time.monotonic(), found)
    return found


@dataclass(frozen=True)
class PendingOidc:
    """Kept in the sealed session cookie between the redirect and the callback."""

    state: Text
    nonce: Text = field(repr=False)
    code_verifier: Text = field(repr=False)
    redirect_uri: Text

    def to_dict(self) -> JsonObject:
        return dump(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> PendingOidc:
        return load(cls, data)


@dataclass(frozen=True)
class Claims:
    subject: str
    name: str
    email: str | None


def _client(app: OidcApp, redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(
        client_id=app.client_id,
        client_secret=app.client_secret,
        scope="openid email profile",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )


def begin(app: OidcApp, found: Discovery, redirect_uri: str) -> tuple[str, PendingOidc]:
    verifier, nonce = secrets.token_urlsafe(64), secrets.token_urlsafe(24)
    with _client(app, redirect_uri) as client:
        url, state = client.create_authorization_url(
            found.authorize_url,
            state=secrets.token_urlsafe(24),
            code_verifier=verifier,
            nonce=nonce,
        )
    return str(url), PendingOidc(str(state), nonce, verifier, redirect_uri)


def finish(
    app: OidcApp, found: Discovery, pending: PendingOidc, query: Mapping[str, str]
) -> Claims:
    """Check the callback, exchange the code, verify the ID token; the person's claims."""
    token = exchange_code(
        _client(app, pending.redirect_uri),
        app.name,
        found.token_url,
        pending.state,
        pending.code_verifier,
        query,
    )
    return verify(app, found, str(token.get("id_token") or ""), pending.nonce)


def verify(app: OidcApp, found: Discovery, id_token: str, nonce: str) -> Claims:
    """The ID token's claims, once its signature, issuer, audience, expiry, nonce and
    (if restricted) e-mail domain are right; a `SignInError` that says which is not."""
    if not id_token:
        raise SignInError(f"{app.name} answered without an ID token.", hint="Try again.")
    try:
        token = jwt.decode(id_token, found.keys, algorithms=ALGORITHMS)
        jwt.JWTClaimsRegistry(
            leeway=LEEWAY,
            iss={"essential": True, "value": app.issuer},
            aud={"essential": True, "value": app.client_id},
            sub={"essential": True},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(token.claims)
    except JoseError as error:
        raise SignInError(
            f"{app.name}'s ID token was refused: {_why(error)}.", hint="Try again."
        ) from None
    claims = token.claims
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    _check_domain(app, email, claims.get("email_verified"))
    subject = str(claims["sub"])
    if not subject or any(c.isspace() for c in subject) or len(subject) > 255:
        raise SignInError(f"{app.name} named the person in a way Repobox cannot keep.")
    name = claims.get("name") or email or subject
    return Claims(subject, str(name)[:100], email)


def _why(error: JoseError) -> str:
    """The refusal in words (joserfc's error names the claim; never the token)."""
    return (getattr(error, "description", "") or type(error).__name__).rstrip(".")[:120]


def _check_domain(app: OidcApp, email: str | None, verified: object) -> None:
    if not app.domains:
        return
    domain = email.rpartition("@")[2].lower() if email and "@" in email else ""
    if verified is False or domain not in app.domains:
        raise SignInError(
            "Sign-in here is for addresses in "
            f"{', '.join(sorted(app.domains))}, and {app.name} gave "
            f"{'an unverified address' if verified is False and domain else email or 'none'}."
        )
