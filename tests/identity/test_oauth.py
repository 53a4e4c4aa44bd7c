"""The OAuth web flow through Authlib against the fake GitHub and GitLab OAuth servers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from bot.core.config import Settings
from bot.identity.oauth import (
    OAuthApp,
    PendingAuthorization,
    SignInError,
    begin,
    finish,
    github_web_url,
    oauth_apps,
)
from bot.identity.people import Provider
from bot.identity.tokens import TokenRefused, inspect
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import FakeGitLab

REDIRECT = "http://repobox.test/account/callback/"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.oauth.add_client("gh-client", "gh-secret", REDIRECT)
        fake.add_user("octocat")
        fake.oauth.signed_in = "octocat"
        yield fake


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    with FakeGitLab() as fake:
        fake.oauth.add_client("gl-client", "gl-secret", REDIRECT)
        fake.add_user("alice", "Alice Liddell")
        fake.oauth.signed_in = "alice"
        yield fake


def configured(settings: Settings, github: FakeGitHub, gitlab: FakeGitLab) -> Settings:
    return settings.with_changes(
        github_api_url=github.url,
        github_client_id="gh-client",
        github_client_secret="gh-secret",
        gitlab_url=gitlab.url,
        gitlab_client_id="gl-client",
        gitlab_client_secret="gl-secret",
    )


def authorize(url: str) -> dict[str, str]:
    """What the browser brings back: follow the host's authorize page to its redirect."""
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_github_web_host_follows_the_api_url() -> None:
    assert github_web_url("https://api.github.com") == "https://github.com"
    assert github_web_url("https://ghe.example.com/api/v3") == "https://ghe.example.com"
    assert github_web_url("http://127.0.0.1:8123") == "http://127.0.0.1:8123"


def test_only_configured_apps_are_offered(settings: Settings) -> None:
    assert oauth_apps(settings) == {}
    apps = oauth_apps(settings.with_changes(github_client_id="id", github_client_secret="secret"))
    assert list(apps) == [Provider.GITHUB]
    assert apps[Provider.GITHUB].authorize_url == "https://github.com/login/oauth/authorize"
    assert "secret" not in repr(apps[Provider.GITHUB])


@pytest.mark.parametrize("provider", [Provider.GITHUB, Provider.GITLAB])
def test_sign_in_round_trip_with_state_and_pkce(
    settings: Settings, github: FakeGitHub, gitlab: FakeGitLab, provider: Provider
) -> None:
    settings = configured(settings, github, gitlab)
    app = oauth_apps(settings)[provider]
    url, pending = begin(app, REDIRECT + provider.value, "signin")
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and query["state"] == [pending.state]
    assert pending.code_verifier not in url and "secret" not in url
    granted = finish(app, pending, authorize(url))
    info = inspect(settings, provider, granted.token)
    expected = {Provider.GITHUB: "octocat", Provider.GITLAB: "alice"}[provider]
    assert info.login == expected
    assert query["scope"] == [" ".join(app.signin_scopes)]  # who you are, and no more
    assert set(granted.scopes) == set(app.signin_scopes)
    assert info.scopes is not None and set(info.scopes) == set(app.signin_scopes)
    assert info.rate_limit_remaining is None or info.rate_limit_remaining > 0
    fake = github if provider is Provider.GITHUB else gitlab
    [exchange] = fake.calls_to(app.token_url.removeprefix(fake.url))
    assert exchange.form["code_verifier"] == pending.code_verifier
    assert exchange.form["client_secret"] == app.client_secret


def test_a_wrong_verifier_a_reused_code_and_a_wrong_secret_are_refused(
    settings: Settings, github: FakeGitHub, gitlab: FakeGitLab
) -> None:
    settings = configured(settings, github, gitlab)
    app = oauth_apps(settings)[Provider.GITLAB]
    url, pending = begin(app, REDIRECT, "link")
    back = authorize(url)
    stolen = replace(pending, code_verifier="x" * 64)
    with pytest.raises(SignInError, match="refused the sign-in"):
        finish(app, stolen, back)
    with pytest.raises(SignInError, match="refused"):  # the code went with the first try
        finish(app, pending, back)
    url, pending = begin(app, REDIRECT, "link")
    wrong = OAuthApp(**{**app.__dict__, "client_secret": "guess"})
    with pytest.raises(SignInError, match="invalid_client"):
        finish(wrong, pending, authorize(url))


def test_github_answers_errors_with_200_and_authlib_still_refuses(
    settings: Settings, github: FakeGitHub, gitlab: FakeGitLab
) -> None:
    app = oauth_apps(configured(settings, github, gitlab))[Provider.GITHUB]
    url, pending = begin(app, REDIRECT, "signin")
    back = authorize(url)
    finish(app, pending, back)
    with pytest.raises(SignInError, match="bad_verification_code"):
        finish(app, pending, back)


def test_a_callback_that_is_not_ours_or_a_refusal_is_said_plainly(
    settings: Settings, github: FakeGitHub, gitlab: FakeGitLab
) -> None:
    app = oauth_apps(configured(settings, github, gitlab))[Provider.GITHUB]
    url, pending = begin(app, REDIRECT, "signin")
    back = authorize(url)
    with pytest.raises(SignInError, match="does not match"):
        finish(app, pending, {**back, "state": "forged"})
    github.oauth.signed_in = None
    url, pending = begin(app, REDIRECT, "signin")
    with pytest.raises(SignInError, match="GitHub said no: The user denied access"):
        finish(app, pending, authorize(url))
    assert PendingAuthorization.from_dict(pending.to_dict()) == pending


def test_pasted_tokens_are_inspected_and_bad_ones_refused(
    settings: Settings, github: FakeGitHub, gitlab: FakeGitLab
) -> None:
    settings = configured(settings, github, gitlab)
    gitlab.add_user("bob", token="glpat-bobbobbobbobbobbob")
    gitlab.token_scopes["glpat-bobbobbobbobbobbob"] = ["read_api", "write_repository"]
    info = inspect(settings, Provider.GITLAB, "glpat-bobbobbobbobbobbob")
    assert (info.login, info.scopes) == ("bob", ("read_api", "write_repository"))
    github.add_user("carol", token="ghp_carolcarolcarolcarolcarol")
    info = inspect(settings, Provider.GITHUB, "ghp_carolcarolcarolcarolcarol")
    assert (info.login, info.scopes, info.rate_limit_remaining) == ("carol", ("repo",), 4999)
    for provider in Provider:
        with pytest.raises(TokenRefused) as refused:
            inspect(settings, provider, "glpat-not-a-known-token")
        assert "not-a-known" not in str(refused.value)


@pytest.mark.parametrize(
    ("provider", "signin", "link"),
    [
        (Provider.GITHUB, "read:user", "repo read:user"),
        (Provider.GITLAB, "read_user", "api read_user"),
    ],
)
def test_sign_in_asks_for_identity_only_and_linking_for_acting_asks_for_write(
    settings: Settings,
    github: FakeGitHub,
    gitlab: FakeGitLab,
    provider: Provider,
    signin: str,
    link: str,
) -> None:
    app = oauth_apps(configured(settings, github, gitlab))[provider]
    signing_in, _ = begin(app, REDIRECT + provider.value, "signin")
    linking, _ = begin(app, REDIRECT + provider.value, "link")
    assert parse_qs(urlsplit(signing_in).query)["scope"] == [signin]
    assert parse_qs(urlsplit(linking).query)["scope"] == [link]
