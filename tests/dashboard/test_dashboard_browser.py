"""The dashboard in headless Chromium (Debian's package, driven by Playwright).

The real web app (`build_app`) on a real port, the fake GitHub (OAuth and API) and GitLab,
and a real `python app.py worker`: sign in with GitHub, start a session on a repository
hosted on the fake GitHub, watch its steps stream, ship it and see the PR link; link a
GitLab token in the settings; the admin health page. The screenshots these tests take
are the README's: with REPOBOX_SCREENSHOTS=1 they are written to docs/screenshots/ (so a
normal test run leaves the checkout as it was); otherwise into the test's temporary folder.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from redis import Redis

from bot.core.config import Settings
from tests.conftest import ROOT, MakeRepo, WorkerProcess
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import FakeGitLab
from tests.live.test_live_page_browser import browser, page  # noqa: F401 (fixtures)
from tests.live_server import LiveServer
from tests.ports import free_port

pytestmark = pytest.mark.browser

SHOTS = ROOT / "docs" / "screenshots"
GL_PAT = "glpat-browserbrowser4321"
BOT_TOKEN = "ghp_test"  # the fake's bot token


@dataclass
class Site:
    url: str
    settings: Settings
    github: FakeGitHub
    gitlab: FakeGitLab


@pytest.fixture
def site(settings: Settings, redis: Redis) -> Iterator[Site]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with FakeGitHub() as github, FakeGitLab() as gitlab:
        github.oauth.add_client("gh-client", "gh-secret", f"{url}/account/callback/github")
        github.add_user("octocat")
        github.oauth.signed_in = "octocat"
        gitlab.add_user("bob", token=GL_PAT)
        gitlab.token_scopes[GL_PAT] = ["api", "write_repository"]
        configured = settings.with_changes(
            public_url=url,
            github_api_url=github.url,
            github_token=BOT_TOKEN,
            github_client_id="gh-client",
            github_client_secret="gh-secret",
            gitlab_url=gitlab.url,
            default_provider="github",
            admins=frozenset({"github:octocat"}),
        )
        server = LiveServer(configured, redis, port=port).start()
        try:
            yield Site(url, configured, github, gitlab)
        finally:
            server.stop()


def shot(tab: Page, name: str) -> None:
    folder = SHOTS if os.environ.get("REPOBOX_SCREENSHOTS") == "1" else _scratch()
    folder.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _scratch() -> Path:
    return Path(tempfile.gettempdir()) / f"repobox-screenshots-{os.getpid()}"


def sign_in_with_github(tab: Page, site: Site) -> None:
    tab.goto(f"{site.url}/")
    expect(tab.get_by_text("What to configure next")).to_be_visible()
    shot(tab, "welcome")
    tab.get_by_role("link", name="Sign in").click()
    tab.get_by_role("button", name="Sign in with GitHub").click()
    expect(tab.get_by_role("status")).to_contain_text("Linked GitHub as octocat")
    tab.get_by_role("link", name="Sessions").click()
    expect(tab.get_by_role("heading", name="Start a session")).to_be_visible()


def test_sign_in_start_a_session_watch_it_stream_and_ship_it(
    page: Page,  # noqa: F811
    site: Site,
    make_repo: MakeRepo,
    tmp_path: Path,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    origin = make_repo(name="widgets", files={"README.md": "# Widgets\n"})
    site.github.add_repo("octocat/widgets", origin.as_uri(), permissions={"octocat": "write"})
    start_worker(
        GITHUB_API_URL=site.github.url,
        GITHUB_TOKEN=BOT_TOKEN,
        REPOBOX_DEFAULT_PROVIDER="github",
        REPOBOX_PUBLIC_URL=site.url,
        REPOBOX_SECRET_KEY=site.settings.secret_key or "",
    )
    sign_in_with_github(page, site)
    page.get_by_label("Repository").fill("octocat/widgets")
    page.get_by_label("First prompt").fill("print 3\nwrite notes.txt: from the dashboard")
    page.get_by_role("button", name="Start session").click()
    expect(page.locator(".notice")).to_contain_text("Started session")
    expect(page.locator(".ev.k-output").nth(2)).to_be_visible(timeout=60_000)  # steps stream
    expect(page.locator("#state")).to_have_text("ready", timeout=60_000)

    page.get_by_role("button", name="Ship").click()
    expect(page.locator(".notice")).to_contain_text("Shipping")
    pr_link = page.locator("#mr a")
    expect(pr_link).to_be_visible(timeout=60_000)
    [pull] = site.github.pulls("octocat/widgets")
    assert pull.user == "octocat"  # opened with the person's token: they are its author
    expect(pr_link).to_have_attribute("href", re.compile(f"/octocat/widgets/pull/{pull.number}$"))

    page.get_by_role("link", name="Sessions").click()
    expect(page.locator("td.state")).to_have_text(["pushed"])
    shot(page, "dashboard")


def test_link_a_gitlab_token_in_settings_and_see_it_masked(
    page: Page,  # noqa: F811
    site: Site,
) -> None:
    sign_in_with_github(page, site)
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Host").select_option("gitlab")
    page.get_by_label("Personal access token").fill(GL_PAT)
    page.get_by_role("button", name="Save token").click()
    expect(page.get_by_role("status")).to_contain_text("Linked gitlab as bob (glpat-****4321)")
    assert GL_PAT not in page.content()
    shot(page, "settings")


def test_the_admin_health_page(page: Page, site: Site) -> None:  # noqa: F811
    sign_in_with_github(page, site)
    page.get_by_role("link", name="Health").click()
    expect(page.get_by_role("heading", name="Health")).to_be_visible()
    for name in ("Secret key", "Slack", "GitHub", "Redis", "Disk"):
        expect(page.get_by_role("cell", name=name, exact=True)).to_be_visible()
    shot(page, "health")
