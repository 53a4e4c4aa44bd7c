"""The OAuth 2 web flow against GitHub and GitLab, on Authlib's OAuth2 client.

Authorization-code grant with a random `state` and PKCE (S256; both hosts accept it):
`begin` makes the URL to send the browser to and the `PendingAuthorization` to keep
(in the signed, encrypted session cookie) until the host sends the browser back;
`finish` checks the state, exchanges the code and returns the token with its scopes.
Nothing here logs: the code, the verifier and the token never reach a log line or a URL
of ours. The calls are blocking (requests underneath); aiohttp handlers run them in a
thread.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from bot.core.config import Settings
from bot.core.errors import UpstreamError, UserError
from bot.core.stored import JsonObject, Text, dump, load
from bot.identity.people import Provider

TIMEOUT = 10.0
# Sign-in asks only who you are; linking for acting asks the rights Repobox acts with
# (push, open MRs), and the settings page shows them on the button that asks.
SIGNIN_SCOPES = {Provider.GITHUB: ("read:user",), Provider.GITLAB: ("read_user",)}
SCOPES = {Provider.GITHUB: ("repo", "read:user"), Provider.GITLAB: ("api", "read_user")}


class SignInError(UserError):
    """The host said no, or the answer does not belong to the request we made."""


@dataclass(frozen=True)
class OAuthApp:
    """One configured OAuth application (GITHUB_CLIENT_ID…, GITLAB_CLIENT_ID…)."""

    provider: Provider
    client_id: str
    client_secret: str = field(repr=False)
    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]  # linking for acting
    signin_scopes: tuple[str, ...] = ()  # signing in: identity only

    def scopes_for(self, intent: str) -> tuple[str, ...]:
        return self.scopes if intent == "link" else self.signin_scopes or self.scopes

    @property
    def title(self) -> str:
        return "GitHub" if self.provider is Provider.GITHUB else "GitLab"


def github_web_url(api_url: str) -> str:
    """GitHub's web host for an API URL: api.github.com -> github.com; an Enterprise
    `https://host/api/v3` -> `https://host`; anything else (a fake) is its own host."""
    parts = urlsplit(api_url)
    host = parts.netloc
    if host == "api.github.com":
        host = "github.com"
    elif host.startswith("api."):  # GHE.com data residency: api.<tenant>.ghe.com
        host = host.removeprefix("api.")
    return f"{parts.scheme}://{host}"


def oauth_apps(settings: Settings) -> dict[Provider, OAuthApp]:
    """The OAuth applications Repobox is configured with (none is fine)."""
    apps: dict[Provider, OAuthApp] = {}
    if settings.github_client_id and settings.github_client_secret:
        web = github_web_url(settings.github_api_url)
        apps[Provider.GITHUB] = OAuthApp(
            Provider.GITHUB,
            settings.github_client_id,
            settings.github_client_secret,
            f"{web}/login/oauth/authorize",
            f"{web}/login/oauth/access_token",
            SCOPES[Provider.GITHUB],
            SIGNIN_SCOPES[Provider.GITHUB],
        )
    if settings.gitlab_url and settings.gitlab_client_id and settings.gitlab_client_secret:
        apps[Provider.GITLAB] = OAuthApp(
            Provider.GITLAB,
            settings.gitlab_client_id,
            settings.gitlab_client_secret,
            f"{settings.gitlab_url}/oauth/authorize",
            f"{settings.gitlab_url}/oauth/token",
            SCOPES[Provider.GITLAB],
            SIGNIN_SCOPES[Provider.GITLAB],
        )
    return apps


@dataclass(frozen=True)
class PendingAuthorization:
    """What to remember between the redirect to the host and its callback."""

    provider: Provider
    state: Text
    code_verifier: Text = field(repr=False)
    redirect_uri: Text
    intent: Text  # "signin" or "link"

    def to_dict(self) -> JsonObject:
        return dump(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> PendingAuthorization:
        return load(cls, data)


@dataclass(frozen=True)
class GrantedToken:
    token: str = field(repr=False)
    scopes: tuple[str, ...]


def _client(app: OAuthApp, redirect_uri: str, intent: str = "link") -> OAuth2Session:
    return OAuth2Session(
        client_id=app.client_id,
        client_secret=app.client_secret,
        scope=" ".join(app.scopes_for(intent)),
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_post",  # noqa: S106 (a method name)
    )


def begin(app: OAuthApp, redirect_uri: str, intent: str) -> tuple[str, PendingAuthorization]:
    """The host's authorize URL (to redirect to) and what to keep until the callback."""
    verifier = secrets.token_urlsafe(64)
    with _client(app, redirect_uri, intent) as client:
        url, state = client.create_authorization_url(
            app.authorize_url, state=secrets.token_urlsafe(24), code_verifier=verifier
        )
    return str(url), PendingAuthorization(app.provider, str(state), verifier, redirect_uri, intent)


def exchange_code(
    client: OAuth2Session,
    title: str,
    token_url: str,
    expected_state: str,
    code_verifier: str,
    query: Mapping[str, str],
) -> dict[str, object]:
    """The host's token answer for a callback's code, once the callback is this browser's
    own (its `state`) and carries a code; a `SignInError` in words otherwise. OAuth and
    OpenID Connect sign-ins both end here."""
    if not hmac.compare_digest(query.get("state", ""), expected_state):
        raise SignInError(
            "That sign-in link does not match this browser's request.", hint="Try again."
        )
    if "error" in query:
        said = query.get("error_description") or query["error"]
        raise SignInError(f"{title} said no: {said[:200]}.")
    code = query.get("code")
    if not code:
        raise SignInError(f"{title} sent no authorization code.", hint="Try again.")
    try:
        with client:
            token = client.fetch_token(
                token_url,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
                timeout=TIMEOUT,
            )
    except OAuthError as error:
        raise SignInError(
            f"{title} refused the sign-in ({error.error}).", hint="Try again."
        ) from None
    except OSError as error:  # requests' connection errors are OSErrors
        raise UpstreamError(f"{title} could not be reached: {type(error).__name__}") from None
    return dict(token)


def finish(app: OAuthApp, pending: PendingAuthorization, query: Mapping[str, str]) -> GrantedToken:
    """Check the callback against `pending` and exchange its code for a token."""
    token = exchange_code(
        _client(app, pending.redirect_uri),
        app.title,
        app.token_url,
        pending.state,
        pending.code_verifier,
        query,
    )
    access = token.get("access_token")
    if not access:
        raise SignInError(f"{app.title} answered without a token.", hint="Try again.")
    raw = token.get("scope") or ""
    scopes = tuple(s for s in str(raw).replace(",", " ").split() if s)
    return GrantedToken(str(access), scopes)
