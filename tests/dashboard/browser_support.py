"""What the dashboard's browser tests share: the site (the real web app on a real port, with
the fake GitHub and GitLab), signing in, the accessibility check and the screenshots.

`look(tab, name)` is the one place a page is judged: in light and in dark it runs axe-core
(tests/vendor/axe.min.js) and fails on any serious or critical violation, fails on any
Content-Security-Policy report (an inline style or script slipped in), and takes the
screenshot. With REPOBOX_SCREENSHOTS=1 the screenshots go to docs/screenshots/ as
`NAME-light.png` and `NAME-dark.png`; otherwise to a temporary folder, so a normal test run
leaves the checkout as it was.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect
from redis import Redis

from bot.core.config import Settings
from bot.identity.people import Identity, Provider
from bot.sessions.session import Person
from tests.accounts_support import SyncAccounts
from tests.conftest import ROOT
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import FakeGitLab
from tests.live_server import LiveServer
from tests.ports import free_port

SHOTS = ROOT / "docs" / "screenshots"
AXE = (ROOT / "tests" / "vendor" / "axe.min.js").read_text()
GL_PAT = "glpat-browserbrowser4321"
BOT_TOKEN = "ghp_test"  # the fake's bot token
SCHEMES = ("light", "dark")
RUN_AXE = """async () => {
  const found = await axe.run(document, {resultTypes: ["violations"]});
  return found.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 4).map(n => n.target.join(" ") + ": " + n.failureSummary),
    }));
}"""


@dataclass
class Site:
    url: str
    settings: Settings
    redis: Redis
    github: FakeGitHub
    gitlab: FakeGitLab
    csp_reports: list[str] = field(default_factory=list)

    def octocat(self) -> Person:
        """How sessions name the person who signs in with GitHub as octocat."""
        accounts = SyncAccounts(self.settings, self.redis)
        person = accounts.person_for(Identity.forge(Provider.GITHUB, "octocat"), "octocat")
        return Person(f"web:{person.id}", person.display_name)


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
            yield Site(url, configured, redis, github, gitlab)
        finally:
            server.stop()


@pytest.fixture
def tab(browser: Browser, site: Site) -> Iterator[Page]:
    """A page with axe-core loaded on every document: as an init script, which the pages'
    CSP does not apply to (an injected <script> tag would be refused, as it should be)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(script=AXE)
    opened = context.new_page()
    opened.set_default_timeout(15_000)

    def csp(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            site.csp_reports.append(message.text)

    opened.on("console", csp)
    yield opened
    context.close()


def look(tab: Page, site: Site, name: str) -> None:
    """Judge the page in light and dark: axe-core, the CSP, and the screenshot."""
    for scheme in SCHEMES:
        tab.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
        tab.wait_for_timeout(50)  # one frame for the new colours (no transitions on them)
        violations: list[dict[str, Any]] = tab.evaluate(RUN_AXE)
        assert not violations, f"{name} ({scheme}): " + json.dumps(violations, indent=1)
        folder = SHOTS if os.environ.get("REPOBOX_SCREENSHOTS") == "1" else _scratch()
        folder.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(folder / f"{name}-{scheme}.png"), full_page=True)
    tab.emulate_media(color_scheme="light")
    assert not site.csp_reports, f"{name}: {site.csp_reports}"


def _scratch() -> Path:
    return Path(tempfile.gettempdir()) / f"repobox-screenshots-{os.getpid()}"


def sign_in_with_github(tab: Page, site: Site) -> None:
    tab.goto(f"{site.url}/")
    tab.get_by_role("link", name="Sign in").first.click()
    tab.get_by_role("button", name="Sign in with GitHub").click()
    expect(tab.get_by_role("status")).to_contain_text("Signed in with GitHub as octocat")
    expect(tab.get_by_role("heading", name="Start a session")).to_be_visible()


def link_github_for_acting(tab: Page, site: Site) -> None:
    """Sign-in keeps no token: the write access to act as the person is linked in Settings."""
    tab.goto(f"{site.url}/account/settings")
    tab.get_by_role("button", name="Link GitHub for acting").click()
    expect(tab.get_by_text("Link GitHub for acting")).to_have_count(0)
    tab.goto(f"{site.url}/dashboard/")
