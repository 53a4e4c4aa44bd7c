"""The workspace's actions over real HTTP: what the toolbar's fetch gets back (JSON with a
message, never a traceback), what a plain form gets (the redirect and the notice), and
the merge request's state as the page first shows it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from redis import Redis

from bot.core.config import Settings
from bot.sessions.session import Person, Session, Thread
from handlers.cli.login import operator_link
from jobs.steps.context import JobContext
from tests.conftest import MakeRepo, run_jobs
from tests.live_server import LiveServer

DANA = Person("U7", "Dana")
JSON = {"Accept": "application/json"}


@pytest.fixture
def server(settings: Settings, redis: Redis) -> Iterator[LiveServer]:
    live = LiveServer(settings, redis).start()
    yield live
    live.stop()


@pytest.fixture
def session(ctx: JobContext, make_repo: MakeRepo) -> Session:
    origin = make_repo(name="gizmos")
    started = ctx.service.run(
        lambda svc: svc.start(
            repo=str(origin),
            base=None,
            prompt=None,
            thread=Thread("cli", "actions"),
            person=DANA,
            request_id="a1",
        )
    )
    run_jobs(ctx)  # the workdir is ready
    return started.session


def operator(server: LiveServer, settings: Settings, redis: Redis) -> requests.Session:
    browser = requests.Session()
    browser.get(server.url + urlsplit(operator_link(settings, redis)).path, timeout=10)
    return browser


def workspace(browser: requests.Session, server: LiveServer, session: Session) -> tuple[str, str]:
    page = browser.get(f"{server.url}/dashboard/sessions/{session.id}", timeout=10)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    return page.text, found.group(1)


def post(
    browser: requests.Session, server: LiveServer, session: Session, action: str, **form: str
) -> requests.Response:
    return browser.post(
        f"{server.url}/dashboard/sessions/{session.id}/{action}",
        data=form,
        headers=JSON,
        allow_redirects=False,
        timeout=10,
    )


def test_the_toolbar_gets_json_answers_and_mistakes_are_said_not_raised(
    settings: Settings, redis: Redis, server: LiveServer, session: Session
) -> None:
    browser = operator(server, settings, redis)
    page, csrf = workspace(browser, server, session)
    assert 'role="toolbar"' in page and 'id="composer"' in page
    for action in ("ship", "undo", "archive"):
        assert f'action="/dashboard/sessions/{session.id}/{action}"' in page

    sent = post(browser, server, session, "prompt", csrf=csrf, prompt="add a changelog")
    assert (sent.status_code, sent.json()) == (
        200,
        {"ok": True, "message": "Prompt 1 queued (next to run)."},
    )
    assert sent.headers["Cache-Control"] == "no-store"
    empty = post(browser, server, session, "prompt", csrf=csrf, prompt="   ")
    assert (empty.status_code, empty.json()) == (
        409,
        {"ok": False, "message": "Type a prompt first."},
    )
    for number in ("", "abc", "-1", "99999"):
        bad = post(browser, server, session, "pick", csrf=csrf, number=number)
        assert bad.status_code == 409 and bad.json()["message"] == "Pick a candidate by its number."
    nothing = post(browser, server, session, "pick", csrf=csrf, number="2")
    assert nothing.status_code == 409 and "compar" in nothing.json()["message"].lower()
    undo = post(browser, server, session, "undo", csrf=csrf)
    assert undo.json() == {
        "ok": True,
        "message": "Undo queued (request 2): it takes back the last run.",
    }

    assert post(browser, server, session, "nosuch", csrf=csrf).status_code == 404
    assert post(browser, server, session, "ship").status_code == 403  # no CSRF token
    by_header = browser.post(
        f"{server.url}/dashboard/sessions/{session.id}/status",
        headers={**JSON, "X-CSRF-Token": csrf},
        timeout=10,
    )
    assert by_header.json()["ok"] is True and by_header.json()["message"].startswith("Session ")

    # A plain form (no script) still gets the redirect, and the notice on the next page.
    plain = browser.post(
        f"{server.url}/dashboard/sessions/{session.id}/prompt",
        data={"csrf": csrf, "prompt": "and a licence"},
        allow_redirects=False,
        timeout=10,
    )
    assert plain.status_code == 303
    shown, _ = workspace(browser, server, session)
    assert "Prompt 3 queued" in shown


def test_the_workspace_keeps_to_the_csp_and_the_signed_page_has_no_actions(
    settings: Settings, redis: Redis, server: LiveServer, session: Session
) -> None:
    browser = operator(server, settings, redis)
    answer = browser.get(f"{server.url}/dashboard/sessions/{session.id}", timeout=10)
    policy = answer.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "script-src 'self'" in policy
    assert "<script>" not in answer.text and " style=" not in answer.text
    for asset in re.findall(r'(?:src|href)="(/(?:ui/)?static/[^"]+)"', answer.text):
        assert requests.get(server.url + asset, timeout=10).status_code == 200, asset


def test_the_merge_request_reads_not_pushed_then_pushed_without_one(
    settings: Settings, redis: Redis, ctx: JobContext, server: LiveServer, session: Session
) -> None:
    browser = operator(server, settings, redis)
    page, csrf = workspace(browser, server, session)
    assert "not pushed" in page and "Nothing pushed yet" in page
    assert "not shipped yet" not in page
    post(browser, server, session, "prompt", csrf=csrf, prompt="write notes.txt: hi")
    post(browser, server, session, "ship", csrf=csrf)
    run_jobs(ctx)
    assert ctx.service.sessions.get(session.id).state.value == "pushed"
    page, _ = workspace(browser, server, session)
    mr = re.search(r'<span id="mr"[^>]*data-phase="(\w+)"[^>]*>(.*?)</span>\s*</span>', page, re.S)
    assert mr and mr.group(1) == "pushed"
    text = re.sub(r"<[^>]+>|\s+", " ", mr.group(2))
    assert "pushed" in text and "no merge request yet" in text and "not pushed" not in text
