"""The admins' Budgets page: caps listed with this period's spend, edited with a
CSRF-protected form, stored in Redis over REPOBOX_BUDGETS, and used by the very next prompt.
Real web app on a real port, driven like a browser (cookies, forms, CSRF tokens)."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from redis import Redis

from bot.core import keys
from bot.core.budget_rules import parse_budgets
from bot.core.config import Settings
from bot.sessions.budgets import period_id
from tests.conftest import MakeRepo
from tests.dashboard.test_dashboard import csrf_of, signed_in_as, signed_in_as_operator
from tests.live_server import LiveServer


@pytest.fixture
def capped(settings: Settings) -> Settings:
    return settings.with_changes(budgets=parse_budgets("deployment:100usd/day"))


@pytest.fixture
def server(capped: Settings, redis: Redis) -> Iterator[LiveServer]:
    live = LiveServer(capped, redis).start()
    yield live
    live.stop()


def test_an_admin_lowers_a_cap_and_the_next_prompt_is_refused_with_the_new_figure(
    server: LiveServer, capped: Settings, redis: Redis, make_repo: MakeRepo
) -> None:
    admin = signed_in_as_operator(server, capped, redis)
    page = admin.get(f"{server.url}/dashboard/budgets")
    assert page.status_code == 200
    assert "100 USD a day for this deployment" in page.text
    assert "Set by the operator, in REPOBOX_BUDGETS" in page.text
    redis.hset(keys.spend(period_id("day", datetime.now(UTC))), "deployment:usd", 3.0)
    assert "the whole deployment: 3.00 USD (3%)" in admin.get(page.url).text

    bad = admin.post(
        f"{server.url}/dashboard/budgets/add", data={"csrf": csrf_of(page), "rule": "team:5usd"}
    )
    assert bad.status_code == 400 and "the scope must be one of" in html.unescape(bad.text)
    changed = admin.post(
        f"{server.url}/dashboard/budgets/add",
        data={"csrf": csrf_of(page), "rule": "deployment:2usd/day"},
    )
    text = html.unescape(changed.text)
    assert "Changed the cap: 2 USD a day for this deployment." in text
    assert "100 USD" not in text and "the whole deployment: 3.00 USD (100%)" in text
    assert "on the dashboard" in text

    home = admin.get(f"{server.url}/dashboard/")
    refused = admin.post(
        f"{server.url}/dashboard/start",
        data={"csrf": csrf_of(home), "repo": str(make_repo()), "prompt": "add a README"},
    )
    said = html.unescape(refused.text)
    assert refused.status_code == 400
    assert "The budget of 2 USD a day for this deployment is spent (3.00 USD" in said
    assert "on the dashboard" in said and "REPOBOX_BUDGETS" not in said.split("spent")[1][:200]

    removed = admin.post(
        f"{server.url}/dashboard/budgets/remove",
        data={"csrf": csrf_of(page), "rule": "deployment:2usd/day"},
    )
    assert "Removed the cap deployment:2usd/day." in html.unescape(removed.text)
    assert "No caps: nothing stops spending." in removed.text
    back = admin.post(f"{server.url}/dashboard/budgets/default", data={"csrf": csrf_of(page)})
    assert "100 USD a day for this deployment" in back.text


def test_only_admins_see_or_change_the_caps(
    server: LiveServer, capped: Settings, redis: Redis
) -> None:
    erin = signed_in_as(server, capped, redis, "erin")
    assert erin.get(f"{server.url}/dashboard/budgets").status_code == 403
    home = erin.get(f"{server.url}/dashboard/")
    tried = erin.post(
        f"{server.url}/dashboard/budgets/add",
        data={"csrf": csrf_of(home), "rule": "deployment:1000000usd/day"},
    )
    assert tried.status_code == 403
    assert redis.exists(keys.budget_caps()) == 0
    admin = signed_in_as_operator(server, capped, redis)
    page = admin.get(f"{server.url}/dashboard/budgets")
    forged = admin.post(f"{server.url}/dashboard/budgets/add", data={"rule": "person:1usd/day"})
    assert forged.status_code == 403 and "100 USD a day" in admin.get(page.url).text
