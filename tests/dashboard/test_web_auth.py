"""The account sub-app mounted in a test aiohttp app, driven like a browser would drive it:
real cookies, real redirects through the fake GitHub and GitLab OAuth servers."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from redis import Redis

from bot.core.config import Settings
from bot.core.redisio import run_async
from bot.identity.accounts import accounts_on
from bot.identity.people import Provider
from bot.identity.signin_links import connect_link
from handlers.cli.login import operator_link
from handlers.dashboard.auth.cookies import COOKIE
from tests.accounts_support import SyncAccounts
from tests.conftest import ROOT, env_for
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import FakeGitLab
from tests.live_server import LiveServer
from tests.ports import free_port

PAT = "glpat-pastedpastedpasted1234"


@dataclass
class Site:
    url: str
    settings: Settings
    redis: Redis
    github: FakeGitHub
    gitlab: FakeGitLab

    def browser(self) -> requests.Session:
        return requests.Session()

    def accounts(self) -> SyncAccounts:
        return SyncAccounts(self.settings, self.redis)

    def connect_link(self, team: str, user: str, name: str) -> str:
        """What `/repobox connect` answers, asked off the loop."""
        settings = self.settings
        return run_async(
            self.redis, lambda aredis: connect_link(accounts_on(settings, aredis), team, user, name)
        )


@pytest.fixture
def site(settings: Settings, redis: Redis) -> Iterator[Site]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with FakeGitHub() as github, FakeGitLab() as gitlab:
        github.oauth.add_client("gh-client", "gh-secret", f"{url}/account/callback/github")
        gitlab.oauth.add_client("gl-client", "gl-secret", f"{url}/account/callback/gitlab")
        github.add_user("octocat")
        github.oauth.signed_in = "octocat"
        gitlab.add_user("alice", "Alice Liddell")
        gitlab.oauth.signed_in = "alice"
        gitlab.add_user("bob", token=PAT)
        gitlab.token_scopes[PAT] = ["api", "write_repository"]
        configured = settings.with_changes(
            public_url=url,
            github_api_url=github.url,
            github_client_id="gh-client",
            github_client_secret="gh-secret",
            gitlab_url=gitlab.url,
            gitlab_client_id="gl-client",
            gitlab_client_secret="gl-secret",
            admins=frozenset({"github:octocat"}),
        )

        server = LiveServer(configured, redis, port=port).start()
        try:
            yield Site(url, configured, redis, github, gitlab)
        finally:
            server.stop()


def csrf_of(page: requests.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def sign_in_with_github(site: Site, browser: requests.Session) -> requests.Response:
    page = browser.get(f"{site.url}/account/signin")
    assert "Sign in with GitHub" in page.text and "Sign in with GitLab" in page.text
    done = browser.post(f"{site.url}/account/signin/github", data={"csrf": csrf_of(page)})
    assert done.url == f"{site.url}/dashboard/", done.text  # signing in goes to the sessions
    assert "Signed in with GitHub as octocat." in done.text
    return browser.get(f"{site.url}/account/settings")


def test_sign_in_keeps_no_token_and_linking_for_acting_shows_it_masked(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    browser = site.browser()
    page = sign_in_with_github(site, browser)
    assert "Signed in as <strong>octocat</strong> (admin)" in page.text
    [person] = [p for p in site.redis.smembers("repobox:people")]
    assert site.accounts().connections(person.decode()) == []  # identity only: no token kept
    assert "Link GitHub for acting" in page.text and "asks for repo, read:user" in page.text
    page = browser.post(f"{site.url}/account/settings/oauth/github", data={"csrf": csrf_of(page)})
    assert "Linked GitHub as octocat." in page.text
    [token] = [t for t, login in site.github._tokens.items() if login == "octocat"][-1:]
    assert token.startswith("gho_") and token not in page.text
    assert f"gho_****{token[-4:]}" in page.text
    assert "repo, read:user" in page.text
    cookie = browser.cookies.get(COOKIE)
    assert cookie and token not in cookie and "octocat" not in cookie
    again = browser.get(f"{site.url}/dashboard/")
    assert "Signed in with GitHub as octocat." not in again.text  # a notice shows once
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert token not in everything and "gh-secret" not in everything
    credential = site.accounts().credential(person.decode(), Provider.GITHUB)
    assert credential is not None and credential.token == token


def test_every_post_without_the_sessions_csrf_token_is_refused(site: Site) -> None:
    browser = site.browser()
    page = sign_in_with_github(site, browser)
    page = browser.post(f"{site.url}/account/settings/oauth/github", data={"csrf": csrf_of(page)})
    csrf = csrf_of(page)
    unlink = f"{site.url}/account/settings/unlink/github"
    stranger = site.browser()
    stranger_csrf = csrf_of(stranger.get(f"{site.url}/account/signin"))
    for data, headers in (
        ({}, {}),
        ({"csrf": "guessed"}, {}),
        ({"csrf": stranger_csrf}, {}),
        ({"csrf": csrf}, {"Origin": "https://evil.example"}),
    ):
        refused = browser.post(unlink, data=data, headers=headers, allow_redirects=False)
        assert refused.status_code == 403
        assert "did not come from Repobox" in refused.text
    assert "gho_****" in browser.get(f"{site.url}/account/settings").text  # still linked
    done = browser.post(unlink, data={"csrf": csrf}, headers={"Origin": site.url})
    assert "Unlinked github." in done.text and "gho_****" not in done.text


def test_paste_test_and_unlink_a_gitlab_token(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    browser = site.browser()
    page = sign_in_with_github(site, browser)
    csrf = csrf_of(page)
    bad = browser.post(
        f"{site.url}/account/settings/token",
        data={"csrf": csrf, "provider": "gitlab", "token": "glpat-wrongwrongwrong0000"},
    )
    assert "GitLab does not accept this token" in bad.text and "wrongwrong" not in bad.text
    done = browser.post(
        f"{site.url}/account/settings/token",
        data={"csrf": csrf, "provider": "gitlab", "token": PAT},
    )
    assert "Linked gitlab as bob (glpat-****1234)." in done.text
    assert "<code>glpat-****1234</code>" in done.text and "api, write_repository" in done.text
    assert PAT not in done.text
    tested = browser.post(f"{site.url}/account/settings/test/gitlab", data={"csrf": csrf})
    assert "gitlab accepts the token: bob, scopes api, write_repository." in tested.text
    site.gitlab.tokens.pop(PAT)  # revoked on the host
    failed = browser.post(f"{site.url}/account/settings/test/gitlab", data={"csrf": csrf})
    assert "Test failed: GitLab does not accept this token" in failed.text
    gone = browser.post(f"{site.url}/account/settings/unlink/gitlab", data={"csrf": csrf})
    assert "Unlinked gitlab." in gone.text and "glpat-****" not in gone.text
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "linked gitlab account bob by token" in logged
    assert PAT not in logged and "wrongwrong" not in logged


def test_link_gitlab_by_oauth_after_signing_in_with_github(site: Site) -> None:
    browser = site.browser()
    csrf = csrf_of(sign_in_with_github(site, browser))
    done = browser.post(f"{site.url}/account/settings/oauth/gitlab", data={"csrf": csrf})
    assert "Linked GitLab as alice." in done.text
    assert "Signed in as <strong>octocat</strong>" in done.text
    assert "gitlab: alice" in done.text and "github: octocat" in done.text


def test_a_one_time_link_signs_the_operator_in_once(site: Site) -> None:
    link = operator_link(site.settings, site.redis)
    assert link.startswith(f"{site.url}/account/link/")
    browser = site.browser()
    first = browser.get(link)
    assert first.url == f"{site.url}/dashboard/"  # the sessions, not the settings
    assert "Signed in." in first.text and "Operator · admin" in first.text
    settings_page = browser.get(f"{site.url}/account/settings")
    assert "Signed in as <strong>Operator</strong> (admin)" in settings_page.text
    second = site.browser().get(link)
    assert second.url == f"{site.url}/account/signin"
    assert "used already or has expired" in second.text


def test_a_tampered_or_foreign_cookie_is_an_anonymous_session(site: Site) -> None:
    browser = site.browser()
    sign_in_with_github(site, browser)
    cookie = browser.cookies[COOKIE]
    flipped = cookie[:-3] + ("AAA" if not cookie.endswith("AAA") else "BBB")
    tampered = requests.get(
        f"{site.url}/account/settings",
        cookies={COOKIE: flipped},
        allow_redirects=False,
        timeout=10,
    )
    assert tampered.status_code == 303 and tampered.headers["Location"] == "/account/signin"
    assert (
        "Operator" not in requests.get(f"{site.url}/", cookies={COOKIE: flipped}, timeout=10).text
    )
    signed_out = browser.post(
        f"{site.url}/account/signout",
        data={"csrf": csrf_of(browser.get(f"{site.url}/account/settings"))},
    )
    assert signed_out.url == f"{site.url}/account/signin"
    replay = requests.get(  # the cookie from before signing out, kept by someone
        f"{site.url}/account/settings", cookies={COOKIE: cookie}, allow_redirects=False, timeout=10
    )
    assert replay.status_code == 303 and replay.headers["Location"] == "/account/signin"
    sign_in_with_github(site, browser)  # a new sign-in works again


def test_a_callback_without_our_request_or_a_refusal_goes_back_with_a_message(
    site: Site,
) -> None:
    browser = site.browser()
    stray = browser.get(f"{site.url}/account/callback/github?code=abc&state=xyz")
    assert stray.url == f"{site.url}/account/signin"
    assert "That sign-in has expired" in stray.text
    site.github.oauth.signed_in = None
    page = browser.get(f"{site.url}/account/signin")
    refused = browser.post(f"{site.url}/account/signin/github", data={"csrf": csrf_of(page)})
    assert "GitHub said no: The user denied access." in refused.text
    assert browser.get(f"{site.url}/account/signin/nowhere").status_code in (404, 405)


def test_python_app_py_login_prints_a_working_one_time_link(site: Site) -> None:
    env = env_for(
        site.settings,
        REPOBOX_PUBLIC_URL=site.url,
        REPOBOX_SECRET_KEY=site.settings.secret_key or "",
    )
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "login"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "it works once, for 10 minutes" in done.stdout
    link = done.stdout.strip().splitlines()[-1]
    page = site.browser().get(f"{link}?next=/account/settings")
    assert "Signed in as <strong>Operator</strong> (admin)" in page.text


def test_a_slack_connect_link_signs_that_slack_user_in(site: Site) -> None:
    link = site.connect_link("T1", "U42", "Dana")
    browser = site.browser()
    page = browser.get(link)  # a link to link accounts: it opens Settings
    assert page.url == f"{site.url}/account/settings"
    assert "Signed in as <strong>Dana</strong>." in page.text
    assert "slack: T1/U42" in page.text
    again = site.connect_link("T1", "U42", "Dana")
    assert again != link  # a fresh one-time link, the same person
    sessions = site.browser().get(f"{again}?next=/dashboard/")
    assert sessions.url == f"{site.url}/dashboard/" and "Dana" in sessions.text
    assert site.redis.scard("repobox:people") == 1
