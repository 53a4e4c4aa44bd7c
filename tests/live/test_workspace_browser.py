"""The session workspace driven from the dashboard in headless Chromium: start a session,
send a prompt from the composer while a run goes, watch the steps stream, read the diff
and the checks, ship, undo; axe-core on the page in light and dark.

A real web app, a real `python app.py worker` with the scripted agent, a repository on the
fake GitHub with a `.repobox.yml`; nothing of Repobox's is patched.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from bot.security.links import session_link
from tests.conftest import MakeRepo, WorkerProcess
from tests.live.test_live_page_browser import browser, page  # noqa: F401 (fixtures)
from tests.live.workspace_support import Site, axe_violations, both_schemes, sign_in, site

__all__ = ["site"]  # a fixture

pytestmark = pytest.mark.browser

CHECKS = (
    "checks:\n"
    "  - name: notes\n"
    "    run: test -s notes.txt\n"
    "    required: true\n"
    "  - name: no-todo\n"
    '    run: "! grep -rn TODO --include=*.py ."\n'
    "    required: false\n"
)


def test_a_session_from_start_to_ship_and_undo_in_one_workspace(
    page: Page,  # noqa: F811
    site: Site,
    make_repo: MakeRepo,
    tmp_path: Path,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    origin = make_repo(name="widgets", files={"README.md": "# Widgets\n", ".repobox.yml": CHECKS})
    site.github.add_repo("octocat/widgets", origin.as_uri(), permissions={"octocat": "write"})
    start_worker(**site.worker_env())
    go = tmp_path / "go"
    sign_in(page, site)
    page.get_by_label("Repository").fill("octocat/widgets")
    page.get_by_label("First prompt").fill(
        f"print 3\nwrite notes.txt: from the dashboard\nawait {go}"
    )
    page.get_by_role("button", name="Start session").click()

    # Live steps while the first run goes; the composer says a new prompt waits its turn.
    expect(page.locator(".ev.k-output").nth(2)).to_be_visible(timeout=60_000)
    expect(page.locator("#state")).to_have_text("running", timeout=60_000)
    toolbar = page.get_by_role("toolbar", name="Session actions")
    expect(toolbar.get_by_role("button", name="Cancel")).to_be_visible()
    expect(page.locator("#queue-note")).to_contain_text("waits its turn")
    composer = page.get_by_label("Prompt", exact=True)
    composer.fill("write src/widgets/shapes.py: TODO = 'circles'")
    composer.press("Shift+Enter")
    composer.type("write src/widgets/__init__.py: from .shapes import TODO")
    assert composer.input_value().count("\n") == 1  # Shift+Enter added a line, sent nothing
    page.evaluate("() => { window.sameDocument = true; }")
    both_schemes(page, "session-running")
    composer.press("Enter")
    expect(page.locator("#notice")).to_contain_text("Prompt 2 queued")
    expect(composer).to_have_value("")
    go.write_text("go")

    # Both runs end: the diff panel lists every file with a tree; the checks panel has both.
    expect(page.locator("#state")).to_have_text("ready", timeout=60_000)
    expect(page.locator(".prompt .badge")).to_have_text(["done", "done"], timeout=60_000)
    expect(toolbar.get_by_role("button", name="Cancel")).to_be_hidden()
    files = page.locator("#diff .file summary .path")
    expect(files).to_have_text(
        ["notes.txt", "src/widgets/__init__.py", "src/widgets/shapes.py"], timeout=30_000
    )
    tree = page.get_by_role("navigation", name="Changed files")
    expect(tree.locator(".tree-file .name")).to_have_text(["notes.txt", "__init__.py", "shapes.py"])
    expect(tree.locator(".folder")).to_have_text(["src/widgets/"])
    added = page.locator("#diff .file").nth(0).locator(".d2h-ins .d2h-code-line-ctn")
    expect(added).to_have_text(["from the dashboard"])
    expect(page.locator("#diff .hljs-string").first).to_be_visible()  # highlighted Python
    latest = page.locator(".check-group").first
    expect(latest.locator(".check-name")).to_have_text(["notes", "no-todo"])
    expect(latest.locator(".check").nth(0)).to_have_attribute("data-status", "passed")
    expect(latest.locator(".check").nth(1)).to_have_attribute("data-status", "failed")
    expect(latest.locator(".check").nth(1).locator("pre")).to_contain_text("TODO")
    expect(page.locator("#ship-anyway")).to_be_hidden()  # only an optional check fails
    expect(page.locator("#mr")).to_contain_text("not pushed")
    both_schemes(page, "session")
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
        violations = axe_violations(page)
        assert violations == [], (scheme, violations)
    page.emulate_media(color_scheme="light")

    # The keyboard: Tab reaches the toolbar, the arrow keys move along it.
    page.locator("body").focus()
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.trim()") == "Ship":
            break
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Ship"
    page.keyboard.press("ArrowRight")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Undo"
    page.keyboard.press("ArrowLeft")

    # Ship: the answer inline, the pull request's link from the stream, no reload.
    toolbar.get_by_role("button", name="Ship", exact=True).click()
    expect(page.locator("#notice")).to_contain_text("Shipping")
    pr_link = page.locator("#mr a")
    expect(pr_link).to_be_visible(timeout=60_000)
    [pull] = site.github.pulls("octocat/widgets")
    expect(pr_link).to_have_text(f"Pull request #{pull.number}")
    expect(page.locator("#mr .chip")).to_have_text("open")
    expect(page.locator("#state")).to_have_text("pushed")
    both_schemes(page, "shipped")

    # Undo takes back the last run: its files leave the diff.
    toolbar.get_by_role("button", name="Undo").click()
    expect(page.locator("#notice")).to_contain_text("Undo queued")
    expect(files).to_have_text(["notes.txt"], timeout=60_000)
    assert page.evaluate("() => window.sameDocument") is True  # never reloaded


def test_ship_anyway_appears_when_a_required_check_fails_and_links_stay_read_only(
    page: Page,  # noqa: F811
    site: Site,
    make_repo: MakeRepo,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    gate = 'checks:\n  - name: no-breakage\n    run: "! test -f broken.txt"\n    required: true\n'
    origin = make_repo(name="gears", files={"README.md": "# Gears\n", ".repobox.yml": gate})
    site.github.add_repo("octocat/gears", origin.as_uri(), permissions={"octocat": "write"})
    start_worker(**site.worker_env())
    sign_in(page, site)
    page.get_by_label("Repository").fill("octocat/gears")
    page.get_by_label("First prompt").fill("write broken.txt: oops")
    page.get_by_role("button", name="Start session").click()

    check = page.locator(".check-group").first.locator(".check")
    expect(check).to_have_attribute("data-status", "failed", timeout=60_000)
    expect(check.locator(".chip").first).to_have_text("failed")
    expect(page.locator("#checks-summary")).to_have_text("1 failing on the latest prompt")
    toolbar = page.get_by_role("toolbar", name="Session actions")
    anyway = toolbar.get_by_role("button", name="Ship anyway")
    expect(anyway).to_be_visible()
    both_schemes(page, "checks-failed")
    anyway.click()
    expect(page.locator("#notice")).to_contain_text("Shipping")
    expect(page.locator("#mr a")).to_have_text("Pull request #1", timeout=60_000)

    # The link a surface posts shows the same workspace to anyone holding it, read-only.
    session_id = page.url.rstrip("/").rsplit("/", 1)[1]
    page.goto(session_link(site.settings, session_id))
    expect(page.locator("#mr a")).to_have_text("Pull request #1")
    expect(page.locator(".check-group .check")).to_have_attribute("data-status", "failed")
    expect(page.locator("#diff .file summary .path")).to_have_text(["broken.txt"])
    assert page.get_by_role("toolbar").count() == 0
    assert page.locator("#composer, .column .pick").count() == 0
    expect(page.locator(".readonly-note")).to_have_text("Read-only view")
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
        violations = axe_violations(page)
        assert violations == [], (scheme, violations)
    page.emulate_media(color_scheme="light")
    both_schemes(page, "session-readonly")
