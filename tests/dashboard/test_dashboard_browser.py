"""The dashboard in headless Chromium (Debian's package, driven by Playwright).

The real web app (`build_app`) on a real port, the fake GitHub (OAuth and API) and GitLab,
and for the full flow a real `python app.py worker`. Every page is judged in light and dark
by `look` (tests/dashboard/browser_support.py): axe-core finds no serious or critical
violation, the CSP reports nothing, and the screenshot is taken (docs/screenshots/ with
REPOBOX_SCREENSHOTS=1).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from bot.sessions.merge_request import MergeRequestRef
from bot.sessions.session import Person, Session, SessionState, Thread
from bot.sessions.session_store import SessionStore
from tests.conftest import MakeRepo, WorkerProcess
from tests.dashboard.browser_support import (  # noqa: F401 (fixtures)
    BOT_TOKEN,
    GL_PAT,
    Site,
    link_github_for_acting,
    look,
    sign_in_with_github,
    site,
    tab,
)
from tests.live.test_live_page_browser import browser  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser
EXAMPLES = (  # (title, repository, state, surface, minutes ago, merge request)
    ("Add rate limiting to the public API", "acme/api", "running", "slack", 2, None),
    (
        "Fix flaky checkout test",
        "acme/web",
        "pushed",
        "github",
        14,
        "https://github.com/acme/web/pull/482",
    ),
    ("Bump pydantic to 2.12", "platform/infra", "ready", "gitlab", 55, None),
    ("Explain the retry policy in the README", "acme/api", "pushed", "web", 180, None),
    ("Migrate settings page to the new layout", "acme/web", "failed", "cli", 60 * 26, None),
    ("Cache mirrors between runs", "platform/infra", "initializing", "web", 0, None),
)


def seed(where: Site, person: Person, examples: tuple[tuple, ...] = EXAMPLES) -> None:  # type: ignore[type-arg]
    """Sessions as each surface would have stored them, written with the real store."""
    store, now = SessionStore(where.redis), time.time()
    for n, (title, repo, state, surface, minutes, mr) in enumerate(examples):
        at = now - minutes * 60
        store.create(
            Session(
                id=f"{n:02d}{'c0ffee'[:6]}",
                repo=repo,
                provider="github",
                project=repo,
                base_branch=None,
                work_branch=f"repobox/{n}",
                thread=Thread(surface, f"seed-{n}"),
                created_by=person,
                state=SessionState(state),
                title=title,
                merge_request=MergeRequestRef(mr, int(mr.rsplit("/", 1)[1])) if mr else None,
                created_at=at,
                updated_at=at,
            )
        )


def test_the_public_pages_and_an_empty_dashboard_with_the_setup_checklist(
    tab: Page,  # noqa: F811
    site: Site,  # noqa: F811
) -> None:
    tab.goto(f"{site.url}/")
    expect(tab.get_by_role("heading", name="What to configure next")).to_be_visible()
    look(tab, site, "home")
    tab.get_by_role("link", name="Sign in").first.click()
    expect(tab.get_by_role("button", name="Sign in with GitHub")).to_be_visible()
    look(tab, site, "signin")

    tab.get_by_role("button", name="Sign in with GitHub").click()
    expect(tab.get_by_role("status")).to_contain_text("Signed in with GitHub as octocat")
    setup = tab.locator("#setup")
    expect(setup.get_by_role("heading", name="Finish setting up Repobox")).to_be_visible()
    expect(setup).to_contain_text("Slack")  # not configured here: a step to take
    expect(setup).to_contain_text("SLACK_BOT_TOKEN")
    expect(tab.get_by_text("No sessions yet")).to_be_visible()
    look(tab, site, "dashboard-empty")

    gitlab = setup.locator("li", has_text="GITLAB_TOKEN")  # GitLab has a URL but no token
    expect(gitlab).to_have_count(1)
    gitlab.get_by_role("button", name="Dismiss").click()
    expect(tab.locator("#setup li", has_text="GITLAB_TOKEN")).to_have_count(0)
    tab.get_by_role("button", name="Show 1 dismissed").click()
    expect(tab.locator("#setup li", has_text="GITLAB_TOKEN")).to_have_count(1)


def test_the_list_filters_and_pages_without_a_reload(
    tab: Page,  # noqa: F811
    site: Site,  # noqa: F811
) -> None:
    octocat = site.octocat()
    many = tuple((f"Session {n}", f"acme/repo{n % 3}", "ready", "web", n, None) for n in range(30))
    seed(site, octocat, many)
    sign_in_with_github(tab, site)
    tab.evaluate("window.stayed = true")  # gone if the page reloads
    rows = tab.locator("table.sessions tbody tr")
    expect(rows).to_have_count(25)
    expect(rows.first).to_contain_text("Session 0")
    tab.get_by_role("link", name="Older").click()
    expect(rows).to_have_count(5)
    expect(rows.first).to_contain_text("Session 25")
    assert "after=" in tab.url  # the page's cursor
    tab.get_by_label("Repositories").select_option("acme/repo1")
    expect(rows).to_have_count(10)
    assert "acme%2Frepo1" in tab.url and "after" not in tab.url  # filters start at the top
    tab.get_by_label("State").select_option("failed")
    expect(tab.get_by_text("No sessions match these filters.")).to_be_visible()
    assert tab.evaluate("window.stayed") is True
    tab.get_by_role("link", name="Show all open sessions").click()
    expect(rows).to_have_count(25)


def test_a_refused_start_keeps_what_was_typed_and_says_why_in_words(
    tab: Page,  # noqa: F811
    site: Site,  # noqa: F811
    tmp_path: Path,
) -> None:
    sign_in_with_github(tab, site)
    repo = tab.get_by_label("Repository")
    assert "path" in (repo.get_attribute("placeholder") or "")  # an admin, with local roots
    repo.fill("/etc")
    tab.get_by_label("Base branch").fill("main")
    tab.get_by_label("First prompt").fill("keep this prompt\nacross the refusal")
    tab.get_by_role("button", name="Start session").click()
    refusal = tab.get_by_role("alert")
    expect(refusal).to_contain_text("Local paths are for the terminal")
    expect(refusal.locator("code").first).to_have_text("group/project")  # not `backticks`
    assert "`" not in refusal.inner_text()
    expect(repo).to_have_value("/etc")
    expect(tab.get_by_label("Base branch")).to_have_value("main")
    expect(tab.get_by_label("First prompt")).to_have_value("keep this prompt\nacross the refusal")
    look(tab, site, "dashboard-refused")


def test_a_list_of_sessions_from_every_surface(
    tab: Page,  # noqa: F811
    site: Site,  # noqa: F811
) -> None:
    seed(site, site.octocat())
    sign_in_with_github(tab, site)
    rows = tab.locator("table.sessions tbody tr")
    expect(rows).to_have_count(len(EXAMPLES))
    shipped = rows.filter(has_text="Fix flaky checkout test")
    expect(shipped.get_by_role("link", name="#482")).to_have_attribute(
        "href", "https://github.com/acme/web/pull/482"
    )
    expect(rows.filter(has_text="Explain the retry policy")).to_contain_text("pushed, no MR yet")
    for label in ("Slack", "GitHub", "GitLab", "Web", "Terminal"):
        expect(tab.locator("td.s-surface", has_text=label).first).to_be_visible()
    chip = shipped.locator(".chip")
    box = chip.bounding_box()
    assert box is not None and box["height"] < 30  # "pushed" on one line, never "push/ed"
    look(tab, site, "dashboard")


def test_settings_health_and_a_missing_page(
    tab: Page,  # noqa: F811
    site: Site,  # noqa: F811
) -> None:
    sign_in_with_github(tab, site)
    tab.get_by_role("link", name="Settings").click()
    tab.get_by_label("Host").select_option("gitlab")
    tab.get_by_label("Personal access token").fill(GL_PAT)
    tab.get_by_role("button", name="Save token").click()
    expect(tab.get_by_role("status")).to_contain_text("Linked gitlab as bob (glpat-****4321)")
    assert GL_PAT not in tab.content()
    look(tab, site, "settings")

    tab.get_by_role("link", name="Health").click()
    expect(tab.get_by_role("heading", name="Health")).to_be_visible()
    for name in ("Secret key", "Slack", "GitHub", "Redis", "Disk"):
        expect(tab.get_by_role("cell", name=name, exact=True)).to_be_visible()
    look(tab, site, "health")

    tab.goto(f"{site.url}/dashboard/sessions/nosuch")
    expect(tab.get_by_role("heading", name="Not found")).to_be_visible()
    expect(tab.get_by_text("There is no such session of yours.")).to_be_visible()
    look(tab, site, "not-found")


def test_keyboard_alone_starts_from_the_skip_link_and_reaches_the_form(
    tab: Page,  # noqa: F811
    site: Site,  # noqa: F811
) -> None:
    sign_in_with_github(tab, site)
    # The setup checklist fills in after the page (htmx) and adds tab stops before the form:
    # tab once it is there, as a person does who reads the page first.
    expect(tab.locator("#setup.loading")).to_have_count(0)
    tab.keyboard.press("Tab")
    expect(tab.get_by_role("link", name="Skip to content")).to_be_focused()
    tab.keyboard.press("Enter")
    for _ in range(12):
        tab.keyboard.press("Tab")
        if tab.evaluate("document.activeElement.id") == "repo":
            break
    repo = tab.get_by_label("Repository")
    expect(repo).to_be_focused()
    assert repo.evaluate("e => getComputedStyle(e).outlineStyle") == "solid"  # focus is visible


def test_sign_in_start_a_session_watch_it_stream_and_ship_it(
    tab: Page,  # noqa: F811
    site: Site,  # noqa: F811
    make_repo: MakeRepo,
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
    sign_in_with_github(tab, site)
    link_github_for_acting(tab, site)
    tab.get_by_label("Repository").fill("octocat/widgets")
    tab.get_by_label("First prompt").fill("print 3\nwrite notes.txt: from the dashboard")
    tab.get_by_role("button", name="Start session").click()
    expect(tab.locator(".notice")).to_contain_text("Started session")
    expect(tab.locator(".ev.k-output").nth(2)).to_be_visible(timeout=60_000)  # steps stream
    expect(tab.locator("#state")).to_have_text("ready", timeout=60_000)

    tab.get_by_role("button", name="Ship").click()
    expect(tab.locator(".notice")).to_contain_text("Shipping")
    pr_link = tab.locator("#mr a")
    expect(pr_link).to_be_visible(timeout=60_000)
    [pull] = site.github.pulls("octocat/widgets")
    assert pull.user == "octocat"  # opened with the person's token: they are its author
    expect(pr_link).to_have_attribute("href", re.compile(f"/octocat/widgets/pull/{pull.number}$"))

    tab.get_by_role("link", name="Sessions").click()
    row = tab.locator("table.sessions tbody tr")
    expect(row.locator(".chip")).to_have_text(["pushed"])
    expect(row.get_by_role("link", name=f"#{pull.number} on the host")).to_be_visible()
    expect(row.get_by_role("link", name=f"GitHub PR #{pull.number}", exact=True)).to_be_visible()
