"""What the workspace's browser tests share: a signed-in site, axe-core, and screenshots.

The real web app (`build_app`) on a real port with the fake GitHub (OAuth and API) and a
real `python app.py worker` running the scripted agent. axe-core is vendored in
`tests/vendor/axe.min.js` (4.14.1, MPL-2.0) and injected into the page by the test only.
Screenshots go to docs/screenshots/ with REPOBOX_SCREENSHOTS=1 (otherwise to a scratch
folder), so a normal run leaves the checkout as it was.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from redis import Redis

from bot.core.config import Settings
from tests.conftest import ROOT
from tests.fakes.github import FakeGitHub
from tests.live_server import LiveServer
from tests.ports import free_port

SHOTS = ROOT / "docs" / "screenshots"
AXE = ROOT / "tests" / "vendor" / "axe.min.js"
BOT_TOKEN = "ghp_test"  # the fake's bot token
SERIOUS = ("serious", "critical")


@dataclass
class Site:
    url: str
    settings: Settings
    github: FakeGitHub

    def worker_env(self) -> dict[str, str]:
        return {
            "GITHUB_API_URL": self.github.url,
            "GITHUB_TOKEN": BOT_TOKEN,
            "REPOBOX_DEFAULT_PROVIDER": "github",
            "REPOBOX_PUBLIC_URL": self.url,
            "REPOBOX_SECRET_KEY": self.settings.secret_key or "",
        }


@pytest.fixture
def site(settings: Settings, redis: Redis) -> Iterator[Site]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with FakeGitHub() as github:
        github.oauth.add_client("gh-client", "gh-secret", f"{url}/account/callback/github")
        github.add_user("octocat")
        github.oauth.signed_in = "octocat"
        configured = settings.with_changes(
            public_url=url,
            github_api_url=github.url,
            github_token=BOT_TOKEN,
            github_client_id="gh-client",
            github_client_secret="gh-secret",
            default_provider="github",
            admins=frozenset({"github:octocat"}),
        )
        server = LiveServer(configured, redis, port=port).start()
        try:
            yield Site(url, configured, github)
        finally:
            server.stop()


def sign_in(tab: Page, site: Site) -> None:
    """GitHub's OAuth (the fake's), then the dashboard."""
    tab.goto(f"{site.url}/account/signin")
    tab.get_by_role("button", name="Sign in with GitHub").click()
    tab.wait_for_url(
        lambda url: (
            url.startswith(site.url) and "/account/signin" not in url and "/callback" not in url
        )
    )
    tab.goto(f"{site.url}/dashboard/")


def axe_violations(tab: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not tab.evaluate("() => typeof window.axe === 'object'"):
        tab.evaluate(AXE.read_text())
    found = tab.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary)}))"
    )
    return [v for v in found if v["impact"] in SERIOUS]


def shot(tab: Page, name: str) -> Path:
    folder = SHOTS if os.environ.get("REPOBOX_SCREENSHOTS") == "1" else _scratch()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    # The whole page in one viewport, so the docked composer sits at the bottom of the
    # picture rather than floating where the first screenful ended.
    size = tab.viewport_size or {"width": 1280, "height": 800}
    for _ in range(3):  # panes sized by the viewport grow with it, up to their maximum
        height = int(tab.evaluate("() => document.documentElement.scrollHeight"))
        tab.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
    tab.screenshot(path=str(path))
    tab.set_viewport_size(size)
    return path


def both_schemes(tab: Page, name: str) -> None:
    """`name.png` in light, `name-dark.png` in dark; the page is left in light."""
    tab.emulate_media(color_scheme="light")
    shot(tab, name)
    tab.emulate_media(color_scheme="dark")
    shot(tab, f"{name}-dark")
    tab.emulate_media(color_scheme="light")


def _scratch() -> Path:
    return Path(tempfile.gettempdir()) / f"repobox-screenshots-{os.getpid()}"
