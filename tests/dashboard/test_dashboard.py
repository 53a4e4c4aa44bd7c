"""The dashboard in the real web app (`build_app`) on a real port, driven like a browser:
real cookies, the one-time operator link, forms with their CSRF tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from redis import Redis

from bot.core.config import Settings
from bot.core.redisio import run_async
from bot.identity.people import Identity
from bot.identity.signin_links import issue
from handlers.cli.login import operator_link
from tests.accounts_support import SyncAccounts
from tests.conftest import MakeRepo
from tests.live_server import LiveServer


@pytest.fixture
def server(settings: Settings, redis: Redis) -> Iterator[LiveServer]:
    live = LiveServer(settings, redis).start()
    yield live
    live.stop()


def local(server: LiveServer, link: str) -> str:
    return server.url + urlsplit(link).path


def csrf_of(page: requests.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def signed_in_as_operator(server: LiveServer, settings: Settings, redis: Redis) -> requests.Session:
    browser = requests.Session()
    browser.get(local(server, operator_link(settings, redis)))
    return browser


def signed_in_as(
    server: LiveServer, settings: Settings, redis: Redis, name: str
) -> requests.Session:
    accounts = SyncAccounts(settings, redis)
    person = accounts.person_for(Identity.slack("T1", name), name)
    browser = requests.Session()
    link = run_async(redis, lambda aredis: issue(settings, aredis, person.id))
    browser.get(local(server, link))
    return browser


def test_a_newcomer_sees_what_to_configure_and_how_to_sign_in(server: LiveServer) -> None:
    home = requests.get(f"{server.url}/", timeout=10)
    assert home.status_code == 200
    assert "What to configure next" in home.text
    assert "ANTHROPIC_API_KEY" not in home.text  # the test settings run a command agent
    assert "GITHUB_CLIENT_ID" in home.text and "SLACK_BOT_TOKEN" in home.text
    assert "./dev login" in home.text and 'href="/account/signin"' in home.text
    signin = requests.get(f"{server.url}/account/signin", timeout=10)
    assert signin.status_code == 200 and "./dev login" in signin.text


def test_signed_out_dashboard_pages_send_people_to_sign_in_and_back(
    server: LiveServer, settings: Settings, redis: Redis
) -> None:
    for path in ("/dashboard/", "/dashboard/health", "/dashboard/sessions/abc"):
        answer = requests.get(f"{server.url}{path}", allow_redirects=False, timeout=10)
        assert answer.status_code == 303, path
        assert answer.headers["Location"].startswith("/account/signin?next="), path
    browser = requests.Session()
    asked = browser.get(f"{server.url}/dashboard/health?x=1")
    assert asked.url.startswith(f"{server.url}/account/signin") and "Sign in" in asked.text
    landed = browser.get(local(server, operator_link(settings, redis)))
    assert landed.url == f"{server.url}/dashboard/health?x=1"  # where they were going
    for elsewhere in ("https://evil.example/", "//evil.example/", "/account/signout"):
        stranger = requests.Session()
        stranger.get(f"{server.url}/account/signin", params={"next": elsewhere})
        landed = stranger.get(local(server, operator_link(settings, redis)))
        assert landed.url == f"{server.url}/dashboard/", elsewhere


def test_start_a_session_send_a_prompt_and_ask_its_status(
    server: LiveServer, settings: Settings, redis: Redis, make_repo: MakeRepo
) -> None:
    browser = signed_in_as_operator(server, settings, redis)
    home = browser.get(f"{server.url}/")
    assert home.url == f"{server.url}/dashboard/" and "Start a session" in home.text
    origin = make_repo(name="gadgets")
    started = browser.post(
        f"{server.url}/dashboard/start",
        data={"csrf": csrf_of(home), "repo": str(origin), "base": "", "prompt": "add a README"},
    )
    assert re.search(r"/dashboard/sessions/[\w-]+$", started.url), started.url
    assert "Started session" in started.text and "gadgets" in started.text
    assert 'action="/dashboard/sessions/' in started.text and "Ship" in started.text
    assert "add a README" in started.text  # the first prompt in the live log's history
    session_url = started.url
    status = browser.post(f"{session_url}/status", data={"csrf": csrf_of(started)})
    assert status.url == session_url
    assert re.search(r"Session [\w-]+ is \w+", status.text), status.text
    queued = browser.post(
        f"{session_url}/prompt", data={"csrf": csrf_of(status), "prompt": "and a licence"}
    )
    assert "Prompt 2 queued" in queued.text
    listing = browser.get(f"{server.url}/dashboard/")
    assert "gadgets" in listing.text and "Your sessions" in listing.text
    everyone = browser.get(f"{server.url}/dashboard/?scope=everyone")
    assert "gadgets" in everyone.text and "Everyone's sessions" in everyone.text


def test_forms_without_the_csrf_token_are_refused(
    server: LiveServer, settings: Settings, redis: Redis, make_repo: MakeRepo
) -> None:
    browser = signed_in_as_operator(server, settings, redis)
    refused = browser.post(
        f"{server.url}/dashboard/start", data={"repo": str(make_repo(name="gadgets"))}
    )
    assert refused.status_code == 403 and "did not come from Repobox" in refused.text
    forged = browser.post(f"{server.url}/dashboard/start", data={"csrf": "guess", "repo": "x"})
    assert forged.status_code == 403
    assert redis.zcard("repobox:sessions") == 0 or not browser.get(
        f"{server.url}/dashboard/"
    ).text.count("/dashboard/sessions/")


def test_people_see_only_their_own_sessions_and_admins_see_the_health_page(
    server: LiveServer, settings: Settings, redis: Redis, make_repo: MakeRepo
) -> None:
    operator = signed_in_as_operator(server, settings, redis)
    home = operator.get(f"{server.url}/dashboard/")
    started = operator.post(
        f"{server.url}/dashboard/start",
        data={"csrf": csrf_of(home), "repo": str(make_repo(name="gadgets"))},
    )
    erin = signed_in_as(server, settings, redis, "erin")
    mine = erin.get(f"{server.url}/dashboard/")
    assert "Your sessions" in mine.text and "gadgets" not in mine.text
    assert erin.get(started.url).status_code == 404
    assert erin.get(f"{server.url}/dashboard/health").status_code == 403
    health = operator.get(f"{server.url}/dashboard/health")
    assert health.status_code == 200
    for name in ("Secret key", "Slack", "Redis", "Disk"):
        assert name in health.text
    assert "not set up" in health.text  # Slack is not configured in tests: said, not failed
