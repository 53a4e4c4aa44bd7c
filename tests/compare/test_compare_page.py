"""The live page of a comparison in headless Chromium: one column per candidate with its
state, figures, verdict and diff; the diff between two candidates; the pick marked.

The comparison runs for real (in-process RQ worker, the built-in agent against the fake
Anthropic API, real git and checks); the page follows it over the real event stream.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from redis import Redis

from bot.commands.executor import Asker, Executor
from bot.commands.grammar import parse
from handlers.cli.login import operator_link
from jobs.steps.context import JobContext
from tests.agent_support import actx, fake  # noqa: F401 - fixtures
from tests.compare.test_compare import ALICE, start
from tests.compare_support import script_candidates
from tests.conftest import MakeRepo, run_jobs
from tests.fakes.anthropic import FakeAnthropic
from tests.live.test_live_page_browser import browser, link, page  # noqa: F401 - fixtures
from tests.live.workspace_support import axe_violations, both_schemes
from tests.live_server import LiveServer
from tests.ports import free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def server(actx: JobContext, redis: Redis) -> Iterator[LiveServer]:  # noqa: F811
    port = free_port()  # the dashboard's CSRF check wants posts from the public URL
    configured = actx.settings.with_changes(public_url=f"http://127.0.0.1:{port}")
    live = LiveServer(configured, redis, port=port).start()
    yield live
    live.stop()


def say(ctx: JobContext, session_id: str, text: str) -> None:
    session = ctx.service.sessions.get(session_id)
    ctx.service.run(
        lambda svc: Executor(svc).execute(parse(text), session, Asker(ALICE, uuid.uuid4().hex))
    )
    run_jobs(ctx)


def test_candidates_in_columns_with_their_diffs_and_the_diff_between_them(
    actx: JobContext,  # noqa: F811
    fake: FakeAnthropic,  # noqa: F811
    make_repo: MakeRepo,
    tmp_path: Path,
    server: LiveServer,
    page: Page,  # noqa: F811
) -> None:
    session = start(actx, make_repo, tmp_path)
    script_candidates(fake)
    say(actx, session.id, "compare sonnet,opus,haiku tidy up calc")

    page.goto(link(actx.settings, server, session.id))
    columns = page.locator("#columns .column")
    expect(columns).to_have_count(3)
    assert columns.locator(".label").all_inner_texts() == ["sonnet", "opus", "haiku"]
    expect(columns.nth(0).locator(".badge")).to_have_text("done")
    # The verdict's emoji is an SVG icon in a coloured chip (no emoji font needed).
    expect(columns.nth(0).locator(".verdict .chip.err")).to_have_text("checks fail")
    expect(columns.nth(2).locator(".verdict .chip.ok")).to_contain_text("checks pass · cheapest")
    expect(columns.nth(0).locator(".verdict use")).to_have_attribute("href", re.compile("#x$"))
    expect(columns.nth(1).locator(".candidate-diff .path")).to_have_text(["NOTES.md", "calc.py"])
    assert "1 file changed" in columns.nth(2).locator(".chips").inner_text()

    expect(page.locator("#between-box")).to_be_visible()
    page.select_option("#between-a", "2")
    page.select_option("#between-b", "3")
    between = page.locator("#between .d2h-ins .d2h-code-line-ctn").all_inner_texts()
    assert any("def twice(a):" in text for text in between)  # in haiku's, not in opus's
    removed = page.locator("#between .d2h-del .d2h-code-line-ctn").all_inner_texts()
    assert any("The sum of a and b" in text for text in removed)

    both_schemes(page, "compare")
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
        violations = axe_violations(page)
        assert violations == [], (scheme, violations)

    assert page.locator(".column .pick").count() == 0  # the signed link is read-only

    # From the dashboard (the operator may act on every session), Pick is a button.
    page.goto(server.url + urlsplit(operator_link(actx.settings, actx.redis)).path)
    page.goto(f"{server.url}/dashboard/sessions/{session.id}")
    expect(columns).to_have_count(3)
    pick = page.get_by_role("button", name="Pick candidate 2, opus")
    expect(pick).to_be_enabled()
    pick.click()
    expect(page.locator("#notice")).to_contain_text("Picking: pick 2")
    run_jobs(actx)
    expect(page.locator("#columns .column.picked .label")).to_have_text("opus")
    expect(page.locator("#between-box")).to_be_hidden()
    expect(columns.nth(1).locator(".candidate-diff .path")).to_have_count(0)
    expect(page.locator(".column .pick")).to_have_count(3)
    for button in page.locator(".column .pick").all():
        expect(button).to_be_hidden()
