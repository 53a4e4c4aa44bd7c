"""Who may call the API: tokens by scope, revoked and expired ones, other people's sessions,
the rate limit, cookies that authenticate nothing, and the settings page's token section."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from redis import Redis

from bot.core.config import Settings
from bot.core.redisio import run_async
from bot.identity.signin_links import issue
from tests.api.support import Api, operator, person, revoke, token
from tests.conftest import MakeRepo, wait_until
from tests.live_server import LiveServer

PROBLEM = "application/problem+json"


@pytest.fixture
def server(settings: Settings, redis: Redis) -> Iterator[LiveServer]:
    live = LiveServer(settings.with_changes(api_rate_limit=40), redis).start()
    yield live
    live.stop()


def problem(answer: requests.Response, status: int, kind: str) -> dict[str, object]:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith(PROBLEM)
    body = answer.json()
    assert body["status"] == status and body["type"] == f"/api/v1/problems/{kind}", body
    assert body["title"] and body["detail"]
    return body


def test_no_token_or_a_bad_one_is_401_with_a_bearer_challenge(server: LiveServer) -> None:
    bare = requests.get(f"{server.url}/api/v1/sessions", timeout=10)
    problem(bare, 401, "unauthenticated")
    assert bare.headers["WWW-Authenticate"].startswith("Bearer")
    problem(Api(server.url, "rbx_" + "x" * 43).get("/sessions"), 401, "unauthenticated")
    problem(Api(server.url, "not-even-ours").get("/sessions"), 401, "unauthenticated")


def test_a_read_token_reads_and_is_refused_on_writes(
    settings: Settings, redis: Redis, server: LiveServer, make_repo: MakeRepo
) -> None:
    secret, _ = token(redis, operator(settings, redis), scopes=("read",))
    api = Api(server.url, secret)
    assert api.get("/sessions").status_code == 200
    refused = api.post("/sessions", json={"repo": str(make_repo(name="gears"))})
    body = problem(refused, 403, "insufficient-scope")
    assert "`write`" in str(body["detail"])
    assert api.get("/sessions").json()["items"] == []  # nothing was started


def test_revoked_and_expired_tokens_are_refused(
    settings: Settings, redis: Redis, server: LiveServer
) -> None:
    me = operator(settings, redis)
    secret, made = token(redis, me)
    api = Api(server.url, secret)
    assert api.get("/sessions").status_code == 200
    assert revoke(redis, me, made.id)
    problem(api.get("/sessions"), 401, "unauthenticated")
    short, _ = token(redis, me, days=1.5 / 86400)  # 1.5 seconds
    soon = Api(server.url, short)
    assert soon.get("/sessions").status_code == 200
    wait_until(lambda: soon.get("/sessions").status_code == 401, what="the token to expire")


def test_another_persons_session_is_404_and_theirs_is_not_listed(
    settings: Settings, redis: Redis, server: LiveServer, make_repo: MakeRepo
) -> None:
    admin = Api(server.url, token(redis, operator(settings, redis))[0])
    started = admin.post("/sessions", json={"repo": str(make_repo(name="cogs"))})
    assert started.status_code == 201, started.text
    session_id = started.json()["session"]["id"]
    bea = Api(server.url, token(redis, person(settings, redis, "bea"))[0])
    for path in ("", "/diff", "/events"):
        problem(bea.get(f"/sessions/{session_id}{path}"), 404, "not-found")
    problem(bea.post(f"/sessions/{session_id}/prompts", json={"prompt": "hi"}), 404, "not-found")
    problem(bea.post(f"/sessions/{session_id}/cancel"), 404, "not-found")
    assert bea.get("/sessions").json()["items"] == []
    problem(bea.get("/sessions", params={"scope": "everyone"}), 403, "forbidden")
    assert admin.get("/sessions", params={"scope": "everyone"}).json()["items"]
    # a person who is not an admin may not open a path on this machine, as on the dashboard
    refused = bea.post("/sessions", json={"repo": str(make_repo(name="cranks"))})
    assert "admin" in str(problem(refused, 403, "forbidden")["detail"])


def test_refusals_have_their_status_and_type(
    settings: Settings, redis: Redis, server: LiveServer, make_repo: MakeRepo
) -> None:
    api = Api(server.url, token(redis, operator(settings, redis))[0])
    problem(api.post("/sessions", json={"repo": ""}), 422, "invalid-request")
    body = problem(api.post("/sessions", data=b"{not json"), 422, "invalid-request")
    assert body["errors"]
    problem(api.post("/sessions", json={"repo": "x", "colour": "red"}), 422, "invalid-request")
    outside = problem(api.post("/sessions", json={"repo": "/etc"}), 403, "forbidden")
    assert "REPOBOX_LOCAL_ROOTS" in str(outside["detail"])  # the chat surfaces' own words
    problem(api.get("/sessions", params={"limit": "0"}), 422, "invalid-request")
    problem(api.get("/sessions", params={"after": "nonsense"}), 422, "refused")
    problem(api.get("/nowhere"), 404, "no-such-route")
    problem(api.call("DELETE", "/sessions"), 405, "method-not-allowed")
    started = api.post("/sessions", json={"repo": str(make_repo(name="bolts"))}).json()
    session_id = started["session"]["id"]
    assert api.post(f"/sessions/{session_id}/archive").status_code == 200
    again = api.post(f"/sessions/{session_id}/archive")
    assert "already archived" in str(problem(again, 409, "conflict")["detail"])
    problem(api.post(f"/sessions/{session_id}/pick", json={"number": 0}), 422, "invalid-request")
    bad_id = api.get(f"/sessions/{session_id}/events", headers={"Last-Event-ID": "x"})
    problem(bad_id, 400, "bad-event-id")


def test_the_rate_limit_answers_429_with_retry_after(
    settings: Settings, redis: Redis, server: LiveServer
) -> None:
    me = operator(settings, redis)
    api = Api(server.url, token(redis, me)[0])
    answers = [api.get("/sessions") for _ in range(41)]
    assert [a.status_code for a in answers[:40]] == [200] * 40
    assert answers[0].headers["RateLimit-Limit"] == "40"
    limited = problem(answers[40], 429, "rate-limited")
    assert 1 <= int(answers[40].headers["Retry-After"]) <= 60
    assert "40 requests" in str(limited["detail"])
    other = Api(server.url, token(redis, me)[0])  # the limit is per token
    assert other.get("/sessions").status_code == 200


def test_a_signed_in_browser_cookie_authenticates_nothing(
    settings: Settings, redis: Redis, server: LiveServer
) -> None:
    me = operator(settings, redis)
    browser = requests.Session()
    link = run_async(redis, lambda aredis: issue(settings, aredis, me))
    browser.get(server.url + urlsplit(link).path, timeout=10)
    assert browser.get(f"{server.url}/dashboard/", timeout=10).status_code == 200
    problem(browser.get(f"{server.url}/api/v1/sessions", timeout=10), 401, "unauthenticated")


def test_the_settings_page_makes_a_token_once_and_revokes_it(
    settings: Settings, redis: Redis, server: LiveServer
) -> None:
    me = operator(settings, redis)
    browser = requests.Session()
    link = run_async(redis, lambda aredis: issue(settings, aredis, me))
    page = browser.get(server.url + urlsplit(link).path, timeout=10)
    page = browser.get(f"{server.url}/account/settings", timeout=10)
    assert "API tokens" in page.text and "No API tokens yet" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    made = browser.post(
        f"{server.url}/account/settings/api-tokens",
        data={"csrf": csrf.group(1), "name": "CI on main", "days": "30", "scope": "read"},
        timeout=10,
    )
    found = re.search(r'value="(rbx_[A-Za-z0-9_-]+)"', made.text)
    assert made.status_code == 200 and found, made.text
    assert made.headers["Cache-Control"] == "no-store"
    secret = found.group(1)
    assert not any(secret in str(v) for k in redis.keys("*") for v in [k])  # only its hash
    api = Api(server.url, secret)
    assert api.get("/sessions").status_code == 200
    again = browser.get(f"{server.url}/account/settings", timeout=10)
    assert secret not in again.text and "CI on main" in again.text and "last used" in again.text
    token_id = re.search(r"/account/settings/api-tokens/([0-9a-f]+)/revoke", again.text)
    assert token_id
    browser.post(
        f"{server.url}/account/settings/api-tokens/{token_id.group(1)}/revoke",
        data={"csrf": csrf.group(1)},
        timeout=10,
    )
    problem(api.get("/sessions"), 401, "unauthenticated")
    forged = browser.post(
        f"{server.url}/account/settings/api-tokens",
        data={"name": "no csrf", "days": "30", "scope": "read"},
        timeout=10,
    )
    assert forged.status_code == 403
