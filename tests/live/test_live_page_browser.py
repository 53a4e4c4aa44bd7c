"""The live page in a real headless Chromium (Debian's package, driven by Playwright).

The app runs for real on a real port against the test Valkey; progress comes from a real
run in a `python app.py worker` subprocess, or is appended to the session's stream where
the test is about the page itself.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from playwright.sync_api import Browser, Page, Request, expect, sync_playwright
from redis import Redis

from bot.core.config import Settings
from bot.progress.lines import line_of
from bot.security.links import session_link
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.session import Person, Session, Thread
from handlers.live.page import FORBIDDEN
from jobs.steps.context import JobContext
from tests.conftest import MakeRepo, WorkerProcess, wait_until
from tests.live_server import LiveServer

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ERIN = Person("U5", "Erin")
LINES = ".ev.k-output .txt"


def chromium_path() -> str | None:
    for candidate in ("chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    if executable is None:
        pytest.skip("Debian's chromium is not installed (tests/system_deps.sh installs it as root)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


@pytest.fixture
def server(settings: Settings, redis: Redis) -> Iterator[LiveServer]:
    live = LiveServer(settings, redis).start()
    yield live
    live.stop()


@pytest.fixture
def session(ctx: JobContext, make_repo: MakeRepo) -> Session:
    return new_session(ctx, make_repo(name="gadgets"), None)


def new_session(ctx: JobContext, origin: Path, prompt: str | None) -> Session:
    thread = Thread("cli", "browser")
    started = ctx.service.run(
        lambda svc: svc.start(
            repo=str(origin), base=None, prompt=prompt, thread=thread, person=ERIN, request_id="b1"
        )
    )
    return started.session


def link(settings: Settings, server: LiveServer, session_id: str, ttl: float = 600) -> str:
    return session_link(settings, session_id, ttl).replace(settings.public_url, server.url)


def shown(page: Page) -> list[str]:
    return page.locator(LINES).all_inner_texts()


def wait_for_lines(page: Page, count: int) -> None:
    """Exactly `count` output lines (the page's CSP forbids eval, so no wait_for_function)."""
    expect(page.locator(".ev.k-output")).to_have_count(count)


AT_BOTTOM = "l => l.scrollHeight - l.scrollTop - l.clientHeight < 32"


def at_bottom(page: Page) -> bool:
    return bool(page.locator("#log").evaluate(AT_BOTTOM))


def test_lines_of_a_real_run_appear_without_reload_while_it_streams(
    settings: Settings,
    ctx: JobContext,
    make_repo: MakeRepo,
    server: LiveServer,
    page: Page,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    prompt = "print 2\nsleep 1.5\nstderr careful: flaky test\nwrite notes.txt: hello"
    session = new_session(ctx, make_repo(name="gadgets"), prompt)
    page.goto(link(settings, server, session.id))
    page.evaluate("window.loadedOnce = true")
    assert page.locator("#state").inner_text() == "initializing"

    start_worker()
    expect(page.locator(LINES).nth(1)).to_have_text("line 2")
    assert ctx.service.prompts.running(session.id) is not None  # seen while it still runs
    page.wait_for_selector(".ev.k-result")

    outputs = [
        e.text for e in ProgressStream(ctx.redis, session.id).read() if e.kind is EventKind.OUTPUT
    ]
    assert shown(page) == outputs  # every line, in order, once
    assert outputs[:3] == ["line 1", "line 2", "working…"]
    assert page.locator(".ev.stderr .txt").all_inner_texts() == ["careful: flaky test"]
    assert page.evaluate("window.loadedOnce") is True  # the same document all along
    expect(page.locator("#state")).to_have_text("ready")
    assert page.locator(".prompt .badge").inner_text() == "done"
    # Read-only: whoever holds the link watches; the toolbar and the composer are not there.
    assert page.get_by_role("toolbar").count() == 0 and page.locator("#composer").count() == 0
    expect(page.locator("#mr")).to_contain_text("not pushed")
    [result] = [
        e for e in ProgressStream(ctx.redis, session.id).read() if e.kind is EventKind.RESULT
    ]
    chips = page.locator(".ev.k-result .lchip").all_inner_texts()
    assert chips == list(line_of(result).chips)  # the same figures `watch` prints
    assert chips[0].startswith("1 file changed") and chips[-1].startswith("took ")
    page.wait_for_selector(".file summary .path")
    assert page.locator(".file summary .path").all_inner_texts() == ["notes.txt"]
    added = page.locator(".file .d2h-ins .d2h-code-line-ctn").all_inner_texts()
    assert [t.strip() for t in added] == ["hello"]


def bad_gateway() -> web.Application:
    """What a proxy answers while the web process behind it restarts."""

    async def answer(_request: web.Request) -> web.Response:
        return web.Response(status=502, text="bad gateway")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


@pytest.mark.parametrize("cut", ["server restart", "proxy answers 502 meanwhile"])
def test_after_the_stream_is_cut_it_resumes_without_gaps_or_repeats(
    settings: Settings,
    redis: Redis,
    server: LiveServer,
    session: Session,
    page: Page,
    cut: str,
) -> None:
    stream = ProgressStream(redis, session.id)

    def emit(first: int, last: int) -> list[str]:
        return [
            stream.emit(EventKind.OUTPUT, f"line {n}", stream="stdout") for n in range(first, last)
        ]

    ids = emit(0, 5)
    requests: list[Request] = []
    page.on("request", lambda r: requests.append(r) if "/events" in r.url else None)
    page.goto(link(settings, server, session.id))
    wait_for_lines(page, 5)

    server.stop()  # every open stream ends; the page keeps retrying
    emit(5, 10)  # appended while no web process runs
    expect(page.locator("#conn")).not_to_have_text("live")
    if cut == "server restart":
        page.wait_for_timeout(1200)  # at least one reconnect attempt meets a closed port
    else:  # the browser gives up on a 502; the page opens a new stream with `after=`
        gateway = LiveServer(settings, redis, port=server.port, factory=bad_gateway).start()
        expect(page.locator("#conn")).to_have_text("offline, retrying…")
        gateway.stop()
    server.start()  # the same port again
    wait_for_lines(page, 10)
    emit(10, 15)
    wait_for_lines(page, 15)

    assert shown(page) == [f"line {n}" for n in range(15)]
    resumed = [r for r in requests[1:] if r.response() and r.response().status == 200]
    assert resumed, "the page never reconnected"
    headers = resumed[0].all_headers()
    resume_from = headers.get("last-event-id") or resumed[0].url.partition("after=")[2]
    assert resume_from == ids[4]  # it asked for what came after the last line it showed
    if cut != "server restart":
        assert "after=" in resumed[0].url  # a new EventSource, which sends no Last-Event-ID


def test_the_view_follows_output_until_the_reader_scrolls_up(
    settings: Settings, redis: Redis, server: LiveServer, session: Session, page: Page
) -> None:
    stream = ProgressStream(redis, session.id)
    for n in range(120):
        stream.emit(EventKind.OUTPUT, f"line {n}", stream="stdout")
    page.goto(link(settings, server, session.id))
    wait_for_lines(page, 120)
    wait_until(lambda: at_bottom(page), timeout=5, what="the log to follow its output")

    page.locator("#log").evaluate("l => { l.scrollTop = 0; }")
    expect(page.locator("#follow")).to_have_text("↓ Follow")
    for n in range(120, 130):
        stream.emit(EventKind.OUTPUT, f"line {n}", stream="stdout")
    wait_for_lines(page, 130)
    assert page.locator("#log").evaluate("l => l.scrollTop") == 0  # the reader stays put
    assert page.locator("#follow").inner_text() == "↓ Follow (10 new)"

    page.locator("#follow").click()
    wait_until(lambda: at_bottom(page), timeout=5, what="the log to follow again")
    assert page.locator("#follow").inner_text() == "Following"


def test_an_expired_link_shows_403_and_nothing_of_the_session(
    settings: Settings, server: LiveServer, session: Session, page: Page
) -> None:
    response = page.goto(link(settings, server, session.id, ttl=-1))
    assert response is not None and response.status == 403
    body = page.locator("body").inner_text()
    assert body.strip() == FORBIDDEN
    assert "gadgets" not in page.content() and session.work_branch not in page.content()
