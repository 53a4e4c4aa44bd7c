"""Sign-in through an OpenID Connect provider (a small fake with a discovery document, a
JWKS and signed ID tokens), in the real app, driven like a browser: a good sign-in lands on
the dashboard as a new person; a bad nonce, a wrong audience, an expired token, a foreign
signature and an address outside the allowed domains are each refused with a reason."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from redis import Redis

from bot.core.config import Settings
from tests.api.support import Api
from tests.fakes.oidc import FakeOidc
from tests.live_server import LiveServer

CLIENT, SECRET = "repobox-client", "oidc-client-secret-value"


@pytest.fixture
def provider() -> Iterator[FakeOidc]:
    with FakeOidc(CLIENT, SECRET) as fake:
        yield fake


@pytest.fixture
def server(settings: Settings, redis: Redis, provider: FakeOidc) -> Iterator[LiveServer]:
    configured = settings.with_changes(
        oidc_issuer=provider.url,
        oidc_client_id=CLIENT,
        oidc_client_secret=SECRET,
        oidc_name="Acme SSO",
        oidc_allowed_domains=frozenset({"example.org"}),
    )
    live = LiveServer(configured, redis).start()
    yield live
    live.stop()


def sign_in(server: LiveServer) -> tuple[requests.Session, requests.Response]:
    """Click "Sign in with Acme SSO", approve at the provider, come back."""
    browser = requests.Session()
    page = browser.get(f"{server.url}/account/signin", timeout=10)
    assert "Sign in with Acme SSO" in page.text
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    out = browser.post(
        f"{server.url}/account/signin/oidc",
        data={"csrf": csrf},
        allow_redirects=False,
        timeout=10,
    )
    assert out.status_code == 303, out.text
    approved = requests.get(out.headers["Location"], allow_redirects=False, timeout=10)
    assert approved.status_code == 302, approved.text
    back = urlsplit(approved.headers["Location"])  # public_url's host: ours, on its port
    assert back.path == "/account/callback/oidc"
    landed = browser.get(f"{server.url}{back.path}?{back.query}", timeout=10)
    return browser, landed


def test_a_person_signs_in_and_links_forges_in_settings(
    server: LiveServer, provider: FakeOidc
) -> None:
    browser, landed = sign_in(server)
    assert landed.url == f"{server.url}/dashboard/", landed.url
    assert "Signed in with Acme SSO as ada@example.org" in landed.text
    settings_page = browser.get(f"{server.url}/account/settings", timeout=10)
    assert "Ada Lovelace" in settings_page.text and "oidc: 00u-ada" in settings_page.text
    assert "Connections" in settings_page.text  # forge accounts are linked here, as today
    authorize = next(c for c in provider.calls if c.path == "/authorize").query
    assert authorize["nonce"] and authorize["code_challenge_method"] == "S256"
    again, _ = sign_in(server)  # the same person the second time
    assert "Ada Lovelace" in again.get(f"{server.url}/account/settings", timeout=10).text


@pytest.mark.parametrize(
    ("tamper", "said"),
    [
        ({"nonce": "someone-elses"}, "nonce"),
        ({"aud": "another-client"}, "aud"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
        ({"iss": "https://evil.example"}, "iss"),
    ],
)
def test_a_bad_id_token_is_refused(
    server: LiveServer, provider: FakeOidc, tamper: dict[str, Any], said: str
) -> None:
    provider.tamper = tamper
    browser, landed = sign_in(server)
    assert landed.url == f"{server.url}/account/signin", landed.url
    assert "ID token was refused" in landed.text and said in landed.text.lower()
    gone = browser.get(f"{server.url}/dashboard/", allow_redirects=False, timeout=10)
    assert gone.status_code == 303  # not signed in


def test_a_token_signed_by_another_key_is_refused(server: LiveServer, provider: FakeOidc) -> None:
    provider.rogue_key = True
    _, landed = sign_in(server)
    assert landed.url == f"{server.url}/account/signin" and "ID token was refused" in landed.text


@pytest.mark.parametrize(
    "user",
    [
        {"email": "eve@elsewhere.net"},
        {"email": "eve@example.org", "email_verified": False},
        {"email": None},
    ],
)
def test_an_address_outside_the_allowed_domains_is_refused(
    server: LiveServer, provider: FakeOidc, user: dict[str, Any]
) -> None:
    provider.user = {**provider.user, **user}
    _, landed = sign_in(server)
    assert landed.url == f"{server.url}/account/signin", landed.url
    assert "Sign-in here is for addresses in example.org" in landed.text


def test_the_oidc_person_can_make_an_api_token(server: LiveServer) -> None:
    browser, _ = sign_in(server)
    page = browser.get(f"{server.url}/account/settings", timeout=10)
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    made = browser.post(
        f"{server.url}/account/settings/api-tokens",
        data={"csrf": csrf, "name": "ci", "days": "7", "scope": ["read", "write"]},
        timeout=10,
    )
    secret = made.text.split('id="new-token" type="text" readonly value="', 1)[1].split('"')[0]
    assert Api(server.url, secret).get("/sessions").json()["items"] == []
